"""One supervision lab (a real center and the server) for the package's Asterisk tests."""
from __future__ import annotations

import pytest

from tests.support.supervision_lab import SupervisionLab


@pytest.fixture(scope="package")
async def slab(tmp_path_factory):
    lab = SupervisionLab(tmp_path_factory.mktemp("supv"))
    try:
        await lab.start()
        yield lab
    finally:
        await lab.stop()


@pytest.fixture
async def lab(slab):
    yield slab
    await slab.hangup_all()
    for agent in ("g1", "g2"):
        await slab.logout(agent)
