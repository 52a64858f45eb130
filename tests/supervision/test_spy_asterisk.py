"""Listen, whisper and barge on real Asterisk: who hears the supervisor's 2 kHz tone (Goertzel)."""
from __future__ import annotations

import pytest

from ivr.storage.models import AuditEntry
from tests.support.supervision_lab import SUPERVISOR_HZ
from tests.transfer.support import tone_flowing

pytestmark = pytest.mark.asterisk


async def start_spy(lab, mode: str, agent: str = "g1") -> dict:
    since = len(lab.ami.events)
    async with lab.http("sup") as http:
        r = await http.post("/api/supervision/spy", json={"agent": agent, "mode": mode})
        body = await r.json()
        assert r.status == 202, body
    await lab.ami.wait_for(lambda e: e.get("UserEvent") == "HotlineSupervise" and e.get("Mode") == mode, since=since)
    await lab.ami.wait_for(lambda e: e.get("UserEvent") == "SupPhone", since=since)
    return body


async def test_whisper_reaches_the_agent_only(lab):
    tag, sim = await lab.answered_call("g1")
    body = await start_spy(lab, "whisper")
    assert body["agent"] == "g1" and body["call_id"]
    assert await tone_flowing(lab.agent_heard(sim), SUPERVISOR_HZ) > 0.6      # the agent hears the supervisor
    assert await tone_flowing(lab.caller_heard(tag), SUPERVISOR_HZ) < 0.05    # the caller does not
    store = lab.server.services.store
    await store.flush()
    rows = store.run_sync(lambda s: [(a.actor, a.action, a.record_type, a.record_id, a.detail["agent"])
                                     for a in s.query(AuditEntry).filter_by(action="whisper")])
    assert rows == [("sup", "whisper", "call", body["call_id"], "g1")]


async def test_barge_reaches_both_and_listen_neither(lab):
    tag, sim = await lab.answered_call("g1")
    await start_spy(lab, "barge")
    assert await tone_flowing(lab.agent_heard(sim), SUPERVISOR_HZ) > 0.6
    assert await tone_flowing(lab.caller_heard(tag), SUPERVISOR_HZ) > 0.6
    await lab.hangup_all()
    tag, sim = await lab.answered_call("g1")
    await start_spy(lab, "listen")
    assert await tone_flowing(lab.agent_heard(sim), SUPERVISOR_HZ) < 0.05
    assert await tone_flowing(lab.caller_heard(tag), SUPERVISOR_HZ) < 0.05


async def test_refusals(lab):
    await lab.login("g2")  # logged in, not on a call
    async with lab.http("g1") as http:  # an agent cannot spy
        r = await http.post("/api/supervision/spy", json={"agent": "g2", "mode": "listen"})
        assert r.status == 403
    async with lab.http("sup") as http:
        for body, status in (({"agent": "nobody", "mode": "listen"}, 404),
                             ({"agent": "g1;Hangup", "mode": "listen"}, 404),
                             ({"agent": "g2", "mode": "shout"}, 400),
                             ({"agent": "g2", "mode": "barge"}, 409),
                             ("not an object", 400)):
            r = await http.post("/api/supervision/spy", json=body)
            assert r.status == status, (body, await r.text())
    channels = await lab.ami.action({"Action": "CoreShowChannels"})
    assert not [e for e in channels if e.get("Event") == "CoreShowChannel"], "a refused request rang a phone"
