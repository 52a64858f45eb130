"""Feature codes pressed on the agent's phone start a transfer (*7<n> three-way to sub-center n)."""
from __future__ import annotations

import pytest

from ivr.storage import repo
from tests.transfer.support import CALLER_HZ, tone_flowing

pytestmark = pytest.mark.asterisk


async def test_agent_presses_feature_code_for_threeway_to_subcenter(xlab):
    lab = xlab
    await lab.ami.action({"Action": "Setvar", "Variable": "XFER_TEST_DTMF", "Value": "*71"})
    await lab.login("d1", context="xfer-dtmf-agents")
    sub_since = len(lab.sub_ami.events)
    call = await lab.place("12345")
    await lab.answered_by(call, "d1")
    sub = await lab.subcenter_answer(since=sub_since, timeout=20)
    assert sub["Number"] == "12366"
    await lab.until_status(call, "connected")
    assert await tone_flowing(lab.subcenter_heard(sub), CALLER_HZ) > 0.5
    rows = await lab.services.store.run(repo.transfers, call.call_id)
    assert rows[0]["target"] == "subcenter:tax" and rows[0]["detail"]["via"] == "dtmf"
    assert rows[0]["from_agent"] == "d1"
