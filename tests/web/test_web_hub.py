"""The event hub on its own: who gets which event, resume, resync, overflow."""
from __future__ import annotations

import json

import pytest

from ivr.web.hub import Hub
from tests.support.web_support import CALLER, CALLER_MASKED, pop_payload


def drain(sub) -> list:
    out = []
    while not sub.queue.empty():
        out.append(sub.queue.get_nowait())
    return out


def wire(sub, events) -> list[dict]:
    """What the subscriber's socket would carry for these events."""
    return [json.loads(ev.text(sub.masked(ev))) for ev in events]


async def test_agent_sees_only_own_calls_and_supervisor_sees_all_masked():
    hub = Hub(first_id=1)
    a1 = hub.subscribe("agent1001").subscription
    a2 = hub.subscribe("agent1002").subscription
    sup = hub.subscribe("super01", supervisor=True).subscription
    await hub.publish("agent1001", "ring", pop_payload())
    await hub.publish(None, "update", {"call_id": "q-9", "queue": "general"})  # supervisors only

    [mine] = wire(a1, drain(a1))
    assert mine == {"type": "event", "id": 1, "kind": "ring", "call_id": "1700000000.1", "agent": "agent1001",
                    "ts": mine["ts"], "payload": pop_payload()}
    assert mine["payload"]["caller"] == CALLER  # the agent must be able to call back
    assert drain(a2) == []
    seen = wire(sup, drain(sup))
    assert [m["id"] for m in seen] == [1, 2]
    assert seen[0]["payload"]["caller"] == CALLER_MASKED
    assert CALLER not in json.dumps(seen, ensure_ascii=False)


async def test_supervisor_taking_a_call_sees_it_unmasked():
    hub = Hub(first_id=1)
    sup = hub.subscribe("super01", supervisor=True).subscription
    await hub.publish("super01", "answer", pop_payload(agent="super01"))
    await hub.publish("agent1001", "answer", pop_payload("c2"))
    own, other = wire(sup, drain(sup))
    assert own["payload"]["caller"] == CALLER and other["payload"]["caller"] == CALLER_MASKED


async def test_event_ids_strictly_increase_across_agents():
    hub = Hub()
    subs = [hub.subscribe("super01", supervisor=True).subscription]
    for i in range(50):
        await hub.publish(f"agent{1000 + i % 5}", "update", {"call_id": f"c{i % 7}", "n": i})
    ids = [ev.id for ev in drain(subs[0])]
    assert len(ids) == 50 and all(b == a + 1 for a, b in zip(ids, ids[1:]))
    assert ids[0] >= 10**15  # clock-based start: ids of an earlier run are lower


async def test_resume_gives_missed_events_once_in_order():
    hub = Hub(first_id=1)
    sub = hub.subscribe("agent1001").subscription
    await hub.publish("agent1001", "ring", pop_payload())
    await hub.publish("agent1001", "answer", pop_payload())
    seen = drain(sub)
    hub.unsubscribe(sub)  # the console went away
    await hub.publish("agent1001", "update", {"call_id": "1700000000.1", "transcript": {"final": "我要咨询社保"}})
    await hub.publish("agent1002", "ring", pop_payload("other", "agent1002"))
    await hub.publish("agent1001", "update", {"call_id": "1700000000.1", "transcript": {"partial": "转移"}})

    start = hub.subscribe("agent1001", last_event_id=seen[-1].id)
    assert start.resync is None
    assert [(e.id, e.kind) for e in start.backlog] == [(3, "update"), (5, "update")]
    await hub.publish("agent1001", "hangup", {"call_id": "1700000000.1"})
    assert [e.id for e in drain(start.subscription)] == [6]  # live after the backlog, no duplicate


async def test_too_old_resume_gets_resync_with_current_state():
    hub = Hub(first_id=1, buffer_per_agent=3)
    ticket = {"id": "T20261121-0001", "summary": ""}
    await hub.publish("agent1001", "ring", pop_payload(ticket=ticket))
    await hub.publish("agent1001", "answer", pop_payload(ticket=ticket))
    for text in ("您好", "我想问一下", "养老保险"):
        await hub.publish("agent1001", "update", {"call_id": "1700000000.1", "transcript": {"final": text}})
    await hub.publish("agent1001", "update", {"call_id": "1700000000.1", "transcript": {"partial": "怎么转"}})

    start = hub.subscribe("agent1001", last_event_id=1)
    assert start.backlog == []
    expected_call = {**pop_payload(ticket=ticket), "status": "answered", "last_event_id": 6,
                     "transcript": {"final": ["您好", "我想问一下", "养老保险"], "partial": "怎么转"}}
    assert start.resync == {"type": "resync", "reason": "too_old", "last_event_id": 6, "calls": [expected_call]}
    # the same state for a fresh console, masked for a supervisor
    assert hub.subscribe("agent1001").resync["calls"] == [expected_call]
    sup = hub.subscribe("super01", supervisor=True, last_event_id=99).resync
    assert sup["reason"] == "unknown_id" and sup["calls"][0]["caller"] == CALLER_MASKED
    assert hub.subscribe("agent1002").resync["calls"] == []


async def test_resume_across_restart_is_detected():
    old = Hub()
    await old.publish("agent1001", "ring", pop_payload())
    new = Hub(first_id=old.last_id + 10**6)  # a later start of the process
    start = new.subscribe("agent1001", last_event_id=old.last_id)
    assert start.resync is not None and start.resync["reason"] == "too_old"


async def test_overflow_drops_only_the_slow_subscriber():
    hub = Hub(first_id=1)
    dropped = []
    slow = hub.subscribe("agent1001", maxsize=4, on_overflow=dropped.append).subscription
    fast = hub.subscribe("agent1002", maxsize=4).subscription
    for i in range(6):
        await hub.publish("agent1001", "update", {"call_id": "c1", "n": i})
        await hub.publish("agent1002", "update", {"call_id": "c2", "n": i})
        drain(fast)  # this one keeps up
    assert dropped == [slow] and slow.overflowed and slow.closed
    assert hub.subscriber_count() == 1 and hub.stats["overflows"] == 1
    # it resumes from the last event it got and catches up exactly
    got = drain(slow)
    start = hub.subscribe("agent1001", last_event_id=got[-1].id)
    assert [e.payload["n"] for e in got + start.backlog] == list(range(6))


async def test_ringall_hangup_for_one_agent_keeps_the_call_for_the_other():
    hub = Hub(first_id=1)
    await hub.publish("agent1001", "ring", pop_payload())
    await hub.publish("agent1002", "ring", pop_payload(agent="agent1002"))
    await hub.publish("agent1001", "answer", pop_payload())
    await hub.publish("agent1002", "hangup", {"call_id": "1700000000.1"})
    assert hub.calls.owner("1700000000.1") == "agent1001"
    assert [c["status"] for c in hub.calls.visible("agent1001")] == ["answered"]
    assert hub.calls.visible("agent1002") == []
    await hub.publish("agent1001", "hangup", {"call_id": "1700000000.1"})
    assert not hub.calls.is_active("1700000000.1")


async def test_ticket_stays_with_its_agent_after_hangup():
    hub = Hub(first_id=1)
    await hub.publish("agent1001", "answer", pop_payload(ticket={"id": "T20261121-0002"}))
    await hub.publish("agent1001", "hangup", {"call_id": "1700000000.1"})
    assert hub.calls.ticket_owner("T20261121-0002") == "agent1001"  # wrap-up: still theirs
    assert hub.calls.ticket_call("T20261121-0002") == "1700000000.1"


async def test_published_payload_is_frozen():
    hub = Hub(first_id=1)
    payload = pop_payload()
    await hub.publish("agent1001", "ring", payload)
    payload["caller"] = "10000000000"
    payload["history"].clear()
    start = hub.subscribe("agent1001", last_event_id=0)
    assert start.backlog[0].payload["caller"] == CALLER
    assert len(start.backlog[0].payload["history"]) == 1


@pytest.mark.parametrize("agent,kind,payload,problem", [
    ("agent1001", "explode", {"call_id": "c"}, "unknown event kind"),
    ("agent1001", "ring", {"caller": "1"}, "call_id"),
    ("agent1001", "ring", ["c"], "call_id"),
    ("", "ring", {"call_id": "c"}, "agent"),
])
async def test_bad_events_are_refused_at_the_publisher(agent, kind, payload, problem):
    hub = Hub(first_id=1)
    sub = hub.subscribe("agent1001").subscription
    with pytest.raises(ValueError, match=problem):
        await hub.publish(agent, kind, payload)
    assert drain(sub) == [] and hub.last_id == 0


async def test_update_events_that_take_the_call_away_from_an_agent():
    """The tracker's ring_cancelled / transferred / agent_left updates (ivr.calls.tracker)."""
    hub = Hub(first_id=1)
    await hub.publish(None, "update", {"call_id": "c1", "event": "queued", "queue": "general", "position": 1})
    await hub.publish("agent1001", "ring", pop_payload("c1"))
    await hub.publish("agent1002", "ring", pop_payload("c1", "agent1002"))
    await hub.publish("agent1002", "answer", pop_payload("c1", "agent1002"))
    await hub.publish("agent1001", "update", {"call_id": "c1", "event": "ring_cancelled",
                                              "reason": "answered_elsewhere"})
    assert hub.calls.visible("agent1001") == []
    [call] = hub.calls.visible("agent1002")
    assert call["status"] == "answered" and "event" not in call and "reason" not in call
    # agent1002 hands the call to agent1001 (attended): answer to the new one, "transferred" to the old
    await hub.publish("agent1001", "answer", pop_payload("c1"))
    await hub.publish("agent1002", "update", {"call_id": "c1", "event": "transferred",
                                              "transfer": {"to": "agent1001", "result": "completed"}})
    assert hub.calls.owner("c1") == "agent1001" and hub.calls.visible("agent1002") == []
    await hub.publish("agent1001", "update", {"call_id": "c1", "event": "agent_left"})
    assert hub.calls.owner("c1") is None and hub.calls.visible("agent1001") == []
    assert [c["call_id"] for c in hub.calls.visible("super01", supervisor=True)] == ["c1"]  # caller still on
    await hub.publish(None, "hangup", {"call_id": "c1", "disposition": "answered", "agent": None})
    assert not hub.calls.is_active("c1")
