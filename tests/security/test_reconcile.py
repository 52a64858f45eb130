"""After an AMI reconnect the tracker catches up with Asterisk (CoreShowChannels).

Before: a call hung up while the server's AMI session was down never got its
Hangup, so it stayed on the consoles and open in the reports for good. Real
embedded Asterisk, the real server: its AMI session is cut and kept from
reconnecting while the caller hangs up, then allowed back.
"""
from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from ivr.storage import repo
from tests.support.asterisk_harness import free_port
from tests.support.routing_calls import place

pytestmark = pytest.mark.asterisk

SH = dt.timezone(dt.timedelta(hours=8))


async def _until(predicate, timeout: float) -> bool:
    for _ in range(int(timeout / 0.1)):
        if predicate():
            return True
        await asyncio.sleep(0.1)
    return predicate()


def test_vanished_channels_only():
    from ivr.ami.reconcile import live_channels, vanished

    class M(dict):
        pass
    answer = [M(Response="Success"), M(Event="CoreShowChannel", Uniqueid="1.1"),
              M(Event="CoreShowChannelsComplete", ListItems="1")]
    assert live_channels(answer) == {"1.1"}
    assert live_channels(answer[:2]) is None  # cut short: reconcile nothing
    assert live_channels(None) is None
    gone = vanished({"1.1": ("1.1", "PJSIP/a"), "1.2": ("1.1", "Local/b;1")}, {"1.1"})
    assert [(e["Event"], e["Uniqueid"], e["Linkedid"]) for e in gone] == [("Hangup", "1.2", "1.1")]


async def test_call_hung_up_during_ami_outage_is_ended_after_reconnect(hotline_server, center, center_ami):
    server = await hotline_server()
    server.clock.now = dt.datetime(2026, 12, 1, 9, 30, tzinfo=SH)  # 12328 -> the general queue
    tracker, ami = server.services.tracker, server.services.ami
    board = server.services.hub.subscribe("supervisor-test", supervisor=True).subscription
    since = len(center_ami.events)
    await place(center_ami, "12328", hold=20, callerid="13912345678")
    queued = await center_ami.wait_for(lambda e: e.get("Event") == "QueueCallerJoin", timeout=15, since=since)
    lid = queued["Linkedid"]
    await tracker.drain()
    assert await _until(lambda: tracker.calls.get(lid) is not None and tracker.calls[lid].queued_at, 5)

    real_port = ami.port
    ami.port = free_port()  # nothing listens there: the session cannot come back yet
    try:
        ami._manager.protocol.transport.abort()
        assert await _until(lambda: not ami.connected, 5)
        names = {e["Channel"] for e in center_ami.events[since:]
                 if e.get("Event") == "Newchannel" and e.get("Linkedid") == lid}
        for name in names:
            await center_ami.action({"Action": "Hangup", "Channel": name})
        await center_ami.wait_for(lambda e: e.get("Event") == "Hangup" and e.get("Uniqueid") == lid,
                                  timeout=10, since=since)
        await asyncio.sleep(0.5)
        assert lid in tracker.calls  # the tracker never heard: a ghost, until it reconnects
    finally:
        ami.port = real_port
    assert await ami.wait_connected(20), "the server's AMI session did not come back"
    assert await _until(lambda: lid not in tracker.calls, 10), "the ghost call is still tracked"
    await tracker.drain()

    record = server.services.store.run_sync(repo.get_call, lid)
    assert record["ended_at"] is not None and record["disposition"] == "abandoned"
    assert "hangup" in [e["kind"] for e in server.services.store.run_sync(repo.call_events, lid)]
    told = []
    while not board.queue.empty():
        ev = board.queue.get_nowait()
        if ev.call_id == lid:
            told.append((ev.kind, ev.payload.get("disposition")))
    assert told[-1] == ("hangup", "abandoned"), told
    server.services.hub.unsubscribe(board)
