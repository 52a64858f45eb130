"""Real Asterisk + the real recognizer: a recorded call is transcribed side by side and scored in the
background; supervisors see the score over HTTP and a human grader's override is audited."""
from __future__ import annotations

import pytest

from ivr.config.recordings_model import QA_RULES
from ivr.storage import repo as core
from tests.recordings.lab import scored

pytestmark = pytest.mark.asterisk


async def test_recorded_call_is_scored_and_overridden(reclab, recorded):
    _call, _agent, row = recorded
    qa = await scored(reclab, row["id"])
    assert [r["rule"] for r in qa["rules"]] == list(QA_RULES)
    assert 0 <= qa["score"] <= 100 and qa["model"]
    assert set(qa["transcript"]) == {"caller", "agent"}
    # tones are no greeting: the agent never said 您好 within 5 s
    assert not next(r for r in qa["rules"] if r["rule"] == "greeting")["passed"]

    async with reclab.http("a1") as http:
        async with http.get("/api/qa") as resp:
            assert resp.status == 403
        async with http.post(f"/api/recordings/{row['id']}/qa/override", json={"score": 100}) as resp:
            assert resp.status == 403
    async with reclab.http("sup") as http:
        async with http.get("/api/qa") as resp:
            assert resp.status == 200
            assert row["id"] in [s["recording_id"] for s in (await resp.json())["scores"]]
        async with http.post(f"/api/recordings/{row['id']}/qa/override", json={"score": 101}) as resp:
            assert resp.status == 400
        async with http.post(f"/api/recordings/{row['id']}/qa/override",
                             json={"score": 88, "note": "测试音，人工复核"}) as resp:
            assert resp.status == 200
            body = await resp.json()
    assert body["final_score"] == 88 and body["override"]["by"] == "sup"
    audit = await reclab.server.services.store.run(core.audit_entries, record_type="recording",
                                                   record_id=row["rec_id"], actor="sup")
    change = next(a for a in audit if a["action"] == "qa_override")
    assert change["detail"] == {"from": qa["score"], "to": 88, "note": "测试音，人工复核"}
