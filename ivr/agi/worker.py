"""FastAGI in a process of its own, beside the server (as wazo-agid beside wazo-calld).

Every routed call waits on the FastAGI answer; nothing else should be in its
way. In the server's own process the route shared one event loop and one GIL
with the AMI events of every call, the call tracker and the database writer:
at a busy center Asterisk's AGI waited behind them (benchmarks/routing.py).
Here the worker process only answers FastAGI, and talks to the server over a
pipe (pickled tuples):

    worker -> server  ("listening", port)              after start-up
                      ("routed", linkedid, variables)  the route's variables, for the tracker
                      ("ticket_seq", n, prefix)        the day's last ticket number, please
    server -> worker  ("ticket_seq", n, seq)           the answer
                      ("stop",)                        finish running calls and exit

Ticket ids are handed out here (the server reserves each id's row when the
route reports it). If the worker dies the server starts a new one; meanwhile
Asterisk cannot connect and the dialplan's fail-safe takes the calls.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import gc
import logging
import multiprocessing
import signal
from multiprocessing.connection import Connection
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

from ivr.agi.server import FastAgiServer
from ivr.config.model import Config
from ivr.plan.decide import Plan

log = logging.getLogger("ivr.agi.worker")
START_TIMEOUT = 30.0
RESTART_DELAYS = (0.5, 1.0, 2.0, 5.0, 10.0)


# -- in the server ---------------------------------------------------------------
class AgiWorker:
    """Runs and supervises the worker; stands where the in-process FastAgiServer would (`listening`, `port`)."""

    def __init__(self, config: Config, services: Any) -> None:
        self.config = config
        self.services = services
        self.port: int | None = None
        self._proc: multiprocessing.process.BaseProcess | None = None
        self._conn: Connection | None = None
        self._started: asyncio.Future | None = None
        self._stopping = False
        self._restarts = 0
        self._restart_task: asyncio.Task | None = None

    @property
    def listening(self) -> bool:
        return self.port is not None and self._proc is not None and self._proc.is_alive()

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        ctx = multiprocessing.get_context("spawn")  # no copy of the server's threads and sockets
        parent, child = ctx.Pipe()
        speech = self.services.speech
        intake = speech.address if speech is not None and speech.live is not None else None
        self._proc = ctx.Process(target=worker_main, name="hotline-agi",
                                 args=(self.config, child, intake, logging.getLogger().level), daemon=True)
        self._proc.start()
        child.close()
        self._conn, self.port = parent, None
        self._started = loop.create_future()
        loop.add_reader(parent.fileno(), self._readable)
        try:
            await asyncio.wait_for(asyncio.shield(self._started), START_TIMEOUT)
        except TimeoutError:
            raise RuntimeError(f"the FastAGI worker did not start within {START_TIMEOUT:g}s") from None
        log.info("FastAGI worker (pid %d) listening on %s:%d", self._proc.pid, self.config.fastagi.host, self.port)

    async def stop(self) -> None:
        self._stopping = True
        if self._restart_task is not None:
            self._restart_task.cancel()
        proc = self._proc
        if proc is None:
            return
        if self._conn is not None:
            try:
                self._conn.send(("stop",))
            except OSError:
                pass
        await asyncio.get_running_loop().run_in_executor(None, proc.join, 5)
        if proc.is_alive():
            log.warning("FastAGI worker did not stop in time: killed")
            proc.kill()
            proc.join(2)
        self._close_pipe()

    def _readable(self) -> None:
        conn = self._conn
        try:
            while conn is not None and conn.poll():
                self._handle(conn.recv())
        except (EOFError, OSError):
            self._gone()
        except Exception:  # a message we cannot use: that one only
            log.exception("bad message from the FastAGI worker")

    def _handle(self, msg: tuple) -> None:
        kind = msg[0]
        if kind == "routed":
            _, linkedid, variables = msg
            ticket = variables.get("HOTLINE_TICKET")
            if ticket and self.services.store is not None:
                from ivr.storage.ticket_ids import reserve
                self.services.store.submit(reserve, ticket)
            if self.services.tracker is not None:
                self.services.tracker.routed(linkedid, variables)
        elif kind == "ticket_seq":
            asyncio.ensure_future(self._ticket_seq(msg[1], msg[2]))
        elif kind == "listening":
            self.port = msg[1]
            self._restarts = 0
            if self._started is not None and not self._started.done():
                self._started.set_result(None)

    async def _ticket_seq(self, request: int, prefix: str) -> None:
        from ivr.storage.repo import last_ticket_seq
        seq = await self.services.store.run(last_ticket_seq, prefix) if self.services.store is not None else 0
        if self._conn is not None:
            self._conn.send(("ticket_seq", request, seq))

    def _close_pipe(self) -> None:
        if self._conn is not None:
            try:
                asyncio.get_running_loop().remove_reader(self._conn.fileno())
            except (OSError, ValueError):
                pass
            self._conn.close()
            self._conn = None
        self.port = None

    def _gone(self) -> None:
        self._close_pipe()
        if self._stopping:
            return
        if self._started is not None and not self._started.done():  # it never came up: start() says why
            if self._proc is not None:
                self._proc.join(2)
            code = self._proc.exitcode if self._proc is not None else None
            self._started.set_exception(RuntimeError(
                f"the FastAGI worker exited while starting (code {code}; its error is logged above)"))
            return
        delay = RESTART_DELAYS[min(self._restarts, len(RESTART_DELAYS) - 1)]
        self._restarts += 1
        code = self._proc.exitcode if self._proc is not None else None
        log.error("FastAGI worker exited (code %s): restarting in %gs; calls take the dialplan's fail-safe meanwhile",
                  code, delay)
        self._restart_task = asyncio.ensure_future(self._restart(delay))

    async def _restart(self, delay: float) -> None:
        await asyncio.sleep(delay)
        if self._proc is not None:
            self._proc.join(0)
        try:
            await self.start()
        except Exception:
            log.exception("FastAGI worker could not be restarted")
            self._gone()


# -- in the worker ------------------------------------------------------------------
class _Server:
    """The server side as the worker sees it: the tracker and ticket numbers over the pipe."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.stop = asyncio.Event()
        self._requests: dict[int, asyncio.Future] = {}

    def routed(self, linkedid: str, variables: dict[str, str]) -> None:
        self.conn.send(("routed", linkedid, variables))

    async def ticket_seq(self, prefix: str) -> int:
        n = len(self._requests) + 1
        while n in self._requests:
            n += 1
        self._requests[n] = fut = asyncio.get_running_loop().create_future()
        self.conn.send(("ticket_seq", n, prefix))
        try:
            return await asyncio.wait_for(fut, 10)
        finally:
            self._requests.pop(n, None)

    def readable(self) -> None:
        try:
            while self.conn.poll():
                msg = self.conn.recv()
                if msg[0] == "ticket_seq" and msg[1] in self._requests:
                    self._requests[msg[1]].set_result(msg[2])
                elif msg[0] == "stop":
                    self.stop.set()
        except (EOFError, OSError):  # the server is gone: so are we
            self.stop.set()


class _Context:
    """What route handlers read from `call.context` (ivr.server.Services' FastAGI part)."""

    def __init__(self, config: Config, server: _Server, intake: str | None) -> None:
        self.config = config
        self.plan = Plan(config)
        self.tracker = server
        self.speech = SimpleNamespace(live=True, address=intake) if intake else None
        self._server = server
        self._tz = ZoneInfo(config.hotline.timezone)
        self._prefix, self._seq = "", 0
        self._lock = asyncio.Lock()

    @staticmethod
    def clock() -> dt.datetime:
        return dt.datetime.now(dt.timezone.utc)

    async def new_ticket_id(self) -> str:
        """As ivr.storage.ticket_ids.TicketIds: the day's last number asked once, then from memory."""
        prefix = f"T{self.clock().astimezone(self._tz):%Y%m%d}-"
        if prefix != self._prefix:
            async with self._lock:
                if prefix != self._prefix:
                    self._seq = await self._server.ticket_seq(prefix)
                    self._prefix = prefix
        self._seq += 1
        return f"{prefix}{self._seq:04d}"


def worker_main(config: Config, conn: Connection, intake: str | None, log_level: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the server, which stops us
    logging.basicConfig(level=log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(_serve(config, conn, intake))


async def _serve(config: Config, conn: Connection, intake: str | None) -> None:
    loop = asyncio.get_running_loop()
    server = _Server(conn)
    loop.add_signal_handler(signal.SIGTERM, server.stop.set)
    loop.add_reader(conn.fileno(), server.readable)
    agi = FastAgiServer.from_config(config.fastagi, context=_Context(config, server, intake))
    await agi.start()
    gc.freeze()
    conn.send(("listening", agi.port))
    await server.stop.wait()
    await agi.stop()
