"""End to end without Asterisk: raw AMI events -> call tracker -> hub -> the agent's websocket."""
from __future__ import annotations

import aiohttp
import pytest

from ivr.calls.tracker import CallTracker
from ivr.storage.store import Store
from tests.support.web_support import CALLER, city_config, connect, no_message, recv, serve, services

LID = "1763700000.11"
BASE = {"Uniqueid": LID, "Linkedid": LID, "Channel": "PJSIP/trunk-0000000b"}
AGENT = {"Interface": "PJSIP/agent1001", "DestChannel": "PJSIP/agent1001-0000000c", "MemberName": "agent1001",
         "Queue": "hrss-expert"}


@pytest.fixture
def store(tmp_path):
    st = Store.open(f"sqlite:///{tmp_path / 'hotline.db'}")
    yield st
    st.close()


async def test_ami_events_become_the_agents_screen_pop(store):
    svc = services(store=store)
    config = city_config()
    tracker = CallTracker.from_config(config, store, svc.hub.publish)
    await tracker.start()
    try:
        async with serve(svc, config) as base, aiohttp.ClientSession() as s:
            mine, _ = await connect(s, base, "agent1001")
            other, _ = await connect(s, base, "agent1002")
            await recv(mine), await recv(other)

            tracker.feed({**BASE, "Event": "Newchannel", "CallerIDNum": CALLER})
            for var, value in (("HOTLINE_DIALED", "12333"), ("HOTLINE_LINE", "hrss-12333"),
                               ("HOTLINE_DEPARTMENT", "市人社局"), ("HOTLINE_MODE", "dual_number")):
                tracker.feed({**BASE, "Event": "VarSet", "Variable": var, "Value": value})
            tracker.feed({**BASE, "Event": "QueueCallerJoin", "Queue": "hrss-expert", "Position": "1"})
            tracker.feed({**BASE, **AGENT, "Event": "AgentCalled"})
            ring = await recv(mine)
            assert ring["kind"] == "ring" and ring["call_id"] == LID
            p = ring["payload"]
            assert (p["caller"], p["dialed"], p["line"], p["line_name"], p["department"], p["mode"], p["queue"]) == (
                CALLER, "12333", "hrss-12333", "人社服务热线", "市人社局", "dual_number", "hrss-expert")

            tracker.feed({**BASE, **AGENT, "Event": "AgentConnect", "HoldTime": "7"})
            answer = await recv(mine)
            assert answer["kind"] == "answer" and answer["payload"]["queue_wait_s"] == 7.0
            assert svc.hub.calls.owner(LID) == "agent1001"

            await tracker.notify(LID, {"event": "transcript", "transcript": {"final": "我想咨询养老保险"}})
            update = await recv(mine)
            assert update["kind"] == "update" and update["payload"]["transcript"] == {"final": "我想咨询养老保险"}

            tracker.feed({**BASE, "Event": "Hangup", "Cause": "16"})
            hangup = await recv(mine)
            assert hangup["kind"] == "hangup" and hangup["payload"]["disposition"] == "answered"
            assert [e["id"] for e in (ring, answer, update, hangup)] == sorted({ring["id"], answer["id"],
                                                                                 update["id"], hangup["id"]})
            await no_message(other)  # agent1002 heard nothing of it
            for ws in (mine, other):
                await ws.close()
    finally:
        await tracker.stop()
