"""The call tracker on captured-style Asterisk 22 AMI sequences, on SQLite and PostgreSQL.

Each test feeds a whole call and checks what a person would see: the call
record and its events in the database, and exactly which `publish()` calls
the consoles got, for which agent, with which screen-pop.
"""
from __future__ import annotations

import datetime as dt
import logging

import pytest
from panoramisk.message import Message

from ivr.ami.agent_id import agent_id
from ivr.calls.tracker import CallTracker
from ivr.storage import repo
from tests.support import ami_events as A

pytest_plugins = ["tests.support.pg_server"]

UTC = dt.timezone.utc
START = dt.datetime.fromtimestamp(A.T0, UTC)
LINE_NAMES = {"hrss-12333": "人社局 12333 热线", "amr-12315": "市场监管 12315 热线"}


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str | None, str, dict]] = []

    async def __call__(self, agent: str | None, kind: str, payload: dict) -> None:
        self.calls.append((agent, kind, payload))

    def kinds(self) -> list[tuple[str | None, str, str | None]]:
        return [(a, k, p.get("event") or p.get("reason")) for a, k, p in self.calls]


@pytest.fixture
async def tracked(db_store):
    rec = Recorder()
    tracker = CallTracker(db_store, rec, agents={"agent1001", "agent1002"}, line_names=LINE_NAMES)
    await tracker.start()
    yield tracker, rec, db_store
    await tracker.stop()


async def feed(tracker: CallTracker, events: list[dict]) -> None:
    for e in events:
        tracker.feed(Message(e))  # the AMI client hands panoramisk Messages
    await tracker.drain()


def at(seconds: float) -> str:
    return (START + dt.timedelta(seconds=seconds)).isoformat()


def test_agent_ids_from_channels_and_interfaces():
    assert agent_id("PJSIP/agent1001-0000001a") == "agent1001"
    assert agent_id("PJSIP/agent1001") == "agent1001"
    assert agent_id("Local/agent1001@hotline-agents-00000003;1") == "agent1001"
    assert agent_id("Local/agent1001@hotline-agents-00000003;2") == "agent1001"
    assert agent_id("Local/agent1001@hotline-agents/n") == "agent1001"
    assert agent_id("PJSIP/subcenter-tax-00000004") == "subcenter-tax"  # a trunk: not in the known agents
    assert agent_id("PJSIP/12366@subcenter-tax") is None
    assert agent_id("") is None and agent_id(None) is None and agent_id("garbage") is None


async def test_queue_call_answered_pops_history_and_ticket(tracked):
    tracker, rec, store = tracked
    # The caller phoned three days ago; that call produced a ticket.
    before = START - dt.timedelta(days=3)
    store.run_sync(repo.upsert_call, "1794965400.3", {"caller": "13912345678", "started_at": before,
                                                      "dialed": "12333", "line": "hrss-12333"})
    old_ticket = store.run_sync(repo.new_ticket, call="1794965400.3", at=before)
    store.run_sync(repo.save_ticket_draft, old_ticket, {"summary": "养老保险转移咨询"}, "agent1002")

    await feed(tracker, A.answered_call())

    lid = A.CALLER1.lid
    assert rec.kinds() == [(None, "update", "queued"), ("agent1001", "ring", None),
                           ("agent1001", "answer", None), ("agent1001", "hangup", None)]
    queued, ring, answer, hangup = (p for _, _, p in rec.calls)
    assert queued == {"call_id": lid, "event": "queued", "position": 1, "dialed": "12333", "line": "hrss-12333",
                      "department": "市人社局", "mode": "dual_number", "queue": "hrss-expert"}
    history = [{"call_id": "1794965400.3", "at": before.isoformat(), "dialed": "12333", "line": "hrss-12333",
                "disposition": None, "ticket_id": old_ticket, "ticket_summary": "养老保险转移咨询"}]
    pop = {"call_id": lid, "caller": "13912345678", "dialed": "12333", "line": "hrss-12333",
           "line_name": "人社局 12333 热线", "department": "市人社局", "mode": "dual_number",
           "queue": "hrss-expert", "history": history, "agent": "agent1001"}
    assert {k: ring[k] for k in pop} == pop
    assert ring["ticket"]["id"] == A.TICKET1 and ring["ticket"]["status"] == "draft"
    assert ring["ticket"]["call_id"] == lid
    assert ring["queue_wait_s"] == 0.0  # rang 10 ms after joining (tenths of a second)
    assert {k: answer[k] for k in pop} == pop
    assert answer["queue_wait_s"] == 3.0
    assert hangup == {"call_id": lid, "disposition": "answered", "agent": "agent1001"}

    call = store.run_sync(repo.get_call, lid)
    assert {k: call[k] for k in ("caller", "dialed", "line", "department", "mode", "phase", "action", "target",
                                 "queue", "agent", "ticket_id", "disposition", "day")} == {
        "caller": "13912345678", "dialed": "12333", "line": "hrss-12333", "department": "市人社局",
        "mode": "dual_number", "phase": "active", "action": "queue", "target": "queue:hrss-expert",
        "queue": "hrss-expert", "agent": "agent1001", "ticket_id": A.TICKET1, "disposition": "answered",
        "day": "2026-11-21"}
    assert (call["started_at"], call["queued_at"], call["answered_at"], call["ended_at"]) == (
        at(0), at(1), at(4.04), at(64))
    assert call["queue_wait_s"] == 3.0 and call["answer_s"] == pytest.approx(4.04) and call["talk_s"] == 60.0

    events = store.run_sync(repo.call_events, lid)
    assert [e["kind"] for e in events] == ["var"] * 12 + ["queued", "ring", "queue_leave", "answer", "hangup",
                                                          "agent_complete"]
    assert {"name": "HOTLINE_LINE", "value": "hrss-12333"} in [e["data"] for e in events]
    assert events[-1]["data"] == {"agent": "agent1001", "talk_s": 60.0, "reason": "caller"}
    assert store.run_sync(repo.ticket_draft, A.TICKET1)["call_id"] == lid
    assert tracker.calls == {} and tracker.stats["errors"] == 0


async def test_caller_abandons_while_two_agents_ring(tracked):
    tracker, rec, store = tracked
    await feed(tracker, A.abandoned_call())
    lid = A.CALLER2.lid
    assert rec.kinds() == [
        (None, "update", "queued"), ("agent1001", "ring", None), ("agent1002", "ring", None),
        ("agent1001", "update", "ring_cancelled"), ("agent1002", "update", "ring_cancelled"),
        (None, "hangup", None)]
    assert rec.calls[3][2] == {"call_id": lid, "event": "ring_cancelled", "reason": "ring_ended"}
    assert rec.calls[1][2]["line"] is None and rec.calls[1][2]["dialed"] == "12345"
    assert rec.calls[1][2]["history"] == [] and rec.calls[1][2]["ticket"] is None
    assert rec.calls[-1][2] == {"call_id": lid, "disposition": "abandoned", "agent": None}
    call = store.run_sync(repo.get_call, lid)
    assert (call["disposition"], call["queue_wait_s"], call["answered_at"], call["agent"]) == (
        "abandoned", 20.0, None, None)
    assert call["line"] is None and call["mode"] == "main" and call["ended_at"] == at(121.03)
    kinds = [e["kind"] for e in store.run_sync(repo.call_events, lid)]
    assert kinds[-7:] == ["ring", "ring", "abandon", "queue_leave", "ring_cancelled", "ring_cancelled", "hangup"]


async def test_attended_transfer_moves_the_call_to_the_second_agent(tracked):
    tracker, rec, store = tracked
    await feed(tracker, A.transferred_call())
    lid = A.CALLER3.lid
    assert rec.kinds() == [
        (None, "update", "queued"), ("agent1001", "ring", None), ("agent1001", "answer", None),
        ("agent1001", "update", "transferred"), ("agent1002", "answer", None), ("agent1002", "hangup", None)]
    assert rec.calls[3][2] == {"call_id": lid, "event": "transferred",
                               "transfer": {"to": "agent1002", "result": "completed"}}
    pop2 = rec.calls[4][2]
    assert (pop2["agent"], pop2["caller"], pop2["line_name"], pop2["queue_wait_s"]) == (
        "agent1002", "13700137000", "市场监管 12315 热线", 2.0)
    assert rec.calls[5][2] == {"call_id": lid, "disposition": "answered", "agent": "agent1002"}

    call = store.run_sync(repo.get_call, lid)
    assert (call["agent"], call["disposition"], call["answered_at"], call["ended_at"], call["talk_s"]) == (
        "agent1002", "answered", at(203.02), at(400), 57.0)
    (xfer,) = store.run_sync(repo.transfers, lid)
    assert {k: xfer[k] for k in ("kind", "from_agent", "target", "result", "source", "started_at")} == {
        "kind": "attended", "from_agent": "agent1001", "target": "agent1002", "result": "completed",
        "source": "ami", "started_at": at(260)}
    kinds = [e["kind"] for e in store.run_sync(repo.call_events, lid)]
    assert kinds[-5:] == ["answer", "transfer", "answer", "agent_complete", "hangup"]
    # The agent's consultation call is not a citizen's call: nothing stored, nothing popped.
    assert store.run_sync(repo.get_call, A.CONSULT.lid) is None
    assert tracker.calls == {}


async def test_blind_transfer_rings_and_pops_the_target(tracked):
    tracker, rec, store = tracked
    c = A.CALLER1
    a2 = A.Chan("PJSIP/agent1002-00000013", "1795224631.36", c.lid, context="hotline-agents", exten="s")
    events = [e for e in A.answered_call() if float(e["Timestamp"]) - A.T0 < 5]
    events += [
        A.ev("BlindTransfer", 30.0, A.AGENT1001_1.snap("Transferer"), c.snap("Transferee"), Result="Success",
             IsExternal="No", Context="hotline-agents", Extension="1002"),
        A.bridge("BridgeLeave", 30.01, A.AGENT1001_1, "b1-3f0c", 1),
        A.hangup(30.02, A.AGENT1001_1),
        A.member_ev("AgentComplete", 30.03, c, A.AGENT1001_1, "hrss-expert", TalkTime="26", Reason="transfer"),
        A.bridge("BridgeLeave", 30.04, c, "b1-3f0c", 0),
        A.ev("Newchannel", 30.1, a2.snap(state="Down")),
        A.bridge("BridgeEnter", 35.0, c, "b2-aa01", 1),
        A.bridge("BridgeEnter", 35.01, a2, "b2-aa01", 2),
        A.hangup(90.0, c),
        A.hangup(90.01, a2),
    ]
    await feed(tracker, events)
    assert rec.kinds() == [
        (None, "update", "queued"), ("agent1001", "ring", None), ("agent1001", "answer", None),
        ("agent1001", "update", "transferred"), ("agent1002", "ring", None), ("agent1002", "answer", None),
        ("agent1002", "hangup", None)]
    assert rec.calls[3][2]["transfer"] == {"kind": "blind", "from": "agent1001", "target": "1002@hotline-agents",
                                           "result": "completed"}
    call = store.run_sync(repo.get_call, c.lid)
    assert (call["agent"], call["disposition"], call["talk_s"]) == ("agent1002", "answered", 26.0)
    assert [t["kind"] for t in store.run_sync(repo.transfers, c.lid)] == ["blind"]


async def test_forwarded_and_announced_calls(tracked):
    tracker, rec, store = tracked
    tax = A.Chan("PJSIP/gateway-00000040", "1795224900.60", "1795224900.60", cid="13600136000", exten="12366")
    trunk = A.Chan("PJSIP/subcenter-tax-00000041", "1795224901.61", tax.lid, cid="13600136000", exten="12366")
    gone = A.Chan("PJSIP/gateway-00000042", "1795225000.70", "1795225000.70", cid="13500135000", exten="12328")
    await feed(tracker, [
        A.ev("Newchannel", 300.0, tax.snap(state="Ring")),
        *A.plan_vars(300.1, tax, {"HOTLINE_DIALED": "12366", "HOTLINE_MODE": "sub_center",
                                  "HOTLINE_ACTION": "forward", "HOTLINE_TARGET": "subcenter:tax"}),
        A.ev("Newchannel", 300.5, trunk.snap(state="Down")),
        A.bridge("BridgeEnter", 306.0, tax, "b5-0001", 1),
        A.bridge("BridgeEnter", 306.01, trunk, "b5-0001", 2),
        A.hangup(366.0, tax),
        A.hangup(366.01, trunk),
        A.ev("Newchannel", 400.0, gone.snap(state="Ring")),
        *A.plan_vars(400.1, gone, {"HOTLINE_DIALED": "12328", "HOTLINE_MODE": "full_merge",
                                   "HOTLINE_PHASE": "after", "HOTLINE_ACTION": "not_in_service"}),
        A.hangup(408.0, gone),
    ])
    # Nobody's console was involved: supervisors only learn that the calls ended.
    assert rec.kinds() == [(None, "hangup", None), (None, "hangup", None)]
    fwd = store.run_sync(repo.get_call, tax.lid)
    assert (fwd["disposition"], fwd["answered_at"], fwd["agent"], fwd["answer_s"]) == (
        "forwarded", at(306.01), None, pytest.approx(6.01))
    assert store.run_sync(repo.get_call, gone.lid)["disposition"] == "announced"


async def test_notify_reaches_the_agent_and_is_recorded(tracked):
    tracker, rec, store = tracked
    events = A.answered_call()
    await feed(tracker, events[:-5])  # answered, still talking
    told = await tracker.notify(A.CALLER1.lid, {"event": "transcript", "transcript": {"final": "我想问养老金"}})
    assert told == "agent1001" and tracker.agent_of(A.CALLER1.lid) == "agent1001"
    assert rec.calls[-1] == ("agent1001", "update", {"event": "transcript", "transcript": {"final": "我想问养老金"},
                                                     "call_id": A.CALLER1.lid})
    assert await tracker.notify("no-such-call", {"event": "transcript"}) is None
    await feed(tracker, events[-5:])
    kinds = [e["kind"] for e in store.run_sync(repo.call_events, A.CALLER1.lid)]
    assert "transcript" in kinds and kinds.index("transcript") < kinds.index("hangup")


async def test_bad_events_are_isolated_and_numbers_never_logged(tracked, caplog):
    tracker, rec, store = tracked

    async def broken_publish(agent, kind, payload):
        raise RuntimeError("hub down")

    caplog.set_level(logging.DEBUG)
    junk = [{"Event": "Hangup"}, {"Event": "AgentConnect", "Linkedid": "x", "Uniqueid": "y", "HoldTime": "abc"},
            {"Event": "Newchannel", "Linkedid": "z", "Uniqueid": "z", "Timestamp": "nan"},
            {"Event": "BlindTransfer", "TransfereeLinkedid": "nope"}, {"Event": "VarSet", "Variable": "HOTLINE_LINE"},
            {"Event": "QueueCallerJoin", "Linkedid": "q", "Uniqueid": "q", "Position": "first"}]
    tracker.publish = broken_publish
    await feed(tracker, junk + A.abandoned_call()[:5])
    tracker.publish = rec
    await feed(tracker, A.abandoned_call()[5:])
    assert tracker.stats["errors"] == 0  # junk is ignored, not an exception
    assert rec.kinds()[-1] == (None, "hangup", None)  # the tracker kept following the call
    assert store.run_sync(repo.get_call, A.CALLER2.lid)["disposition"] == "abandoned"
    assert "hub down" in caplog.text  # the publish failure was logged ...
    assert "13800138000" not in caplog.text  # ... without the caller's number


async def test_caller_number_learned_late_and_abandon_after_hangup(tracked):
    """As with Local channels: the number arrives by NewCallerid, the queue's abandon trails the Hangup."""
    tracker, rec, store = tracked
    c = A.Chan("Local/12328@hotline-inbound-00000000;1", "1795225100.80", "1795225100.80", cid="<unknown>",
               exten="12328", context="hotline-inbound")
    leg2 = A.Chan("Local/12328@hotline-inbound-00000000;2", "1795225100.81", c.lid, cid="13912345678",
                  exten="12328", context="hotline-inbound")
    known = A.Chan(c.name, c.uid, c.lid, cid="13912345678", exten="12328", context="hotline-inbound")
    await feed(tracker, [
        A.ev("Newchannel", 500.0, c.snap(state="Down")),
        A.ev("Newchannel", 500.0, leg2.snap(state="Down")),
        A.ev("NewCallerid", 500.01, known.snap(state="Down"), **{"CID-CallingPres": "0 (Presentation Allowed)"}),
        *A.plan_vars(500.2, leg2, {"__HOTLINE_DIALED": "12328", "__HOTLINE_QUEUE": "general",
                                   "__HOTLINE_ACTION": "queue"}),
        A.queue_ev("QueueCallerJoin", 501.0, leg2, "general", Position="1", Count="1"),
        A.hangup(513.0, known, cause="19"),
        A.queue_ev("QueueCallerAbandon", 513.01, leg2, "general", Position="1", OriginalPosition="1", HoldTime="12"),
        A.queue_ev("QueueCallerLeave", 513.01, leg2, "general", Position="1", Count="0"),
        A.hangup(513.02, leg2),
    ])
    assert rec.kinds() == [(None, "update", "queued"), (None, "hangup", None)]
    call = store.run_sync(repo.get_call, c.lid)
    assert (call["caller"], call["dialed"], call["queue"], call["disposition"], call["queue_wait_s"]) == (
        "13912345678", "12328", "general", "abandoned", 12.0)
    kinds = [e["kind"] for e in store.run_sync(repo.call_events, c.lid)]
    assert kinds[-2:] == ["hangup", "abandon"]


async def test_route_handler_variables_arrive_before_or_after_the_call(tracked, caplog):
    """CallTracker.routed: the route handler's variables (its VarSets never reach the
    server's AMI session) apply in turn, even when they come before the call's first event."""
    caplog.set_level(logging.INFO, logger="ivr.calls")
    tracker, rec, store = tracked
    early = A.Chan("PJSIP/gateway-00000050", "1795225100.80", "1795225100.80", cid="13700137000", exten="12315")
    late = A.Chan("PJSIP/gateway-00000051", "1795225200.90", "1795225200.90", cid="13800138000", exten="12328")
    plan = {"HOTLINE_DIALED": "12315", "HOTLINE_LINE": "amr-12315", "HOTLINE_DEPARTMENT": "市市场监管局",
            "HOTLINE_MODE": "full_merge", "HOTLINE_ACTION": "prompt_then_hangup", "HOTLINE_TICKET": "T20261201-0007"}
    tracker.routed(early.lid, {f"__{k}": v for k, v in plan.items()}, early.lid)  # before Asterisk's Newchannel is read
    await feed(tracker, [A.ev("Newchannel", 500.0, early.snap(state="Ring")), A.hangup(508.0, early)])
    await feed(tracker, [A.ev("Newchannel", 600.0, late.snap(state="Ring"))])
    tracker.routed(late.lid, {"__HOTLINE_DIALED": "12328", "__HOTLINE_ACTION": "queue", "__HOTLINE_QUEUE": "general"},
                   late.lid)
    await feed(tracker, [A.hangup(660.0, late)])

    first = store.run_sync(repo.get_call, early.lid)
    assert {k: first[k] for k in ("dialed", "line", "department", "mode", "action", "ticket_id", "disposition")} == {
        "dialed": "12315", "line": "amr-12315", "department": "市市场监管局", "mode": "full_merge",
        "action": "prompt_then_hangup", "ticket_id": "T20261201-0007", "disposition": "announced"}
    events = store.run_sync(repo.call_events, early.lid)
    assert [e["kind"] for e in events] == ["route", "hangup"]
    assert events[0]["data"]["variables"]["HOTLINE_LINE"] == "amr-12315"
    second = store.run_sync(repo.get_call, late.lid)
    assert (second["dialed"], second["action"], second["queue"]) == ("12328", "queue", "general")
    # the operator's line per routed call: written by the server, caller masked
    assert f"call {early.lid} from 137******00 to 12315: full_merge/None -> prompt_then_hangup" in caplog.text
    assert f"call {late.lid} from 138******00 to 12328: None/None -> queue" in caplog.text
    assert "13700137000" not in caplog.text and "13800138000" not in caplog.text
    tracker.routed("gone-call", {"HOTLINE_DIALED": "12345"})  # a call never seen: kept a while, then dropped
    await tracker.drain()
