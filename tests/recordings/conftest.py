"""One recording lab (center + server with recording on) for the package."""
from __future__ import annotations

import pytest

from tests.recordings.lab import RecLab


@pytest.fixture(scope="package")
async def reclab(tmp_path_factory):
    lab = RecLab(tmp_path_factory.mktemp("recordings"))
    try:
        await lab.start()
        yield lab
    finally:
        await lab.stop()


@pytest.fixture(scope="package")
async def recorded(reclab):
    """One finished recorded call: (call id, the agent's RecAgent event, its metadata row)."""
    call_id, agent = await reclab.call(hold=2)
    row = await reclab.row_for(call_id)
    return call_id, agent, row


@pytest.fixture(scope="package")
async def heardlab(tmp_path_factory):
    """A second center: the notice prompt on, an opted-out line, a real SIP desk phone's queue."""
    from tests.recordings.heard_lab import HeardLab

    lab = HeardLab(tmp_path_factory.mktemp("heard"))
    try:
        await lab.start()
        yield lab
    finally:
        await lab.stop()
