"""Blind and attended variants of the sub-center transfer."""
from __future__ import annotations


import pytest

from ivr.storage import repo
from tests.transfer.support import CALLER_HZ, SUBCENTER_HZ, pcm, tone_flowing, tone_share

pytestmark = pytest.mark.asterisk


async def test_blind_transfer_frees_the_agent_before_the_subcenter_answers(xlab):
    lab = xlab
    await lab.set_subcenter(SIM_DELAY="2")
    call, sim, legs = await lab.connected_call()
    since, sub_since = len(lab.ami.events), len(lab.sub_ami.events)
    result = await lab.transfers.transfer(call.call_id, "subcenter", "tax", "blind", agent="g1")
    await lab.ami.wait_for(lambda e: e.get("Event") == "Hangup" and e.get("Channel") == legs.agent, since=since,
                           timeout=5)
    assert not [e for e in lab.sub_ami.events[sub_since:] if e.get("UserEvent") == "SubcenterAgent"], \
        "the agent should be gone before the sub-center answers"
    sub = await lab.subcenter_answer(since=sub_since)
    xfer = await lab.transfers.wait(result["id"], timeout=10)
    assert xfer.state == "completed"
    assert lab.hangup_index(legs.caller, since) is None
    assert await tone_flowing(lab.subcenter_heard(sub), CALLER_HZ) > 0.5
    rows = await lab.services.store.run(repo.transfers, call.call_id)
    assert [(r["kind"], r["result"]) for r in rows] == [("blind", "completed")]


async def test_blind_transfer_failure_puts_caller_back_in_the_pool(xlab):
    lab = xlab
    await lab.set_subcenter(SIM_MODE="busy")
    call, sim, legs = await lab.connected_call()
    await lab.login("g2")
    since = len(lab.ami.events)
    result = await lab.transfers.transfer(call.call_id, "subcenter", "tax", "blind", agent="g1")
    xfer = await lab.transfers.wait(result["id"], timeout=10)
    assert xfer.state == "failed" and xfer.reason == "BUSY" and xfer.rescued
    sim2 = await lab.answered_by(call, "g2")
    assert lab.hangup_index(legs.caller, since) is None
    assert await tone_flowing(lab.agent_recording(sim2), CALLER_HZ) > 0.5


async def test_attended_transfer_consults_privately_then_hands_over(xlab):
    lab = xlab
    call, sim, legs = await lab.connected_call()
    since, sub_since = len(lab.ami.events), len(lab.sub_ami.events)
    result = await lab.transfers.transfer(call.call_id, "subcenter", "tax", "attended", agent="g1")
    sub = await lab.subcenter_answer(since=sub_since)
    await lab.until_status(call, "consulting")
    # on hold: the sub-center does not hear the caller, the caller does not hear the consultation
    assert await tone_flowing(lab.subcenter_heard(sub), CALLER_HZ) < 0.1
    heard = lab.recordings() / f"testcall-{call.tag}-heard.wav"
    assert tone_share(pcm(heard), SUBCENTER_HZ, len(pcm(heard)) / 8000 - 2) < 0.1
    await lab.transfers.complete(call.call_id, agent="g1")
    await lab.ami.wait_for(lambda e: e.get("Event") == "Hangup" and e.get("Channel") == legs.agent, since=since)
    assert await tone_flowing(lab.subcenter_heard(sub), CALLER_HZ) > 0.5
    assert lab.hangup_index(legs.caller, since) is None
    xfer = await lab.transfers.wait(result["id"], timeout=5)
    assert xfer.state == "completed"


async def test_attended_transfer_cancelled_returns_caller_to_agent(xlab):
    lab = xlab
    call, sim, legs = await lab.connected_call()
    since, sub_since = len(lab.ami.events), len(lab.sub_ami.events)
    result = await lab.transfers.transfer(call.call_id, "subcenter", "tax", "attended", agent="g1")
    sub = await lab.subcenter_answer(since=sub_since)
    await lab.until_status(call, "consulting")
    await lab.transfers.cancel(call.call_id, agent="g1")
    await lab.sub_ami.wait_for(lambda e: e.get("Event") == "Hangup" and e.get("Channel") == sub["Channel"],
                               since=sub_since)
    xfer = await lab.transfers.wait(result["id"], timeout=5)
    assert xfer.state == "cancelled"
    assert await tone_flowing(lab.agent_recording(sim), CALLER_HZ) > 0.5, "caller still muted"
    assert lab.hangup_index(legs.caller, since) is None
