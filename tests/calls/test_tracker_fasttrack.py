"""一企来 on the agent's screen: a call the plan tagged `enterprise` pops with the
tag, and its ticket draft is tagged and due in 15 working days from the start."""
from __future__ import annotations

from ivr.calls.tracker import CallTracker
from ivr.storage import repo
from tests.calls.test_tracker import Recorder, feed
from tests.support import ami_events as A

pytest_plugins = ["tests.support.pg_server"]


def enterprise_call() -> list[dict]:
    """The answered 12333 call, routed for a registered enterprise (HOTLINE_TAGS before the ticket)."""
    events = A.answered_call()
    ticket = next(i for i, e in enumerate(events) if e.get("Variable") == "HOTLINE_TICKET")
    tags = dict(events[ticket], Variable="HOTLINE_TAGS", Value="enterprise")
    return [*events[:ticket], tags, *events[ticket:]]


async def test_enterprise_tag_reaches_the_pop_and_the_draft(db_store):
    rec = Recorder()
    tracker = CallTracker(db_store, rec, agents={"agent1001"}, line_names={})
    await tracker.start()
    try:
        await feed(tracker, enterprise_call())
    finally:
        await tracker.stop()
    ring = next(p for a, k, p in rec.calls if k == "ring")
    answer = next(p for a, k, p in rec.calls if k == "answer")
    assert ring["tags"] == ["enterprise"] and answer["tags"] == ["enterprise"]
    extra = db_store.run_sync(repo.ticket_draft, A.TICKET1)["extra"]
    # called Saturday 2026-11-21: the 15th working day after it is Friday 11 December
    assert extra == {"tags": ["enterprise"], "urgency": "15workdays", "deadline": "2026-12-11T23:59:59+08:00"}
    assert db_store.run_sync(repo.get_call, A.CALLER1.lid)["queue"] == "hrss-expert"  # the call row as before


async def test_a_citizen_call_pops_without_tags_and_an_empty_draft(db_store):
    rec = Recorder()
    tracker = CallTracker(db_store, rec, agents={"agent1001"}, line_names={})
    await tracker.start()
    try:
        await feed(tracker, A.answered_call())
    finally:
        await tracker.stop()
    ring = next(p for a, k, p in rec.calls if k == "ring")
    assert ring["tags"] == []
    assert db_store.run_sync(repo.ticket_draft, A.TICKET1)["extra"] == {}


async def test_enterprise_key_pressed_after_the_route_tags_the_draft_too(db_store):
    """Anyone may press the menu's enterprise key: the dialplan tags the call after its ticket exists."""
    events = A.answered_call()
    ticket = next(i for i, e in enumerate(events) if e.get("Variable") == "HOTLINE_TICKET")
    pressed = dict(events[ticket], Variable="__HOTLINE_TAGS", Value="enterprise")
    events.insert(ticket + 1, pressed)
    rec = Recorder()
    tracker = CallTracker(db_store, rec, agents={"agent1001"}, line_names={})
    await tracker.start()
    try:
        await feed(tracker, events)
    finally:
        await tracker.stop()
    extra = db_store.run_sync(repo.ticket_draft, A.TICKET1)["extra"]
    assert extra["tags"] == ["enterprise"] and extra["urgency"] == "15workdays"
