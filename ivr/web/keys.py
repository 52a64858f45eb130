"""Every key of the web application's state, typed, in one place (aiohttp `AppKey`s).

Route modules (ivr/web/*, ivr/seats/web.py, transfer/http.py,
callbacks/http.py) read the app's state only through these keys. `SERVICES`
is what the server hands the web app, declared below as `WebServices`: a
route sees the parts it may use and their types, not a grab-bag. A part that
is not running is None (its routes answer 503); `health` None means the app
has no checks of its own (tests, benchmarks).

The transfer, callback and supervision services belong to plugins (ivr/ may
not import them): the routes see them through the small `Transfers`,
`Callbacks` and `Wallboard` protocols here, which
transfer.service.TransferService, callbacks.engine.CallbackEngine and
supervision.wallboard.Wallboard satisfy.
"""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from aiohttp import web

from ivr.ami.client import AmiClient
from ivr.config.model import Config
from ivr.storage.store import Store
from ivr.web.hub import Hub
from ivr.web.settings import WsSettings


class Transfers(Protocol):
    """Transfers as the console's routes ask for them (transfer/http.py)."""

    async def transfer(self, call_id: str, kind: str, target: str, mode: str = ...,
                       agent: str | None = None) -> dict[str, Any]: ...

    async def complete(self, call_id: str, agent: str | None = None) -> dict[str, Any]: ...

    async def cancel(self, call_id: str, agent: str | None = None) -> dict[str, Any]: ...

    def status(self, call_id: str) -> dict[str, Any] | None: ...


class Callbacks(Protocol):
    """The outbound engine as its routes use it (callbacks/http.py)."""

    store: Store

    async def add(self, flow: str, number: str, *, ticket: str | None = None,
                  campaign: str | None = None) -> tuple[dict, bool]: ...

    async def cancel(self, task_id: int) -> dict | None: ...


class Recordings(Protocol):
    """The recordings service as its routes use it (recordings/http.py, recordings/playback.py)."""

    store: Store


class Wallboard(Protocol):
    """The wallboard as its routes read it (supervision/http.py; supervision.wallboard.Wallboard)."""

    snapshot: dict[str, Any] | None

    async def latest(self) -> dict[str, Any]: ...

    def subscribe(self) -> asyncio.Queue: ...

    def unsubscribe(self, page: asyncio.Queue) -> None: ...


class WebServices(Protocol):
    """What the web app may use of the server (ivr.server.Services)."""

    hub: Hub
    store: Store | None
    ami: AmiClient | None          # seats' 示忙/示闲, the agent desk of transfer/http.py
    transfers: Transfers | None    # set by the transfer plugin
    callbacks: Callbacks | None    # set by the callbacks plugin
    recordings: Recordings | None  # set by the recordings plugin

    @property
    def health(self) -> Callable[[], Awaitable[dict]] | None: ...


CONFIG = web.AppKey("config", Config)
SERVICES = web.AppKey("services", WebServices)
HUB = web.AppKey("hub", Hub)
WS_SETTINGS = web.AppKey("ws_settings", WsSettings)
WS_SOCKETS = web.AppKey("ws_sockets", set)
WS_ORIGINS = web.AppKey("ws_origins", frozenset)
SEATS_PASSWORDS = web.AppKey("seats_passwords", dict)
WALLBOARD: web.AppKey[Wallboard | None] = web.AppKey("supervision_wallboard")  # None: supervision off
