"""The real web app with the supervision routes mounted as its plugin mounts them, on a free port."""
from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web

from ivr.config.model import Config
from ivr.web.app import create_app
from ivr.web.auth import make_runner
from supervision import http as supervision_http


@asynccontextmanager
async def serve_supervision(svc: Any, config: Config, wallboard: Any = None) -> AsyncIterator[str]:
    """Yields the base URL; always stops the server."""
    app = create_app(config, services=svc)
    supervision_http.setup(app, wallboard)
    runner = make_runner(app, shutdown_timeout=2.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()
