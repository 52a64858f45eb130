"""排队回电 (virtual hold): the caller who pressed 1 keeps their place and is connected first."""
from __future__ import annotations

import re

import aiohttp
import pytest

from tests.support.web_support import events_within

pytestmark = pytest.mark.asterisk

KEEPER = "13900000501"      # presses 1 after the offer, hangs up, is called back
AGENT_V1 = "tok-vhold-agent-v1-0123456789"
LATER = "anonymous"         # arrives after them and waits (no number: never a missed-call task)


def _joined(e: dict, queue: str = "hotline-vhold") -> bool:
    return e.get("Event") == "QueueCallerJoin" and e.get("Queue") == queue


async def test_caller_who_pressed_1_is_connected_before_a_caller_who_arrived_after_them(cblab):
    center = cblab.center_ami
    since = len(center.events)
    # An answered caller (the IVR played its prompt) waits in vhold; the offer comes after 2 s.
    waiting = {"HOTLINE_PROMPT": "hotline/callback-thanks", "__HOTLINE_QUEUE": "vhold", "__HOTLINE_LINE": "water",
               "__HOTLINE_DIALED": "96116"}
    await center.originate("s", context="hotline-act-queue", caller_context="hotline-testcall", callerid=KEEPER,
                           variables=waiting | {"HOTLINE_TEST_DTMF": "1", "HOTLINE_TEST_DTMF_AFTER": "3.5",
                                                "HOTLINE_TEST_HOLD": "5"})
    await center.wait_for(_joined, since=since)
    later = await center.originate("s", context="hotline-act-queue", caller_context="hotline-testcall",
                                   callerid=LATER, variables=waiting | {"HOTLINE_TEST_HOLD": "40"})
    await center.wait_for(lambda e: _joined(e) and e.get("Position") == "2", since=since)

    task = await cblab.task_for("queue", KEEPER)
    assert task["origin"]["queue"] == "vhold" and task["origin"]["position"] == 1
    assert task["origin"]["line"] == "water" and task["origin"]["dialed"] == "96116"
    assert re.fullmatch(r"[0-9.]+", task["origin"]["linkedid"])  # the call the caller pressed 1 on
    # The kept place is back in the queue at the caller's position, ahead of the later caller.
    place = await center.wait_for(lambda e: _joined(e) and e.get("CallerIDNum") == KEEPER, since=since)
    assert place["Position"] == "1", place
    assert cblab.outside_calls(KEEPER) == []  # nobody is called before an agent is reserved

    marker = len(center.events)
    member = {"Queue": "hotline-vhold", "Interface": "Local/v1@sim-agents/n", "MemberName": "v1"}
    http = aiohttp.ClientSession()
    ws = await http.ws_connect(f"http://127.0.0.1:{cblab.server.web_port}/ws?token={AGENT_V1}&last_event_id=0")
    assert (await center.action({"Action": "QueueAdd", **member}, as_list=False)).success
    try:
        agent = await center.wait_for(lambda e: e.get("Event") == "UserEvent" and e.get("UserEvent") == "SimAgent",
                                      since=marker, timeout=20)
        # The agent's first call is the kept place: a callback, with the original line.
        assert agent["Agent"] == "v1" and agent["Callback"] == "queue" and agent["Line"] == "water", agent
        assert agent["Tag"] != later
        seen = await cblab.ami.wait_for(lambda e: e.get("UserEvent") == "OutsideCall" and e.get("Number") == KEEPER,
                                        timeout=20)
        assert seen["Caller"] == "12345"   # the citizen's phone shows 12345
        # The agent's screen pop says it is a queue callback, for the citizen, on the original line.
        pops = [e["payload"] for e in await events_within(ws, 3) if e["kind"] == "answer"]
        assert pops and pops[0]["callback"] == "queue" and pops[0]["line"] == "water", pops
        assert pops[0]["caller"] == KEEPER and pops[0]["queue"] == "vhold"
        [done] = await cblab.settled([task["id"]], timeout=40)
        assert done["state"] == "done" and done["result"] == "answered", done
        [attempt] = done["attempt_log"]
        assert attempt["detail"]["dial_status"] == "ANSWER"   # the citizen answered
        # The later caller was not connected before them.
        first = [e for e in center.events[marker:] if e.get("UserEvent") == "SimAgent"]
        assert first[0]["Callback"] == "queue"
    finally:
        await ws.close()
        await http.close()
        await center.action({"Action": "QueueRemove", "Queue": "hotline-vhold", "Interface": member["Interface"]},
                            as_list=False)
        await _hang_up_tag(center, later)


async def _hang_up_tag(center, tag: str) -> None:
    """End the later caller's test call (its channels carry HOTLINE_TEST_TAG)."""
    reply = await center.action({"Action": "CoreShowChannels"}, as_list=True)
    for ch in reply if isinstance(reply, list) else [reply]:
        name = str(ch.get("Channel") or "")
        if ch.get("Event") == "CoreShowChannel" and name.startswith("Local/s@hotline-act-queue"):
            if await center.getvar(name, "HOTLINE_TEST_TAG") == tag:
                await center.action({"Action": "Hangup", "Channel": name}, as_list=False)
