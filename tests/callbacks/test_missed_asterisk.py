"""漏接回拨: a caller who hung up in the queue is called back once an agent is free."""
from __future__ import annotations

import asyncio

import pytest

from callbacks import repo

pytestmark = pytest.mark.asterisk

CITIZEN = "13900000301"


async def test_abandoned_call_is_called_back_when_an_agent_frees_up(cblab):
    center = cblab.center_ami
    # The citizen calls 12345, waits ~4 s in the general queue (no agent) and hangs up.
    await center.originate("12345", caller_context="hotline-testcall", callerid=CITIZEN,
                           variables={"HOTLINE_TEST_HOLD": "4"})
    task = await cblab.task_for("missed", CITIZEN)
    assert task["origin"]["queue"] == "hotline-general" and task["origin"]["hold_s"] >= 2
    await asyncio.sleep(2)  # due at once (missed_delay 0), but nobody is free to take the call
    assert (await cblab.engine.store.run(repo.get_task, task["id"]))["state"] == "pending"
    assert cblab.outside_calls(CITIZEN) == []
    since = len(center.events)
    reply = await center.action({"Action": "QueueAdd", "Queue": "hotline-general",
                                 "Interface": "Local/cb1@sim-agents/n", "MemberName": "cb1"}, as_list=False)
    assert reply.success
    try:
        agent = await center.wait_for(lambda e: e.get("Event") == "UserEvent" and e.get("UserEvent") == "SimAgent",
                                      since=since, timeout=30)
        [seen] = cblab.outside_calls(CITIZEN)
        assert seen["Caller"] == "12345" and agent["Agent"] == "cb1" and agent["Queue"] == "general"
        [done] = await cblab.settled([task["id"]], timeout=30)
        assert done["state"] == "done" and done["result"] == "answered"
        assert [a["cause"] for a in done["attempt_log"]] == ["answered"]
    finally:
        await center.action({"Action": "QueueRemove", "Queue": "hotline-general", "Interface": "Local/cb1@sim-agents/n"}, as_list=False)
