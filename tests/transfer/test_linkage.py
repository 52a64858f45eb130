"""Emergency, utility and provincial linkage: through the configured trunk, keeping the caller's number."""
from __future__ import annotations


import pytest

from ivr.storage import repo
from tests.transfer.support import CALLER_HZ, CALLER_NUMBER, tone_flowing

pytestmark = pytest.mark.asterisk


def _outside(number: str):
    return lambda e: e.get("UserEvent") == "SimOutside" and e.get("Number") == number


@pytest.mark.parametrize("kind,target,number", [
    ("emergency", "119", "119"),
    ("provincial", "", "093112345"),
    ("utility", "09438220001", "09438220001"),
])
async def test_linkage_over_local_trunk_keeps_caller_number(xlab, kind, target, number):
    lab = xlab
    call, _, legs = await lab.connected_call(owned=True)
    since = len(lab.ami.events)
    async with lab.http("g1") as http:
        resp = await http.post(f"/api/calls/{call.call_id}/transfer", json={"kind": kind, "target": target})
        assert resp.status == 202, await resp.text()
    far = await lab.ami.wait_for(_outside(number), since=since)
    assert far["CallerIDNum"] == CALLER_NUMBER        # the operator sees the citizen's number
    await lab.until_status(call, "connected")
    await lab.transfers.complete(call.call_id, agent="g1")
    recording = lab.recordings() / f"outside-{number}-{far['Uniqueid']}.wav"
    assert await tone_flowing(recording, CALLER_HZ) > 0.5
    assert lab.hangup_index(legs.caller, since) is None


async def test_utility_over_pjsip_trunk_keeps_caller_number(xlab):
    lab = xlab
    await lab.login("g1")
    call = await lab.place("12345")
    await lab.answered_by(call, "g1")
    sub_since = len(lab.sub_ami.events)
    await lab.transfers.transfer(call.call_id, "utility", "95598", "blind", agent="g1")
    far = await lab.subcenter_answer(since=sub_since)
    assert far["Number"] == "95598"
    assert far["Caller"] == CALLER_NUMBER              # through SIP: the From header carries it
    assert await tone_flowing(lab.subcenter_heard(far), CALLER_HZ) > 0.5


async def test_speech_layer_sends_waiting_caller_to_119(xlab):
    """No agent yet (the caller waits in the queue); the speech layer hears a fire report."""
    lab = xlab
    since = len(lab.ami.events)
    call = await lab.place("12345")
    await lab.ami.wait_for(lambda e: e.get("Event") == "QueueCallerJoin" and e.get("Linkedid") == call.call_id,
                           since=since)
    result = await lab.transfers.transfer_to_emergency(call.call_id, "fire", "来电人报告山林起火")
    far = await lab.ami.wait_for(_outside("119"), since=since)
    assert far["CallerIDNum"] == CALLER_NUMBER
    xfer = await lab.transfers.wait(result["id"], timeout=10)
    assert xfer.state == "completed" and xfer.direct
    recording = lab.recordings() / f"outside-119-{far['Uniqueid']}.wav"
    assert await tone_flowing(recording, CALLER_HZ) > 0.5
    rows = await lab.services.store.run(repo.transfers, call.call_id)
    assert rows[-1]["target"] == "emergency:119" and rows[-1]["result"] == "completed"
    assert rows[-1]["detail"]["why"] == "来电人报告山林起火" and rows[-1]["detail"]["via"] == "speech"


async def test_speech_layer_emergency_with_agent_is_threeway(xlab):
    lab = xlab
    await lab.login("g1")
    call = await lab.place("12345")
    await lab.answered_by(call, "g1")
    since = len(lab.ami.events)
    result = await lab.transfers.transfer_to_emergency(call.call_id, "119", "fire")
    assert result["mode"] == "threeway"
    await lab.ami.wait_for(_outside("119"), since=since)
    await lab.until_status(call, "connected")   # the agent stays on to brief the operator
