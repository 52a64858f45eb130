"""排队回电, caller-first (`queue_callback_mode: caller_first`): the citizen is dialed first
once an agent is free, then joined to that agent; a citizen who does not answer is retried
per policy and no agent is held for them."""
from __future__ import annotations

import asyncio

import aiohttp
import pytest

from callbacks import repo
from tests.callbacks.outside import CallbackLab
from tests.support.audio import goertzel_share, read_channels
from tests.support.lab import running
from tests.support.web_support import events_within

pytestmark = pytest.mark.asterisk

SPEAKER = "13900000701"     # answers the callback and "speaks" a 1 kHz tone
SILENT = "13900000013"      # rings until the center gives up
AGENT_V1 = "tok-vhold-agent-v1-0123456789"
WAITING = {"HOTLINE_PROMPT": "hotline/callback-thanks", "__HOTLINE_QUEUE": "vhold", "__HOTLINE_LINE": "water",
           "__HOTLINE_DIALED": "96116"}


@pytest.fixture(scope="module")
async def firstlab(tmp_path_factory):
    async with running(CallbackLab(tmp_path_factory.mktemp("vhold-first"),
                                   {"callbacks.queue_callback_mode": "caller_first"})) as lab:
        yield lab


async def _press_1(lab, number: str) -> dict:
    """`number` waits in vhold (no agent), hears the offer, presses 1 and hangs up: its queue task."""
    await lab.center_ami.originate("s", context="hotline-act-queue", caller_context="hotline-testcall",
                                   callerid=number, variables=WAITING | {"HOTLINE_TEST_DTMF": "1",
                                                                         "HOTLINE_TEST_DTMF_AFTER": "3.5",
                                                                         "HOTLINE_TEST_HOLD": "5"})
    return await lab.task_for("queue", number)


async def _member(lab, name: str) -> dict:
    """The queue member's QueueStatus entry (Status 1 = not in use, free for the next caller)."""
    reply = await lab.center_ami.action({"Action": "QueueStatus", "Queue": "hotline-vhold"}, as_list=True)
    [m] = [e for e in reply if e.get("Event") == "QueueMember" and e.get("Name") == name]
    return m


async def test_citizen_is_called_first_then_joined_to_a_free_agent(firstlab):
    lab, center = firstlab, firstlab.center_ami
    task = await _press_1(lab, SPEAKER)
    assert task["origin"]["line"] == "water" and task["origin"]["dialed"] == "96116"
    await asyncio.sleep(1.5)  # due now, but caller-first waits for a free agent
    assert (await lab.engine.store.run(repo.get_task, task["id"]))["state"] == "pending"
    assert lab.outside_calls(SPEAKER) == []

    marker = len(center.events)
    member = {"Queue": "hotline-vhold", "Interface": "Local/v1@sim-agents/n", "MemberName": "v1"}
    http = aiohttp.ClientSession()
    ws = await http.ws_connect(f"http://127.0.0.1:{lab.server.web_port}/ws?token={AGENT_V1}&last_event_id=0")
    assert (await center.action({"Action": "QueueAdd", **member}, as_list=False)).success
    try:
        seen = await lab.ami.wait_for(lambda e: e.get("UserEvent") == "OutsideCall" and e.get("Number") == SPEAKER,
                                      timeout=20)
        assert seen["Caller"] == "12345"   # the citizen's phone shows 12345
        agent = await center.wait_for(lambda e: e.get("Event") == "UserEvent" and e.get("UserEvent") == "SimAgent",
                                      since=marker, timeout=20)
        # The free agent got the citizen, flagged as a queue callback on the original line.
        assert agent["Agent"] == "v1" and agent["Callback"] == "queue" and agent["Line"] == "water", agent
        assert agent["Caller"] == SPEAKER and agent["Queue"] == "vhold"
        pops = [e["payload"] for e in await events_within(ws, 3) if e["kind"] == "answer"]
        assert pops and pops[0]["callback"] == "queue" and pops[0]["line"] == "water", pops
        assert pops[0]["caller"] == SPEAKER and pops[0]["queue"] == "vhold"
        [done] = await lab.settled([task["id"]], timeout=30)
        assert done["state"] == "done" and done["result"] == "answered", done
        assert [a["cause"] for a in done["attempt_log"]] == ["answered"]
        assert len(lab.outside_calls(SPEAKER)) == 1
        # Both legs were bridged: the agent heard the citizen's voice.
        [heard], rate = read_channels(lab.recordings / f"agent-v1-{agent['Uniqueid']}.wav")
        assert goertzel_share(heard, rate, 1000) > 0.3
    finally:
        await ws.close()
        await http.close()
        await center.action({"Action": "QueueRemove", "Queue": "hotline-vhold", "Interface": member["Interface"]},
                            as_list=False)


async def test_citizen_who_does_not_answer_is_retried_and_no_agent_is_held(firstlab):
    lab, center = firstlab, firstlab.center_ami
    task = await _press_1(lab, SILENT)
    marker = len(center.events)
    member = {"Queue": "hotline-vhold", "Interface": "Local/v2@sim-agents/n", "MemberName": "v2"}
    assert (await center.action({"Action": "QueueAdd", **member}, as_list=False)).success
    try:
        # Two attempts (max_attempts 2, retry after 1 s), each ringing out after ring_timeout (5 s).
        [done] = await lab.settled([task["id"]], timeout=30)
        assert done["state"] == "done" and done["result"] == "no_answer" and done["attempts"] == 2, done
        assert "最多2次" in done["reason"], done
        assert [a["cause"] for a in done["attempt_log"]] == ["no_answer", "no_answer"], done["attempt_log"]
        assert all(a["ended_at"] for a in done["attempt_log"])
        assert len(lab.outside_calls(SILENT)) == 2
        # The agent was never rung for it and is free for the next caller.
        assert not [e for e in center.events[marker:] if e.get("UserEvent") == "SimAgent"]
        m = await _member(lab, "v2")
        assert m["Status"] == "1" and m["Paused"] == "0" and m["InCall"] == "0", m
    finally:
        await center.action({"Action": "QueueRemove", "Queue": "hotline-vhold", "Interface": member["Interface"]},
                            as_list=False)
