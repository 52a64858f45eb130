"""One callback lab (center + outside world + server) for the package."""
from __future__ import annotations

import pytest

from tests.callbacks.outside import CallbackLab


@pytest.fixture(scope="package")
async def cblab(tmp_path_factory):
    lab = CallbackLab(tmp_path_factory.mktemp("callbacks"))
    try:
        await lab.start()
        yield lab
    finally:
        await lab.stop()
