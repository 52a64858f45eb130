"""A package's lab (Asterisk instances + the server), started once and always stopped."""
from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any


@asynccontextmanager
async def running(lab: Any) -> AsyncIterator[Any]:
    """`lab` started; stopped on the way out, also when its start failed half way."""
    try:
        await lab.start()
        yield lab
    finally:
        await lab.stop()
