"""Fixtures of the transfer tests: one lab (center + sub-center + server) for the package."""
from __future__ import annotations

import pytest

from tests.support.lab import package_lab
from tests.transfer.support import Lab

lab = package_lab("lab", Lab, "xfer")


@pytest.fixture
async def xlab(lab):
    """The lab with no calls, no logged-in agents and a sub-center that answers."""
    await lab.set_subcenter(SIM_MODE="answer", SIM_SAY="hotline/xfer-subcenter", SIM_HOLD="60", SIM_RECORD="1",
                            SIM_DELAY="")
    yield lab
    await lab.hangup_all()
    await lab.logout_all()
