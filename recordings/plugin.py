"""Recordings as a `hotline serve` plugin (see ivr/plugins.py): the recording service and
its QA worker when `recordings.enabled`, and the HTTP routes in any case (503 while off)."""
from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web

from recordings import http, playback
from recordings.service import RecordingService


@asynccontextmanager
async def load(services: Any, app: web.Application) -> AsyncIterator[None]:
    http.setup(app)
    playback.setup(app)
    service = RecordingService.from_services(services)
    services.recordings = service
    if service is not None:
        await service.start()
        if service.rec.qa.enabled:
            from recordings.qa_worker import QaWorker

            service.qa = QaWorker.for_service(service, services)
            await service.qa.start()
    try:
        yield
    finally:
        if service is not None:
            if service.qa is not None:
                await service.qa.stop()
            await service.stop()
        services.recordings = None
