"""One supervision lab (a real center and the server) for the package's Asterisk tests."""
from __future__ import annotations

import pytest

from tests.support.lab import package_lab
from tests.support.supervision_lab import SupervisionLab

slab = package_lab("slab", SupervisionLab, "supv")


@pytest.fixture
async def lab(slab):
    yield slab
    await slab.hangup_all()
    for agent in ("g1", "g2"):
        await slab.logout(agent)
