"""Failure never drops the caller: sub-center busy, no answer, trunk down, the
agent's own leg failing. Each time the caller is still up with audio flowing,
the agent is told on screen, and the attempt is recorded."""
from __future__ import annotations

import time

import pytest

from ivr.storage import repo
from tests.transfer.support import CALLER_HZ, tone_flowing

pytestmark = pytest.mark.asterisk


async def _still_with_agent(lab, legs, sim) -> None:
    channels = {c["Channel"]: c for c in await lab.channels()}
    assert channels[legs.caller]["ChannelStateDesc"] == "Up"
    assert channels[legs.agent]["BridgeId"] == channels[legs.caller]["BridgeId"]
    assert await tone_flowing(lab.agent_recording(sim), CALLER_HZ) > 0.5, "the agent no longer hears the caller"


async def _notices(hub, agent: str, since_id: int) -> list[dict]:
    sub = hub.subscribe(agent, last_event_id=since_id)
    try:
        return [e.payload for e in sub.backlog if e.kind == "notice"]
    finally:
        hub.unsubscribe(sub.subscription)


@pytest.mark.parametrize("case,target,status", [
    ("busy", "tax", "BUSY"),
    ("noanswer", "tax", "NOANSWER"),
    ("trunk_down", "down", None),
    ("instance_stopped", "tax", None),
])
async def test_failure_leaves_caller_with_agent(xlab, case, target, status):
    lab = xlab
    if case in ("busy", "noanswer"):
        await lab.set_subcenter(SIM_MODE=case)
    call, sim, legs = await lab.connected_call()
    if case == "instance_stopped":
        lab.sub.stop()
    since, hub_since = len(lab.ami.events), lab.services.hub.last_id
    started = time.monotonic()
    try:
        result = await lab.transfers.transfer(call.call_id, "subcenter", target, "threeway", agent="g1")
        xfer = await lab.transfers.wait(result["id"], timeout=40)
    finally:
        if case == "instance_stopped":
            await lab.restart_subcenter()
    elapsed = time.monotonic() - started
    assert xfer.state == "failed" and not xfer.rescued
    if status:
        assert xfer.reason == status
    if case == "noanswer":  # the sub-center's answer_timeout (4 s in the lab)
        assert 3.5 < elapsed < 8, elapsed
    await _still_with_agent(lab, legs, sim)
    assert lab.hangup_index(legs.caller, since) is None
    notices = await _notices(lab.services.hub, "g1", hub_since)
    assert notices and "来电人仍与您通话" in notices[-1]["message"]
    rows = await lab.services.store.run(repo.transfers, call.call_id)
    assert [(r["target"], r["result"]) for r in rows] == [(f"subcenter:{target}", "failed")]
    print(case, xfer.reason, round(elapsed, 2))


async def test_agent_leg_fails_while_subcenter_rings_then_no_answer(xlab):
    """The agent's phone drops mid-transfer and the sub-center never answers:
    the caller goes back to the 12345 pool and another agent gets them."""
    lab = xlab
    await lab.set_subcenter(SIM_MODE="noanswer")
    call, sim, legs = await lab.connected_call()
    since = len(lab.ami.events)
    result = await lab.transfers.transfer(call.call_id, "subcenter", "tax", "threeway", agent="g1")
    await lab.ami.wait_for(lambda e: e.get("Event") == "BridgeEnter" and e.get("Uniqueid") == f"{result['id']}-1",
                           since=since)
    await lab.login("g2")
    await lab.ami.action({"Action": "Hangup", "Channel": legs.agent, "Cause": "38"})  # network out of order
    xfer = await lab.transfers.wait(result["id"], timeout=20)
    assert xfer.state == "failed" and xfer.rescued
    sim2 = await lab.answered_by(call, "g2")
    assert lab.hangup_index(legs.caller, since) is None
    assert await tone_flowing(lab.agent_recording(sim2), CALLER_HZ) > 0.5
    rows = await lab.services.store.run(repo.transfers, call.call_id)
    assert rows[-1]["result"] == "failed" and rows[-1]["detail"]["rescued"] is True


async def test_agent_leg_fails_while_subcenter_rings_then_answer(xlab):
    """The agent's phone drops mid-transfer, the sub-center answers: caller and sub-center talk."""
    lab = xlab
    await lab.set_subcenter(SIM_MODE="answer")
    await lab.set_subcenter(SIM_DELAY="2")
    call, sim, legs = await lab.connected_call()
    since, sub_since = len(lab.ami.events), len(lab.sub_ami.events)
    result = await lab.transfers.transfer(call.call_id, "subcenter", "tax", "threeway", agent="g1")
    await lab.ami.wait_for(lambda e: e.get("Event") == "BridgeEnter" and e.get("Uniqueid") == f"{result['id']}-1",
                           since=since)
    await lab.ami.action({"Action": "Hangup", "Channel": legs.agent, "Cause": "38"})
    sub = await lab.subcenter_answer(since=sub_since)
    xfer = await lab.transfers.wait(result["id"], timeout=20)
    assert xfer.state == "completed"
    assert lab.hangup_index(legs.caller, since) is None
    assert await tone_flowing(lab.subcenter_heard(sub), CALLER_HZ) > 0.5
