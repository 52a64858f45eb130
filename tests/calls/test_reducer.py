"""The live-call reducer alone (ivr.calls.reducer): AMI events in, call state and
effects out, no Asterisk, no database, no event loop. A pop, a transfer and a
transcript traced through the one model, and the legs transfers act on."""
from __future__ import annotations

import datetime as dt

from ivr.calls import effects as fx
from ivr.calls import reducer
from ivr.calls.model import CallModel
from tests.support import ami_events as A

AT = dt.datetime(2026, 11, 21, 1, 30, tzinfo=dt.timezone.utc)


def run(model: CallModel, events: list[dict]) -> list:
    out: list = []
    for ev in events:
        reducer.reduce(model, ev, AT, 0.0, out)
    return out


def told(out: list) -> list[tuple]:
    """(agent, kind, payload "event") of every pop and publish, in order."""
    return [(e.agent, e.kind, e.payload.get("event")) for e in out if isinstance(e, (fx.Pop, fx.Publish))]


def test_a_pop_traced_from_queue_to_hangup():
    m = CallModel(agents={"agent1001"}, line_names={"hrss-12333": "人社"})
    events = A.answered_call()
    upto_ring = events.index(next(e for e in events if e["Event"] == "AgentCalled")) + 1
    out = run(m, events[:upto_ring])
    call = m.calls[A.CALLER1.lid]
    assert call.caller == "13912345678" and call.get("ticket_id") == A.TICKET1 and call.get("queue") == "hrss-expert"
    assert told(out) == [(None, "update", "queued"), ("agent1001", "ring", None)]
    ring = [e for e in out if isinstance(e, fx.Pop)][0]
    assert ring.payload["line_name"] == "人社" and ring.payload["caller"] == "13912345678"
    # the pop's data is read ahead: the caller's history at the first channel, the ticket at HOTLINE_TICKET
    reads = [e for e in out if isinstance(e, fx.Read)]
    assert reads[0].history and any(r.ticket for r in reads)
    assert [e.ticket_id for e in out if isinstance(e, fx.EnsureTicket)] == [A.TICKET1]

    out = run(m, events[upto_ring:])
    assert told(out) == [("agent1001", "answer", None), ("agent1001", "hangup", None)]
    assert A.CALLER1.lid not in m.calls and m.ended[A.CALLER1.lid].disposition() == "answered"
    saved = {k: v for e in out if isinstance(e, fx.Save) for k, v in e.fields.items()}
    assert saved["agent"] == "agent1001" and saved["disposition"] == "answered" and saved["talk_s"] == 60.0
    # the legs transfers act on came from the same events, and went with the caller
    assert m.legs(A.CALLER1.lid) is None and not m.leg_calls


def test_the_legs_a_transfer_acts_on():
    m = CallModel(agents={"agent1001"})
    events = A.answered_call()
    run(m, events[:events.index(next(e for e in events if e["Event"] == "AgentConnect")) + 1])
    legs = m.legs(A.CALLER1.lid)
    assert (legs.caller, legs.caller_number, legs.agent, legs.agent_id, legs.queue) == (
        A.CALLER1.name, "13912345678", A.AGENT1001_1.name, "agent1001", "hotline-hrss-expert")
    assert m.agent_leg(A.AGENT1001_1.name) == (A.CALLER1.lid, legs) and m.is_live(A.CALLER1.lid)
    run(m, [A.hangup(70.0, A.AGENT1001_1)])  # the agent leaves: the caller stays, without an agent leg
    assert m.legs(A.CALLER1.lid).agent is None and m.agent_leg(A.AGENT1001_1.name) is None
    m.hand_over(A.CALLER1.lid, "Local/e1@xfer-agents-00000001;1", "e1")  # a transfer completed to an expert
    assert m.legs(A.CALLER1.lid).agent_id == "e1"


def test_an_attended_transfer_traced_through_the_model():
    m = CallModel(agents={"agent1001", "agent1002"})
    out = run(m, A.transferred_call())
    assert told(out) == [
        (None, "update", "queued"), ("agent1001", "ring", None), ("agent1001", "answer", None),
        ("agent1001", "update", "transferred"), ("agent1002", "answer", None), ("agent1002", "hangup", None)]
    moved = [e for e in out if isinstance(e, fx.RecordTransfer)]
    assert [(t.kind, t.from_agent, t.target, t.result) for t in moved] == [
        ("attended", "agent1001", "agent1002", "completed")]
    assert m.ended[A.CALLER3.lid].agent == "agent1002"
    assert A.CONSULT.lid not in m.calls  # the consultation call was the agent's own: never popped


def test_a_transcript_traced_through_the_model():
    """notify() updates: kept for a call not seen yet, applied after its first event,
    sent to the agent who has the call, stored after the hangup but no longer shown."""
    m = CallModel(agents={"agent1001"})
    out: list = []
    line = {"event": "transcript", "transcript": {"final": "我想咨询养老保险"}}
    assert reducer.notice(m, A.CALLER1.lid, line, AT, 0.0, out) is None and out == []  # before the call
    events = A.answered_call()
    out = run(m, events[:1])
    assert [(e.kind, e.data["transcript"]) for e in out if isinstance(e, fx.Record)] == [
        ("transcript", {"final": "我想咨询养老保险"})]
    assert told(out) == [(None, "update", "transcript")]  # nobody has the call yet: supervisors
    run(m, events[1:events.index(next(e for e in events if e["Event"] == "AgentConnect")) + 1])
    out = []
    partial = {"event": "transcript", "transcript": {"partial": "需要"}}
    assert reducer.notice(m, A.CALLER1.lid, partial, AT, 1.0, out) == "agent1001"
    [sent] = [e for e in out if isinstance(e, fx.Publish)]
    assert sent.payload == {**partial, "call_id": A.CALLER1.lid}
    run(m, events[-5:])
    out = []
    assert reducer.notice(m, A.CALLER1.lid, partial, AT, 2.0, out) is None
    assert [type(e) for e in out] == [fx.Record]


def test_route_result_only_for_a_channel_of_the_call():
    m = CallModel()
    c = A.CALLER1
    out = run(m, [A.ev("Newchannel", 0.0, c.snap(state="Ring"))])
    routed = {"event": reducer.ROUTED, "variables": {"HOTLINE_DIALED": "12333", "HOTLINE_INTAKE": "127.0.0.1:9,30,k3y"},
              "uniqueid": "someone-else"}
    out = []
    reducer.notice(m, c.lid, {**routed, "uniqueid": c.uid}, AT, 0.0, out)
    assert m.calls[c.lid].get("dialed") == "12333" and m.claim_intake(c.lid, "k3y") and not m.claim_intake(c.lid, "k3y")
    assert m.calls[c.lid].get("HOTLINE_INTAKE") == "127.0.0.1:9,30"  # the nonce is never kept
    out = []
    reducer.notice(m, c.lid, {**routed, "variables": {"HOTLINE_DIALED": "110"}, "uniqueid": c.uid}, AT, 0.0, out)
    assert m.calls[c.lid].get("dialed") == "12333" and out == []  # a channel routes once


def test_adopt_a_listing_after_a_restart():
    rows = [
        {"Event": "CoreShowChannel", "Channel": "PJSIP/gw-01", "Uniqueid": "c1", "Linkedid": "c1", "BridgeId": "b1",
         "Application": "Queue", "CallerIDNum": "13912345678", "Context": "hotline-queue"},
        {"Event": "CoreShowChannel", "Channel": "PJSIP/agent1001-00000002", "Uniqueid": "c1.2", "Linkedid": "c1",
         "BridgeId": "b1", "Application": "AppQueue", "Context": "default"},
        {"Event": "CoreShowChannel", "Channel": "PJSIP/gw-03", "Uniqueid": "c2", "Linkedid": "c2", "BridgeId": "",
         "Application": "Queue", "CallerIDNum": "13800000000", "Context": "hotline-queue"},
        {"Event": "CoreShowChannel", "Channel": "Local/g1@hotline-xfer-leg-00000001;2", "Uniqueid": "x", "Linkedid": "x",
         "BridgeId": "", "Application": "Dial", "Context": "hotline-xfer-leg"},
        {"Event": "CoreShowChannelsComplete"},
    ]
    m = CallModel()
    out: list = []
    assert reducer.adopt(m, rows, AT, out) == 2
    legs = m.legs("c1")
    assert (legs.caller, legs.agent, legs.agent_id) == ("PJSIP/gw-01", "PJSIP/agent1001-00000002", "agent1001")
    assert m.legs("c2").agent is None and m.legs("c2").caller_number == "13800000000"
    assert m.legs("x") is None
    run(m, [{"Event": "Hangup", "Channel": "PJSIP/gw-01", "Uniqueid": "c1", "Linkedid": "c1", "Cause": "16"}])
    assert not m.is_live("c1") and "c1" in m.ended  # the adopted call ends like any other
