"""`hotline serve`: one asyncio process with FastAGI, AMI and the web app.

`Services` holds what start-up built: the config, the store, the websocket
hub, the call tracker, the AMI client, transfers, speech, callbacks. Each
consumer declares the part it uses as a Protocol next to itself and gets
this object typed as that: the web app (ivr.web.keys.WebServices), speech
(ivr.speech.service.SpeechServices), plugins (ivr.plugins.PluginServices).
FastAGI handlers get a `RouteContext` (ivr.agi.context), the same in this
process and in the FastAGI worker.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import gc
import logging
import signal
from contextlib import AsyncExitStack
from pathlib import Path
from dataclasses import dataclass, field
from typing import Callable

from aiohttp import web
from sqlalchemy import text

from ivr.agi.context import OffsetClock, RouteContext
from ivr.agi.server import FastAgiServer
from ivr.agi.worker import AgiWorker
from ivr.ami.client import AmiClient
from ivr.calls.tracker import CallTracker
from ivr.asterisk import embedded
from ivr.config.model import Config
from ivr.speech.service import SpeechService, speech_service
from ivr.storage.db import redacted
from ivr.storage.store import Store
from ivr.storage.ticket_ids import TicketIds
from ivr.web.app import create_app
from ivr.web.auth import make_runner, tls_context
from ivr.web.hub import Hub
from ivr.web.keys import Callbacks, Recordings, Transfers
from ivr import plugins
from ivr.waits import within

log = logging.getLogger("ivr.server")


# Events Asterisk drops for the server's session unless a handler subscribes to
# them by name (ivr.ami.filters.derive, at each login): one Newexten per dialplan
# step, channel bookkeeping. The VarSets the tracker ignores are narrowed by its
# own subscription (ivr.calls.tracker.VARSET_NARROWING). Left: ~7 events a call.
SERVER_NOISE = (
    "Newexten", "DeviceStateChange", "TestEvent", "SoftHangupRequest", "HangupRequest", "Cdr",
    "AGIExecStart", "AGIExecEnd", "NewConnectedLine", "DialBegin", "DialState", "DialEnd", "LocalBridge",
    "Newstate",
)


@dataclass
class Services:
    config: Config
    store: Store | None = None
    hub: Hub = field(default_factory=Hub)
    ami: AmiClient | None = None
    agi: FastAgiServer | AgiWorker | None = None
    tracker: CallTracker | None = None
    transfers: Transfers | None = None   # the transfer plugin's service
    speech: SpeechService | None = None
    callbacks: Callbacks | None = None   # the callbacks plugin's engine, when callbacks.enabled
    recordings: Recordings | None = None  # the recordings plugin's service, when recordings.enabled
    # Real time plus an offset (tests move it to a phase's date); a pinned
    # function instead (tests) keeps FastAGI in this process.
    clock: Callable[[], dt.datetime] = field(default_factory=OffsetClock)

    async def health(self) -> dict:
        db_ok = False
        if self.store is not None:
            try:
                db_ok = await within(self.store.run(_db_ping), 3)
            except Exception:  # reported as unhealthy, not raised
                db_ok = False
        return {
            "ami": bool(self.ami and self.ami.connected),
            "fastagi": bool(self.agi and self.agi.listening),
            "db": db_ok,
        }


def _db_ping(session) -> bool:
    return session.execute(text("SELECT 1")).scalar() == 1


class HotlineServer:
    def __init__(self, config: Config, *, ami_secret: str | None = None,
                 clock: Callable[[], dt.datetime] | None = None, clock_offset_s: float = 0.0) -> None:
        """`clock_offset_s`: run every clock that many seconds ahead (tests of a phase's date),
        in the FastAGI worker too. `clock`: a function for the time instead; a function
        cannot cross to the worker, so FastAGI then runs in this process (tests)."""
        self.config = config
        self.services = Services(config=config, clock=clock or OffsetClock(clock_offset_s))
        self._agi_in_process = clock is not None or not config.fastagi.process
        self._ami_secret = ami_secret
        self._runner: web.AppRunner | None = None
        self._stack: AsyncExitStack | None = None
        self.web_port: int | None = None

    async def start(self) -> None:
        """Start everything, in order; if any step fails, what already started is stopped."""
        stack = AsyncExitStack()
        try:
            await self._start(stack)
        except BaseException:
            await stack.aclose()
            raise
        self._stack = stack
        # What start-up built lives as long as the process: keep it out of the
        # garbage collector's full passes (100+ ms pauses at 1,000 consoles).
        gc.freeze()
        log.info("web on http://%s:%d (console /console/, health /healthz)", self.config.web.host, self.web_port)

    async def _start(self, stack: AsyncExitStack) -> None:
        c, s = self.config, self.services
        if c.database.url.startswith("sqlite:///"):
            Path(c.database.url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        s.store = Store.open(c.database.url)
        stack.callback(s.store.close)
        log.info("database %s ready", redacted(c.database.url))
        a = c.asterisk.ami
        secret = self._ami_secret if self._ami_secret is not None else embedded.ami_secret(c)
        s.ami = AmiClient(a.host, a.port, a.username, secret, noise=SERVER_NOISE)
        stack.push_async_callback(s.ami.close)
        s.tracker = CallTracker.from_config(c, s.store, s.hub.publish, model=s.hub.calls)
        s.tracker.attach(s.ami)
        await s.tracker.start()
        stack.push_async_callback(self._stop_tracker, s.tracker)
        app = create_app(c, services=s)
        for name, load in plugins.loaders():
            await stack.enter_async_context(load(s, app))
            log.debug("plugin %s loaded", name)
        s.speech = speech_service(c, s)
        if s.speech is not None:
            await s.speech.start()  # a missing model disables speech only, logged
            stack.push_async_callback(s.speech.stop)
        await s.ami.connect()  # returns at once; reconnects in the background
        intake = s.speech.address if s.speech is not None and s.speech.live is not None else None
        if self._agi_in_process:
            context = RouteContext(c, sink=s.tracker, ticket_ids=TicketIds.for_store(s.store, c.hotline.timezone),
                                   intake=intake, clock=s.clock)
            s.agi = FastAgiServer.from_config(c.fastagi, context=context)
        else:
            offset = s.clock.offset_s if isinstance(s.clock, OffsetClock) else 0.0
            s.agi = AgiWorker(c, sink=s.tracker, store=s.store, intake=intake, clock_offset_s=offset)
        await s.agi.start()
        stack.push_async_callback(s.agi.stop)
        self._runner = make_runner(app)
        await self._runner.setup()
        stack.push_async_callback(self._runner.cleanup)
        site = web.TCPSite(self._runner, c.web.host, c.web.port, ssl_context=tls_context(c.web.tls))
        await site.start()
        self.web_port = self._runner.addresses[0][1]

    @staticmethod
    async def _stop_tracker(tracker: CallTracker) -> None:
        try:
            await tracker.drain(timeout=5)
        except asyncio.TimeoutError:
            log.warning("stopping with call events not yet written")
        await tracker.stop()

    async def set_clock(self, moment: dt.datetime) -> None:
        """From now on every clock reads `moment` and runs on from there (tests of a phase's date);
        returns once the FastAGI worker has it too."""
        clock = self.services.clock
        if not isinstance(clock, OffsetClock):
            raise TypeError("this server runs on a pinned clock function: set that instead")
        clock.offset_s = OffsetClock.at(moment).offset_s
        if isinstance(self.services.agi, AgiWorker):
            await self.services.agi.set_clock_offset(clock.offset_s)

    async def stop(self) -> None:
        """Stop in the reverse order of start: web, FastAGI, speech, plugins, tracker, AMI, store."""
        stack, self._stack = self._stack, None
        if stack is not None:
            await stack.aclose()


async def serve_forever(config: Config) -> None:
    server = HotlineServer(config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await server.start()
    try:
        await stop.wait()
        log.info("stopping")
    finally:
        await server.stop()
