"""Every ticket draft delivered to a person writes an audit row: the pop (event),
the resync on (re)connect, and the call list (issue 11, item 5); recording reads
write a `recording` row."""
from __future__ import annotations

import aiohttp

from ivr.storage import repo
from tests.support.web_support import CALL, TOKEN, connect, pop_payload, recv, serve, services, store  # noqa: F401

TICKET = {"id": "T20261204-0001", "summary": "噪音投诉", "content": "楼下施工"}


def _delivered(st, ticket_id: str) -> list[dict]:
    st.wait_idle()
    return [e for e in st.run_sync(repo.audit_entries, record_type="ticket", record_id=ticket_id, limit=100)
            if e["action"] == "deliver"]


async def test_pop_resync_and_supervisor_list_are_audited(store):  # noqa: F811
    svc = services(store=store)
    async with serve(svc) as base, aiohttp.ClientSession() as http:
        agent, _ = await connect(http, base, "agent1001")
        sup, _ = await connect(http, base, "super01")
        assert (await recv(agent))["type"] == "resync" and (await recv(sup))["type"] == "resync"

        await svc.hub.publish("agent1001", "ring", pop_payload(CALL, ticket=TICKET))
        assert (await recv(agent))["payload"]["ticket"]["id"] == TICKET["id"]
        assert (await recv(sup))["payload"]["ticket"]["id"] == TICKET["id"]
        rows = _delivered(store, TICKET["id"])
        assert {(r["actor"], r["detail"]["via"]) for r in rows} == {("agent1001", "event"), ("super01", "event")}
        assert all(r["source"] == "127.0.0.1" and r["detail"]["part"] == "draft" for r in rows)
        # the previous ticket shown in the pop's history is audited too
        history = [e for e in store.run_sync(repo.audit_entries, record_id="T20261120-0003")
                   if e["action"] == "deliver"]
        assert {r["actor"] for r in history} == {"agent1001", "super01"}
        await agent.close()
        await sup.close()

        # a console reconnecting gets the draft in its resync: audited
        again, _ = await connect(http, base, "agent1001")
        resync = await recv(again)
        assert resync["type"] == "resync" and resync["calls"][0]["ticket"]["id"] == TICKET["id"]
        await again.close()
        assert ("agent1001", "resync") in {(r["actor"], r["detail"]["via"]) for r in _delivered(store, TICKET["id"])}

        # the supervisor's list of every call
        resp = await http.get(f"{base}/api/calls/mine?all=1", headers={"Authorization": f"Bearer {TOKEN['super01']}"})
        assert resp.status == 200 and (await resp.json())["calls"][0]["ticket"]["id"] == TICKET["id"]
        rows = _delivered(store, TICKET["id"])
        assert ("super01", "list") in {(r["actor"], r["detail"]["via"]) for r in rows}
        assert all(r["detail"]["call_id"] == CALL for r in rows)


def test_recording_read_is_audited(store):  # noqa: F811
    store.run_sync(repo.log_recording_read, "operator", "/var/lib/hotline/recordings/1700000000.1-in.wav",
                   "hotline asr", "transcribe")
    rows = store.run_sync(repo.audit_entries, record_type="recording")
    assert [(r["actor"], r["action"], r["record_id"], r["source"]) for r in rows] == [
        ("operator", "transcribe", "1700000000.1-in.wav", "hotline asr")]
