"""Retained seats (保留座席) and sub-centers hand a caller back into 12345 with the line tag kept."""
from __future__ import annotations

import pytest

from tests.transfer.support import CALLER_HZ, tone_flowing

pytestmark = pytest.mark.asterisk


async def test_retained_seat_transfers_back_into_12345_keeping_the_line(xlab):
    lab = xlab
    await lab.login("g1")
    since = len(lab.ami.events)
    call = await lab.place("12315")          # 保留座席: forwarded to the department's own seats
    seat = await lab.ami.wait_for(lambda e: e.get("UserEvent") == "SimOutside" and e.get("Linkedid") == call.call_id,
                                  since=since)
    assert seat["Number"] == "09438212315" and seat["Line"] == "market-12315"
    # the seat's leg of the bridge (Dial's outgoing half) is where its transfer starts
    seat_leg = seat["Channel"].replace(";2", ";1")
    context = await lab.ami.getvar(seat_leg, "TRANSFER_CONTEXT")
    assert context == "hotline-xfer-return"
    # the department's agent presses transfer and dials 12345 (here: AMI BlindTransfer, as a REFER would do)
    resp = await lab.ami.action({"Action": "BlindTransfer", "Channel": seat_leg, "Exten": "12345", "Context": context})
    assert resp.get("Response") == "Success", resp
    back = await lab.ami.wait_for(lambda e: e.get("UserEvent") == "HotlineReturned" and e.get("Linkedid") == call.call_id,
                                  since=since)
    assert back["Line"] == "market-12315"
    sim = await lab.answered_by(call, "g1")
    assert sim["Line"] == "market-12315"     # the 12345 agent sees which line the caller came from
    assert not any(e.get("Event") == "Hangup" and e.get("Linkedid") == call.call_id and ";1" in e.get("Channel", "")
                   and e["Channel"].startswith("Local/12315@") for e in lab.ami.events[since:])
    assert await tone_flowing(lab.agent_recording(sim), CALLER_HZ) > 0.5


async def test_subcenter_refers_caller_back_into_12345_keeping_the_line(xlab):
    lab = xlab
    await lab.set_subcenter(SIM_MODE="refer")
    await lab.login("g1")
    since, sub_since = len(lab.ami.events), len(lab.sub_ami.events)
    call = await lab.place("12366")          # 设分中心: straight to the tax sub-center over the trunk
    sub = await lab.subcenter_answer(since=sub_since)
    assert sub["Line"] == "tax-12366"
    back = await lab.ami.wait_for(lambda e: e.get("UserEvent") == "HotlineReturned" and e.get("Linkedid") == call.call_id,
                                  since=since, timeout=15)
    assert back["Line"] == "tax-12366"
    sim = await lab.answered_by(call, "g1")
    assert sim["Line"] == "tax-12366"
    assert await tone_flowing(lab.agent_recording(sim), CALLER_HZ) > 0.5
