"""The tracker inside the real server, on the real embedded Asterisk's AMI events.

A citizen dials 12328 on 1 December (双号并行: to the 12345 pool), waits in the
general queue where no agent is logged in, and gives up: the call record,
its events and what the supervisors' board was told must say exactly that.
"""
from __future__ import annotations

import datetime as dt

import pytest

from ivr.storage import repo
from tests.support.routing_calls import collect, place

pytestmark = pytest.mark.asterisk

SH = dt.timezone(dt.timedelta(hours=8))


async def test_abandoned_call_is_recorded_from_real_events(hotline_server, center, center_ami):
    # routed by the FastAGI worker, as in production: its variables reach the tracker over the pipe
    server = await hotline_server(at=dt.datetime(2026, 12, 1, 9, 30, tzinfo=SH))
    board = server.services.hub.subscribe("supervisor-test", supervisor=True).subscription
    since = len(center_ami.events)
    call = await place(center_ami, "12328", hold=3, callerid="13912345678")
    await collect(center_ami, [call], settle=1, since=since)
    assert call.linkedid, "the test call never reached Asterisk"
    # The test caller hangs up when its Originate times out (nobody answers it).
    await center_ami.wait_for(lambda e: e.get("Event") == "Hangup" and e.get("Uniqueid") == call.linkedid,
                              timeout=15, since=since)
    await server.services.tracker.drain()

    store = server.services.store
    record = store.run_sync(repo.get_call, call.linkedid)
    assert record is not None, "the tracker stored nothing for the call"
    assert {k: record[k] for k in ("caller", "dialed", "department", "mode", "action", "queue", "disposition",
                                   "agent", "answered_at")} == {
        "caller": "13912345678", "dialed": "12328", "department": "市交通运输局", "mode": "dual_number",
        "action": "queue", "queue": "general", "disposition": "abandoned", "agent": None, "answered_at": None}
    assert record["ticket_id"] == call.variables()["HOTLINE_TICKET"]
    started = dt.datetime.fromisoformat(record["started_at"])
    ended = dt.datetime.fromisoformat(record["ended_at"])
    # Nobody answers, so the test caller's Originate times out after 13 s and the call ends.
    lasted = (ended - started).total_seconds()
    assert 10 < lasted < 16
    assert record["queue_wait_s"] == pytest.approx(lasted, abs=1.5)  # all of it waiting in the queue
    kinds = [e["kind"] for e in store.run_sync(repo.call_events, call.linkedid)]
    # The queue reports the abandon just before or just after the caller's Hangup, as timing falls.
    assert kinds.count("queued") == 1 and kinds.count("hangup") == 1 and kinds.count("abandon") == 1

    told = []
    while not board.queue.empty():
        ev = board.queue.get_nowait()
        if ev.call_id == call.linkedid:
            told.append((ev.agent, ev.kind, ev.payload.get("event") or ev.payload.get("disposition")))
    assert told[0] == (None, "update", "queued")
    assert told[-1] == (None, "hangup", "abandoned")
    server.services.hub.unsubscribe(board)
