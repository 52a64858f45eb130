"""Callbacks as a `hotline serve` plugin (see ivr/plugins.py): the outbound
engine when `callbacks.enabled` (with the queue callback and, when a queue or
line asks for it, the rating recorder), and its HTTP routes in any case (they
answer 503 while the engine is off)."""
from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web

from callbacks import http
from callbacks.engine import CallbackEngine
from callbacks.ratings import RatingRecorder


@asynccontextmanager
async def load(services: Any, app: web.Application) -> AsyncIterator[None]:
    http.setup(app)
    engine = CallbackEngine.from_services(services)
    services.callbacks = engine
    if engine is not None:
        await engine.start()
        if services.config.callbacks.rating.enabled:
            services.ratings = RatingRecorder(services.config, services.store, services.ami, services.clock)
            services.ratings.start()
    try:
        yield
    finally:
        if engine is not None:
            await engine.stop()
        services.callbacks = None
