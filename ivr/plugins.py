"""Features that plug into `hotline serve` (transfer/, callbacks/, seats, recordings …).

Each feature is a package with a `plugin.py` whose `load(services, app)` is an
async context manager: it builds the feature's service from what it needs,
subscribes the AMI events it reads, mounts its own HTTP routes on `app`, and
yields (the feature is then live); leaving the context stops it. A feature
that is switched off in config.yaml yields without doing anything.

Plugins are named in the `hotline.plugins` entry-point group in pyproject.toml
(as wazo-calld names its plugins) and loaded in name order, after the core
(store, AMI client, call tracker) and before AMI connects, so no feature
misses the first events. `HotlineServer` enters them on one AsyncExitStack:
if one fails to start, the ones already started are stopped, in reverse.
"""
from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from importlib.metadata import entry_points
from collections.abc import Mapping
from typing import Any, Protocol

from aiohttp import web

from ivr.ami.client import AmiClient
from ivr.calls.model import CallModel
from ivr.config.model import Config
from ivr.storage.store import Store
from ivr.web.hub import Hub
from ivr.web.keys import Callbacks, Recordings, Transfers

GROUP = "hotline.plugins"


class LiveCalls(Protocol):
    """The call tracker as plugins read it (ivr.calls.tracker.CallTracker): the one model of
    the calls in progress (ivr/calls/model.py), and `adopt` for channels found after a restart."""

    model: CallModel
    calls: Mapping[str, Any]

    async def adopt(self, listing: list) -> int: ...


class PluginServices(Protocol):
    """What a plugin's `load` gets of the server (ivr.server.Services): the core, built
    before plugins load, and the slots a plugin fills with its own service (None when off)."""

    config: Config
    store: Store | None
    hub: Hub
    ami: AmiClient | None
    clock: Callable[[], dt.datetime]
    tracker: LiveCalls | None
    transfers: Transfers | None    # filled by transfer/plugin.py
    callbacks: Callbacks | None    # filled by callbacks/plugin.py
    recordings: Recordings | None  # filled by recordings/plugin.py
    speech: Any                    # ivr.speech.service.SpeechService once started (after plugins), else None


Loader = Callable[[PluginServices, web.Application], AbstractAsyncContextManager[None]]


@functools.cache
def loaders() -> tuple[tuple[str, Loader], ...]:
    """(name, load) of every installed feature plugin, by name.

    None found means the package was installed without its entry points
    (reinstall: pip install -e .): that is an error, not a center without
    transfers.
    """
    found = sorted(entry_points(group=GROUP), key=lambda ep: ep.name)
    if not found:
        raise RuntimeError(f"no {GROUP} entry points: reinstall the package (pip install -e .)")
    return tuple((ep.name, ep.load()) for ep in found)
