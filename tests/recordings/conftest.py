"""One recording lab (center + server with recording on) for the package, and a second, heard one."""
from __future__ import annotations

import pytest

from tests.recordings.heard_lab import HeardLab
from tests.recordings.lab import RecLab
from tests.support.lab import package_lab

reclab = package_lab("reclab", RecLab, "recordings")
# A second center: the notice prompt on, an opted-out line, a real SIP desk phone's queue.
heardlab = package_lab("heardlab", HeardLab, "heard")


@pytest.fixture(scope="package")
async def recorded(reclab):
    """One finished recorded call: (call id, the agent's RecAgent event, its metadata row)."""
    call_id, agent = await reclab.call(hold=2)
    row = await reclab.row_for(call_id)
    return call_id, agent, row
