"""Expert seats (专家座席): a dual-number call rings its expert queue first and
overflows to the general pool after the configured wait; a general agent can
pull an expert into the call (three-way) and leave."""
from __future__ import annotations

import time

import pytest

from ivr.storage import repo
from tests.transfer.support import CALLER_HZ, tone_flowing

pytestmark = pytest.mark.asterisk


def _joined(queue: str, call_id: str):
    return lambda e: e.get("Event") == "QueueCallerJoin" and e.get("Queue") == queue and e.get("Linkedid") == call_id


async def test_expert_queue_overflows_to_general_after_configured_wait(xlab):
    lab = xlab  # hrss-expert: overflow_after 3 s -> general
    await lab.login("e9", "hrss-expert", context="xfer-ring-agents")   # logged in, never picks up
    await lab.login("g1")
    since = len(lab.ami.events)
    call = await lab.place("12333")
    await lab.ami.wait_for(_joined("hotline-hrss-expert", call.call_id), since=since)
    joined_expert = time.monotonic()
    await lab.ami.wait_for(lambda e: e.get("UserEvent") == "SimAgentRing" and e.get("Agent") == "e9", since=since)
    await lab.ami.wait_for(_joined("hotline-general", call.call_id), since=since, timeout=10)
    waited = time.monotonic() - joined_expert
    assert 2.5 <= waited <= 5.0, f"overflow after {waited:.1f}s, configured 3s"
    sim = await lab.answered_by(call, "g1")
    assert sim["Line"] == "hrss-12333"      # the line tag stays with the overflowed call
    assert await lab.ami.getvar((await lab.legs(call)).caller, "HOTLINE_OVERFLOWED") == "hrss-expert"
    assert await tone_flowing(lab.agent_recording(sim), CALLER_HZ) > 0.5


async def test_expert_answers_within_the_wait(xlab):
    lab = xlab
    await lab.login("e1", "hrss-expert")
    await lab.login("g1")
    since = len(lab.ami.events)
    call = await lab.place("12333")
    sim = await lab.answered_by(call, "e1")
    assert sim["Queue"] == "hrss-expert"
    assert not [e for e in lab.ami.events[since:] if _joined("hotline-general", call.call_id)(e)]


async def test_general_agent_pulls_expert_into_call_and_leaves(xlab):
    lab = xlab
    await lab.login("e1", "hrss-expert")
    call, _, legs = await lab.connected_call()
    since = len(lab.ami.events)
    result = await lab.transfers.transfer(call.call_id, "expert", "hrss-expert", "threeway", agent="g1")
    expert = await lab.ami.wait_for(lambda e: e.get("UserEvent") == "SimAgent" and e.get("Agent") == "e1",
                                    since=since)
    await lab.until_status(call, "connected")
    await lab.transfers.complete(call.call_id, agent="g1")
    await lab.ami.wait_for(lambda e: e.get("Event") == "Hangup" and e.get("Channel") == legs.agent, since=since)
    assert await tone_flowing(lab.agent_recording(expert), CALLER_HZ) > 0.5
    assert lab.hangup_index(legs.caller, since) is None
    # the expert is the call's agent now
    assert lab.transfers.calls.legs(call.call_id).agent_id == "e1"
    rows = await lab.services.store.run(repo.transfers, call.call_id)
    assert [(r["target"], r["result"]) for r in rows] == [("expert:hrss-expert", "completed")]
    assert (await lab.transfers.wait(result["id"])).state == "completed"


async def test_blind_transfer_to_expert_queue_over_http(xlab):
    """The console's default for an expert queue is blind: the agent is free at once."""
    lab = xlab
    await lab.login("e1", "hrss-expert")
    call, _, legs = await lab.connected_call(owned=True)
    since = len(lab.ami.events)
    async with lab.http("g1") as http:
        resp = await http.post(f"/api/calls/{call.call_id}/transfer", json={"kind": "expert", "target": "hrss-expert"})
        assert resp.status == 202, await resp.text()
        assert (await resp.json())["mode"] == "blind"
    await lab.ami.wait_for(lambda e: e.get("Event") == "Hangup" and e.get("Channel") == legs.agent, since=since)
    expert = await lab.ami.wait_for(lambda e: e.get("UserEvent") == "SimAgent" and e.get("Agent") == "e1",
                                    since=since)
    assert await tone_flowing(lab.agent_recording(expert), CALLER_HZ) > 0.5
    assert lab.hangup_index(legs.caller, since) is None
