"""One callback lab (center + outside world + server) for the package."""
from __future__ import annotations

import pytest

from tests.support.labs import running
from tests.callbacks.outside import CallbackLab


@pytest.fixture(scope="package")
async def cblab(tmp_path_factory):
    async with running(CallbackLab(tmp_path_factory.mktemp("callbacks"))) as lab:
        yield lab
