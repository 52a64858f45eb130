"""Browser seats as a `hotline serve` plugin (see ivr/plugins.py): 话后处理 from AMI.

The seat's routes are mounted with the core web app (ivr/web/app.py); this
plugin subscribes the seat service to Asterisk's AgentComplete (a queue call
of an agent ended: 话后处理 starts, even when the agent's page is closed) and
QueueMemberPause (a pause set from the CLI or another AMI tool is stored and
shown like one from the page), and
stops its wrap-up timers when the server stops.
"""
from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web

from ivr.plugins import PluginServices
from ivr.seats.web import service_of


@asynccontextmanager
async def load(services: PluginServices, app: web.Application) -> AsyncIterator[None]:
    service = service_of(app)
    ami = services.ami
    if ami is not None:
        ami.on("AgentComplete", service.on_agent_complete)
        ami.on("QueueMemberPause", service.on_member_pause)  # 示忙/示闲 set outside the page
    try:
        yield
    finally:
        await service.close()
