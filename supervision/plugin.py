"""Supervision as a `hotline serve` plugin (see ivr/plugins.py): the wallboard poller, the fail-safe
counter and the live gauges of /metrics, and the HTTP routes (supervision/http.py)."""
from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from aiohttp import web

from ivr import metrics as shared
from ivr.calls.tracker import VARSET_NARROWING
from ivr.dialplan import variables as V
from ivr.plugins import PluginServices
from supervision import http, metrics
from supervision.wallboard import Wallboard


def _failsafe(event) -> None:
    if str(event.get("Variable", "")).lstrip("_") == V.FALLBACK and str(event.get("Value", "")) == "1":
        shared.FAILSAFE.inc()


@asynccontextmanager
async def load(services: PluginServices, app: web.Application) -> AsyncIterator[None]:
    board = Wallboard(services) if services.config.supervision.enabled else None
    http.setup(app, board)
    collector = metrics.register(services, board)
    if services.ami is not None:
        services.ami.on("VarSet", _failsafe, narrowing=VARSET_NARROWING)  # HOTLINE_FALLBACK is set outside hotline-route
        if board is not None:
            board.attach(services.ami)
    if board is not None:
        await board.start()
    try:
        yield
    finally:
        if board is not None:
            await board.stop()
        metrics.unregister(collector)
