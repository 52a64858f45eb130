"""回拨 clicked by an agent: the citizen is connected to that agent, not to whoever the queue picks."""
from __future__ import annotations

import aiohttp
import pytest

from callbacks import repo
from tests.support.web_support import events_within

pytestmark = pytest.mark.asterisk

CITIZEN = "13900000303"      # outside world: answers and stays 6 s
CITIZEN_2 = "13900000304"
G1 = "tok-general-agent-g1-0123456789"   # agent g1 (B) clicks
A = {"Queue": "hotline-general", "Interface": "Local/a1@sim-agents/n", "MemberName": "a1", "Penalty": "0"}
B = {"Queue": "hotline-general", "Interface": "Local/g1@sim-agents/n", "MemberName": "g1", "Penalty": "1"}


def _sim(e: dict) -> bool:
    return e.get("Event") == "UserEvent" and e.get("UserEvent") == "SimAgent"


async def _missed_later(cblab, number: str) -> dict:
    """A missed call waiting for 回拨 (not due for an hour: nothing places it before the click)."""
    engine = cblab.engine
    task, created, _ = await engine.store.run(repo.add_task, engine.policy, engine.clock(), "missed", number, None,
                                              None, delay_s=3600, origin={"linkedid": "1700000000.1",
                                                                         "queue": "hotline-general", "hold_s": 9})
    assert created
    return task


async def test_clicked_callback_reaches_the_clicking_agent_and_falls_back_to_the_queue_when_busy(cblab):
    center, engine = cblab.center_ami, cblab.engine
    for t in await engine.store.run(repo.missed_open):  # earlier tests' leftovers must not take the agents
        await engine.cancel(t["id"])
    task = await _missed_later(cblab, CITIZEN)
    base = f"http://127.0.0.1:{cblab.server.web_port}"
    http = aiohttp.ClientSession(headers={"Authorization": f"Bearer {G1}"})
    ws = await http.ws_connect(f"{base}/ws?token={G1}&last_event_id=0")
    for member in (A, B):  # both free; the queue alone would ring a1 (lower penalty)
        assert (await center.action({"Action": "QueueAdd", **member}, as_list=False)).success
    try:
        since = len(center.events)
        async with http.post(f"{base}/api/callbacks/{task['id']}/dial") as r:
            assert r.status == 200
        agent = await center.wait_for(_sim, since=since, timeout=30)
        assert agent["Agent"] == "g1" and agent["Callback"] == "missed", agent
        assert [e["Caller"] for e in cblab.outside_calls(CITIZEN)] == ["12345"]
        pops = [e["payload"] for e in await events_within(ws, 3) if e["kind"] == "answer"]
        assert pops and pops[-1]["callback"] == "missed" and pops[-1]["agent"] == "g1", pops
        assert pops[-1]["caller"] == CITIZEN and agent["Caller"] == CITIZEN
        [done] = await cblab.settled([task["id"]], timeout=30)
        assert done["state"] == "done" and done["result"] == "answered"
        [attempt] = done["attempt_log"]
        assert attempt["detail"]["agent"] == {"asked": "g1", "result": "接通点击回拨的座席"}
        assert [e["Agent"] for e in center.events[since:] if _sim(e)] == ["g1"]   # a1 was never rung

        # g1 示忙 (paused): the click still calls the citizen, who joins the queue (a1), and the attempt says why.
        task2 = await _missed_later(cblab, CITIZEN_2)
        assert (await center.action({"Action": "QueuePause", "Interface": B["Interface"], "Paused": "true"},
                                    as_list=False)).success
        since = len(center.events)
        async with http.post(f"{base}/api/callbacks/{task2['id']}/dial") as r:
            assert r.status == 200
        agent = await center.wait_for(_sim, since=since, timeout=30)
        assert agent["Agent"] == "a1" and agent["Callback"] == "missed", agent
        [done] = await cblab.settled([task2["id"]], timeout=30)
        assert done["result"] == "answered"
        assert done["attempt_log"][0]["detail"]["agent"] == {"asked": "g1", "result": "座席示忙，转入队列"}
    finally:
        await ws.close()
        await http.close()
        for member in (A, B):
            await center.action({"Action": "QueueRemove", "Queue": member["Queue"], "Interface": member["Interface"]},
                                as_list=False)
