"""Inbound calls on the trunk: callbacks never take a channel they hold."""
from __future__ import annotations

import asyncio

import pytest

pytestmark = pytest.mark.asterisk


async def _until(predicate, timeout: float = 15) -> None:
    for _ in range(int(timeout / 0.1)):
        if predicate():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("condition not met in time")


async def test_inbound_calls_on_the_trunk_shrink_the_outbound_room(cblab):
    engine, outside = cblab.engine, cblab.ami
    # Trunk: 3 channels, 1 reserved for inbound. Two citizens call 12345 over it and wait in the queue.
    for _ in range(2):
        reply = await outside.action({"Action": "Originate", "Channel": "PJSIP/12345@center", "Application": "Wait",
                                      "Data": "40", "CallerID": '"inbound" <inbound>', "Async": "true"},
                                     as_list=False)
        assert reply.success
    try:
        await _until(lambda: engine.inbound() == 2)
        numbers = [f"1390000040{i}" for i in range(3)]
        ids = [(await engine.add("survey", n))[0]["id"] for n in numbers]
        most = 0
        for _ in range(600):  # 3 tasks one at a time: 3 x ~3 s
            most = max(most, len(engine.live))
            if all(len(cblab.outside_calls(n)) == 1 for n in numbers) and not engine.live:
                break
            await asyncio.sleep(0.05)
        tasks = await cblab.settled(ids)
        assert all(t["result"] == "answered" for t in tasks)
        assert most == 1  # 3 channels - 2 held by inbound: one callback at a time, never more
    finally:
        await outside.action({"Action": "Hangup", "Channel": "/^PJSIP/center-.*$/"}, as_list=False)
    await _until(lambda: engine.inbound() == 0)
