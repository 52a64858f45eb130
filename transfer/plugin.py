"""Transfers as a `hotline serve` plugin (see ivr/plugins.py): the service, its
AMI subscriptions and its HTTP routes, live for the life of the context."""
from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from aiohttp import web

from ivr.plugins import PluginServices
from transfer import http
from transfer.service import TransferService


@asynccontextmanager
async def load(services: PluginServices, app: web.Application) -> AsyncIterator[None]:
    service = TransferService.from_services(services)
    services.transfers = service
    http.setup(app)  # routes answer 503 while the service is None
    try:
        yield
    finally:
        if service is not None:
            await service.close()
        services.transfers = None
