"""The console's HTTP API against the real storage (SQLite in a temp dir) and a real server."""
from __future__ import annotations

import aiohttp
import pytest

from ivr.storage import repo
from tests.support.web_support import (CALL, CALLER, CALLER_MASKED, TOKEN, RecordingTransfers, connect, pop_payload, recv,
                               serve, services, store)  # noqa: F401 (store is a fixture)



def auth(agent: str) -> dict:
    return {"Authorization": f"Bearer {TOKEN[agent]}"}




@pytest.fixture
def ticket_id(store) -> str:
    return store.run_sync(repo.new_ticket, call=CALL)


def audit(store, ticket: str) -> list[tuple[str, str, str | None]]:
    """A person's reads/writes of the ticket (drafts pushed to consoles: tests/security/test_audit.py)."""
    store.wait_idle()
    rows = store.run_sync(repo.audit_entries, record_type="ticket", record_id=ticket)
    return [(a["actor"], a["action"], a["source"]) for a in reversed(rows) if a["action"] != "deliver"]


async def test_agent_edits_saves_and_reads_the_draft_with_audit(store, ticket_id):
    svc = services(store=store)
    await svc.hub.publish("agent1001", "answer", pop_payload(ticket={"id": ticket_id}))
    async with serve(svc) as base, aiohttp.ClientSession() as s:
        ws, _ = await connect(s, base, "agent1001")
        await recv(ws)  # resync with the call
        draft = {"category": "咨询", "summary": "养老保险转移", "content": "来电人从外地调入，询问养老保险关系转移手续。",
                 "caller_name": "王先生", "address": "白银区人民路1号", "urgency": "normal"}
        async with s.put(f"{base}/api/tickets/{ticket_id}", json=draft, headers=auth("agent1001")) as r:
            assert r.status == 200
            saved = await r.json()
        assert {k: saved[k] for k in ("id", "call_id", "summary", "content", "updated_by")} == {
            "id": ticket_id, "call_id": CALL, "summary": "养老保险转移", "content": draft["content"],
            "updated_by": "agent1001"}
        assert saved["extra"] == {"urgency": "normal"}
        # the server-side store has it
        stored = store.run_sync(repo.ticket_draft, ticket_id)
        assert stored["summary"] == "养老保险转移" and stored["caller_name"] == "王先生"
        # the agent's console hears the saved draft as an update of the call
        update = await recv(ws)
        assert update["kind"] == "update" and update["payload"] == {"call_id": CALL, "ticket": saved}

        async with s.get(f"{base}/api/tickets/{ticket_id}", headers=auth("agent1001")) as r:
            assert r.status == 200 and (await r.json())["summary"] == "养老保险转移"
        async with s.get(f"{base}/api/tickets/{ticket_id}", headers=auth("agent1002")) as r:
            assert r.status == 403
        async with s.get(f"{base}/api/tickets/{ticket_id}", headers=auth("super01")) as r:
            assert r.status == 200
        await ws.close()
    assert audit(store, ticket_id) == [("agent1001", "update", "127.0.0.1"), ("agent1001", "read", "127.0.0.1"),
                                       ("agent1002", "denied", "127.0.0.1"), ("super01", "read", "127.0.0.1")]


async def test_wrap_up_after_hangup_and_after_a_restart(store, ticket_id):
    svc = services(store=store)
    await svc.hub.publish("agent1001", "answer", pop_payload(ticket={"id": ticket_id}))
    await svc.hub.publish("agent1001", "hangup", {"call_id": CALL})
    async with serve(svc) as base, aiohttp.ClientSession() as s:
        async with s.put(f"{base}/api/tickets/{ticket_id}", json={"summary": "挂机后补录"}, headers=auth("agent1001")) as r:
            assert r.status == 200
    # a new process knows nothing in memory: the stored call's agent decides
    async with serve(services(store=store)) as base, aiohttp.ClientSession() as s:
        async with s.put(f"{base}/api/tickets/{ticket_id}", json={"summary": "重启后补录"}, headers=auth("agent1001")) as r:
            assert r.status == 200 and (await r.json())["summary"] == "重启后补录"
        async with s.put(f"{base}/api/tickets/{ticket_id}", json={"summary": "x"}, headers=auth("agent1002")) as r:
            assert r.status == 403
    assert store.run_sync(repo.ticket_draft, ticket_id)["summary"] == "重启后补录"


@pytest.mark.parametrize("body,status,detail", [
    ({"summary": {"nested": 1}}, 400, "summary must be text"),
    ({"updated_by": "agent9"}, 400, "updated_by is read-only"),
    ({"id": "T19990101-0001"}, 400, "does not match"),
    ({"status": "teleported"}, 400, "unknown ticket status"),
    ({"Bad Key": "x"}, 400, "malformed field name"),
    ({"content": "长" * 20001}, 400, "longer than"),
    (["summary"], 400, "JSON object"),
])
async def test_bad_ticket_bodies_are_refused_clearly(store, ticket_id, body, status, detail):
    svc = services(store=store)
    await svc.hub.publish("agent1001", "answer", pop_payload(ticket={"id": ticket_id}))
    async with serve(svc) as base, aiohttp.ClientSession() as s:
        async with s.put(f"{base}/api/tickets/{ticket_id}", json=body, headers=auth("agent1001")) as r:
            assert r.status == status
            assert detail in (await r.json())["detail"]
        async with s.put(f"{base}/api/tickets/{ticket_id}", data=b"{oops", headers=auth("agent1001")) as r:
            assert r.status == 400 and (await r.json())["detail"] == "the body must be JSON"
    assert store.run_sync(repo.ticket_draft, ticket_id)["summary"] is None


async def test_unknown_ticket_and_missing_storage():
    async with serve(services()) as base, aiohttp.ClientSession() as s:
        async with s.get(f"{base}/api/tickets/T20261121-0001", headers=auth("agent1001")) as r:
            assert r.status == 503
        async with s.get(f"{base}/api/tickets/..%2Fetc", headers=auth("agent1001")) as r:
            assert r.status in (400, 404)


async def test_unknown_ticket_is_404(store):
    async with serve(services(store=store)) as base, aiohttp.ClientSession() as s:
        async with s.get(f"{base}/api/tickets/T20991231-0042", headers=auth("super01")) as r:
            assert r.status == 404


async def test_transfer_own_call_reaches_the_transfer_service():
    rec = RecordingTransfers()
    svc = services(transfers=rec)
    await svc.hub.publish("agent1001", "answer", pop_payload())
    async with serve(svc) as base, aiohttp.ClientSession() as s:
        ws, _ = await connect(s, base, "agent1001")
        await recv(ws)
        url = f"{base}/api/calls/{CALL}/transfer"
        async with s.post(url, json={"kind": "subcenter", "target": "tax", "mode": "threeway"},
                          headers=auth("agent1001")) as r:
            assert r.status == 202
            assert await r.json() == {"ok": True, "call_id": CALL, "kind": "subcenter", "target": "tax",
                                      "label": "12366 税务分中心",
                                      "mode": "threeway", "by": "agent1001", "result": {"transfer_id": 1}}
        assert rec.calls == [{"call_id": CALL, "kind": "subcenter", "target": "tax", "mode": "threeway",
                              "agent": "agent1001"}]
        progress = await recv(ws)
        assert progress["kind"] == "transfer" and progress["payload"] == {"call_id": CALL, "transfer": {
            "kind": "subcenter", "target": "tax", "label": "12366 税务分中心", "mode": "threeway", "by": "agent1001",
            "status": "requested"}}

        async with s.post(url, json={"kind": "emergency", "target": "119"}, headers=auth("agent1001")) as r:
            assert r.status == 202 and (await r.json())["mode"] == "threeway"  # the default for 119
        async with s.post(url, json={"kind": "expert", "target": "hrss-expert", "mode": "blind"},
                          headers=auth("super01")) as r:
            assert r.status == 202  # a supervisor may act on any call
        assert [(c["kind"], c["target"], c["agent"]) for c in rec.calls] == [
            ("subcenter", "tax", "agent1001"), ("emergency", "119", "agent1001"), ("expert", "hrss-expert", "super01")]
        await ws.close()


@pytest.mark.parametrize("agent,call,body,status", [
    ("agent1002", CALL, {"kind": "subcenter", "target": "tax"}, 403),        # not their call
    ("agent1001", "1700000000.9", {"kind": "subcenter", "target": "tax"}, 404),  # no such call
    ("agent1001", CALL, {"kind": "teleport", "target": "tax"}, 400),
    ("agent1001", CALL, {"kind": "subcenter", "target": "mars"}, 400),       # not configured
    ("agent1001", CALL, {"kind": "emergency", "target": "911"}, 400),
    ("agent1001", CALL, {"kind": "subcenter", "target": "tax", "mode": "psychic"}, 400),
    ("agent1001", CALL, {"kind": "subcenter", "target": 12366}, 400),
    ("agent1001", "bad id!", {"kind": "subcenter", "target": "tax"}, 400),
])
async def test_transfer_refusals(agent, call, body, status):
    rec = RecordingTransfers()
    svc = services(transfers=rec)
    await svc.hub.publish("agent1001", "answer", pop_payload())
    async with serve(svc) as base, aiohttp.ClientSession() as s:
        async with s.post(f"{base}/api/calls/{call}/transfer", json=body, headers=auth(agent)) as r:
            assert r.status == status
            assert (await r.json())["detail"]
    assert rec.calls == []


async def test_transfer_before_answer_service_missing_or_failing():
    class Failing:
        def __init__(self, exc: Exception) -> None:
            self.exc = exc

        async def transfer(self, **kw):
            raise self.exc

    svc = services()
    await svc.hub.publish("agent1001", "ring", pop_payload())
    body = {"kind": "subcenter", "target": "tax"}
    async with serve(svc) as base, aiohttp.ClientSession() as s:
        url = f"{base}/api/calls/{CALL}/transfer"
        async with s.post(url, json=body, headers=auth("agent1001")) as r:
            assert r.status == 403  # still ringing: nobody owns it yet
        await svc.hub.publish("agent1001", "answer", pop_payload())
        async with s.post(url, json=body, headers=auth("agent1001")) as r:
            assert r.status == 503
        svc.transfers = Failing(ValueError("sub-center trunk is down"))
        async with s.post(url, json=body, headers=auth("agent1001")) as r:
            assert r.status == 409 and (await r.json())["detail"] == "sub-center trunk is down"
        svc.transfers = Failing(RuntimeError("boom"))
        async with s.post(url, json=body, headers=auth("agent1001")) as r:
            assert r.status == 502
        async with s.get(f"{base}/api/calls/mine", headers=auth("agent1001")) as r:
            assert r.status == 200  # the server goes on
            last = (await r.json())["calls"][0]["transfer"]
        assert last["status"] == "failed"


async def test_my_calls_and_options():
    svc = services()
    await svc.hub.publish("agent1001", "answer", pop_payload())
    async with serve(svc) as base, aiohttp.ClientSession() as s:
        async with s.get(f"{base}/api/calls/mine", headers=auth("agent1001")) as r:
            [call] = (await r.json())["calls"]
            assert call["caller"] == CALLER and call["status"] == "answered"
        async with s.get(f"{base}/api/calls/mine", headers=auth("agent1002")) as r:
            assert (await r.json())["calls"] == []
        async with s.get(f"{base}/api/calls/mine?all=1", headers=auth("super01")) as r:
            [call] = (await r.json())["calls"]
            assert call["caller"] == CALLER_MASKED
        async with s.get(f"{base}/api/options", headers=auth("agent1001")) as r:
            opts = await r.json()
        assert opts["sub_centers"] == [{"id": "tax", "name": "12366 税务分中心"}]
        assert opts["experts"] == [{"id": "hrss-expert", "name": "人社专家座席"}]
        assert {"number": "119", "name": "消防火警"} in opts["emergency"]
