"""A server restart in the middle of a campaign loses and doubles nothing."""
from __future__ import annotations

import asyncio

import pytest

from callbacks import repo

pytestmark = pytest.mark.asterisk


async def test_restart_mid_campaign_loses_and_doubles_nothing(cblab):
    numbers = [f"1390000020{i}" for i in range(3)]  # answer, press 1 after 8 s
    ids = [(await cblab.engine.add("survey", n))[0]["id"] for n in numbers]
    for _ in range(100):  # the cap (2) lets two calls out; the third waits
        if len(cblab.outside_calls()) and sum(len(cblab.outside_calls(n)) for n in numbers) >= 2:
            break
        await asyncio.sleep(0.1)
    states = sorted(t["state"] for t in [await cblab.engine.store.run(repo.get_task, i) for i in ids])
    assert states == ["dialing", "dialing", "pending"]
    await cblab.stop_server()            # both calls stay up on Asterisk, in the survey
    await cblab.start_server()           # a new process would see exactly this database
    tasks = await cblab.settled(ids, timeout=60)
    for number, task in zip(numbers, tasks):
        assert task["state"] == "done" and task["result"] == "answered", task
        assert task["attempts"] == 1 and len(task["attempt_log"]) == 1, task
        assert task["answers"]["satisfaction"]["text"] == "满意", task  # pressed after the restart
        assert len(cblab.outside_calls(number)) == 1  # nobody was called twice


KEPT = "13900000502"  # presses 1 in vhold, then answers the callback and stays 10 s
KEPT_OFFLINE = "13900000503"  # the same, called back and done while the server is down
WAITING = {"HOTLINE_PROMPT": "hotline/callback-thanks", "__HOTLINE_QUEUE": "vhold", "__HOTLINE_LINE": "water",
           "__HOTLINE_DIALED": "96116", "HOTLINE_TEST_DTMF": "1", "HOTLINE_TEST_DTMF_AFTER": "3.5",
           "HOTLINE_TEST_HOLD": "5"}


async def _kept_place(cblab, number: str) -> tuple[dict, dict]:
    """`number` presses 1 in vhold: (its queue task, the kept place's QueueCallerJoin)."""
    center = cblab.center_ami
    since = len(center.events)
    await center.originate("s", context="hotline-act-queue", caller_context="hotline-testcall", callerid=number,
                           variables=WAITING)
    # The kept place (not the caller: they pressed 1 and left) waits in the queue on Asterisk.
    place = await center.wait_for(lambda e: e.get("Event") == "QueueCallerJoin" and e.get("CallerIDNum") == number
                                  and e.get("Channel", "").startswith("Local/s@hotline-qcb-place"), since=since)
    [task] = [t for t in await cblab.engine.store.run(repo.list_tasks) if t["number"] == number]
    assert task["flow"] == "queue" and task["state"] == "dialing", task
    return task, place


async def test_restart_while_a_place_is_kept_calls_the_citizen_back_exactly_once(cblab):
    center = cblab.center_ami
    task, place = await _kept_place(cblab, KEPT)
    await cblab.stop_server()
    await cblab.start_server()           # a new process would see exactly this database
    await asyncio.sleep(1)               # it has looked at Asterisk's channels (recovery) by now
    assert (await cblab.engine.store.run(repo.get_task, task["id"]))["state"] == "dialing"
    assert cblab.outside_calls(KEPT) == []  # still waiting for an agent: nobody called yet

    marker = len(center.events)
    member = {"Queue": "hotline-vhold", "Interface": "Local/v3@sim-agents/n", "MemberName": "v3"}
    assert (await center.action({"Action": "QueueAdd", **member}, as_list=False)).success
    try:
        agent = await center.wait_for(lambda e: e.get("UserEvent") == "SimAgent" and e.get("Agent") == "v3",
                                      since=marker, timeout=20)
        assert agent["Callback"] == "queue" and agent["Line"] == "water", agent
        assert place["Position"] == "1"
        [done] = await cblab.settled([task["id"]], timeout=30)
        assert done["state"] == "done" and done["result"] == "answered", done
        assert done["attempts"] == 1 and len(done["attempt_log"]) == 1, done
        assert done["attempt_log"][0]["detail"]["dial_status"] == "ANSWER"
        await asyncio.sleep(1.5)         # a second call would have started by now (poll 0.2 s, retry 1 s)
        assert len(cblab.outside_calls(KEPT)) == 1
        assert [t["id"] for t in await cblab.engine.store.run(repo.list_tasks) if t["number"] == KEPT] == [task["id"]]
    finally:
        await center.action({"Action": "QueueRemove", "Queue": "hotline-vhold", "Interface": member["Interface"]},
                            as_list=False)


async def test_callback_done_while_the_server_is_down_is_not_placed_again(cblab):
    center = cblab.center_ami
    task, _ = await _kept_place(cblab, KEPT_OFFLINE)
    await cblab.stop_server()
    marker = len(center.events)
    member = {"Queue": "hotline-vhold", "Interface": "Local/v4@sim-agents/n", "MemberName": "v4"}
    assert (await center.action({"Action": "QueueAdd", **member}, as_list=False)).success
    try:
        # While nobody listens: the agent takes the place, the citizen answers, talks 10 s and hangs up.
        await center.wait_for(lambda e: e.get("UserEvent") == "SimAgent" and e.get("Agent") == "v4",
                              since=marker, timeout=20)
        await cblab.ami.wait_for(lambda e: e.get("Event") == "Hangup" and e.get("Exten") == KEPT_OFFLINE,
                                 timeout=20)
        await center.wait_for(lambda e: e.get("Event") == "Hangup"
                              and e.get("Channel", "").startswith("Local/s@hotline-qcb-place"), since=marker)
    finally:
        await center.action({"Action": "QueueRemove", "Queue": "hotline-vhold", "Interface": member["Interface"]},
                            as_list=False)
    await cblab.start_server()
    [done] = await cblab.settled([task["id"]], timeout=20)
    assert done["state"] == "done" and done["result"] == "answered", done
    assert done["attempts"] == 1 and done["attempt_log"][0]["detail"]["dial_status"] == "ANSWER", done
    await asyncio.sleep(1.5)             # a retry would have started by now (poll 0.2 s, retry 1 s)
    assert len(cblab.outside_calls(KEPT_OFFLINE)) == 1   # called back exactly once
    shown = await center.action({"Action": "Command", "Command": "database show hotline_cb"}, as_list=False)
    assert done["attempt_log"][0]["channel_id"] not in str(shown), shown  # the dialplan's note is gone
