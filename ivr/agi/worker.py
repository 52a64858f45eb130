"""FastAGI in a process of its own, beside the server (as wazo-agid beside wazo-calld).

Every routed call waits on the FastAGI answer; nothing else should be in its
way. In the server's own process the route shared one event loop and one GIL
with the AMI events of every call, the call tracker and the database writer:
at a busy center Asterisk's AGI waited behind them (benchmarks/routing.py).
Here the worker process only answers FastAGI, and talks to the server over a
socket pair, one JSON array per line, written without ever blocking the
worker (asyncio streams: a server that lags behind makes the buffer grow,
never a call wait):

    worker -> server  ["listening", port]              after start-up
                      ["routed", linkedid, variables, uniqueid]  the route's variables, for the tracker
                      ["ticket_seq", n, prefix]        the day's last ticket number, please
                      ["reserve", ticket_id]           write this new ticket's row
                      ["clock", offset_s]              the clock now runs at this offset (the answer)
    server -> worker  ["ticket_seq", n, seq]           the answer
                      ["clock", offset_s]              run the clock at this offset (tests: a phase's date)
                      ["stop"]                         finish running calls and exit

The route handlers see the same `RouteContext` (ivr.agi.context) as in the
server's process; its clock's offset is a number, so a test's moment reaches
the worker (the process start's `clock_offset_s`, or a "clock" message).

Ticket ids are handed out here by the same TicketIds as in the server, its
storage reached over the socket. If the worker dies the server starts a new one; meanwhile
Asterisk cannot connect and the dialplan's fail-safe takes the calls.
"""
from __future__ import annotations

import asyncio
import gc
import json
import logging
import multiprocessing
import os
import signal
import socket
from typing import Any

from ivr import metrics
from ivr.agi.context import OffsetClock, RouteContext, RouteSink
from ivr.agi.server import FastAgiServer
from ivr.config.model import Config
from ivr.dialplan import variables as V
from ivr.storage.repo import last_ticket_seq
from ivr.storage.store import Store
from ivr.storage.ticket_ids import TicketIds, reserve
from ivr.waits import within

log = logging.getLogger("ivr.agi.worker")
START_TIMEOUT = 30.0
RESTART_DELAYS = (0.5, 1.0, 2.0, 5.0, 10.0)
MAX_LINE = 1 << 20


class Channel:
    """One end of the socket pair: JSON arrays, one per line; `send` never blocks.

    Messages sent in one turn of the event loop leave in one write: a routed
    call's variables and its ticket row cost one system call, not two."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self._outbox: list[str] = []

    @classmethod
    async def open(cls, sock: socket.socket) -> Channel:
        sock.setblocking(False)
        reader, writer = await asyncio.open_connection(sock=sock, limit=MAX_LINE)
        return cls(reader, writer)

    def send(self, *msg: Any) -> None:
        if self.writer.is_closing():
            return
        if not self._outbox:
            asyncio.get_running_loop().call_soon(self._flush)
        self._outbox.append(json.dumps(msg, ensure_ascii=False))

    def _flush(self) -> None:
        if self._outbox and not self.writer.is_closing():
            self.writer.write(("\n".join(self._outbox) + "\n").encode())
        self._outbox.clear()

    async def receive(self) -> list | None:
        """The next message; None when the other side is gone."""
        try:
            line = await self.reader.readline()
        except (ConnectionError, asyncio.LimitOverrunError, ValueError):
            return None
        if not line:
            return None
        try:
            msg = json.loads(line)
        except ValueError:
            log.error("unreadable message between server and FastAGI worker (%d bytes)", len(line))
            return []
        return msg if isinstance(msg, list) else []

    def close(self) -> None:
        self._flush()
        self.writer.close()


# -- in the server ---------------------------------------------------------------
class AgiWorker:
    """Runs and supervises the worker; stands where the in-process FastAgiServer would (`listening`, `port`).

    What the worker's routes need from the server: `sink` (the call tracker),
    `store` (ticket numbers and rows), `intake` (the live-transcription
    address, or None) and the clock's offset in seconds."""

    def __init__(self, config: Config, *, sink: RouteSink | None = None, store: Store | None = None,
                 intake: str | None = None, clock_offset_s: float = 0.0) -> None:
        self.config = config
        self.sink, self.store, self.intake = sink, store, intake
        self.clock_offset_s = clock_offset_s
        self.port: int | None = None
        self._proc: multiprocessing.process.BaseProcess | None = None
        self._channel: Channel | None = None
        self._reader: asyncio.Task | None = None
        self._started: asyncio.Future | None = None
        self._stopping = False
        self._restarts = 0
        self._restart_task: asyncio.Task | None = None
        self._tasks: set[asyncio.Task] = set()
        self._clock_set: asyncio.Future | None = None

    @property
    def listening(self) -> bool:
        return self.port is not None and self._proc is not None and self._proc.is_alive()

    async def start(self) -> None:
        ctx = multiprocessing.get_context("spawn")  # no copy of the server's threads and sockets
        ours, theirs = socket.socketpair()
        self._proc = ctx.Process(target=worker_main, name="hotline-agi", daemon=True,
                                 args=(self.config, theirs, self.intake, logging.getLogger().level,
                                       self.clock_offset_s))
        self._proc.start()
        theirs.close()
        self.port = None
        self._started = asyncio.get_running_loop().create_future()
        self._channel = await Channel.open(ours)
        self._reader = asyncio.create_task(self._read(self._channel), name="agi-worker-reader")
        try:
            await within(asyncio.shield(self._started), START_TIMEOUT)
        except TimeoutError:
            self._proc.kill()  # alive but not listening: no use, and it must not linger
            raise RuntimeError(f"the FastAGI worker did not start within {START_TIMEOUT:g}s") from None
        log.info("FastAGI worker (pid %d) listening on %s:%d", self._proc.pid, self.config.fastagi.host, self.port)

    async def set_clock_offset(self, offset_s: float, timeout: float = 5.0) -> None:
        """Run the worker's clock `offset_s` seconds ahead (tests); returns once the worker has it."""
        self.clock_offset_s = float(offset_s)  # a restarted worker starts with it too
        if self._channel is None:
            return
        self._clock_set = asyncio.get_running_loop().create_future()
        self._channel.send("clock", self.clock_offset_s)
        await within(self._clock_set, timeout)

    async def stop(self) -> None:
        self._stopping = True
        if self._restart_task is not None:
            self._restart_task.cancel()
        proc = self._proc
        if proc is None:
            return
        if self._channel is not None:
            self._channel.send("stop")
        await asyncio.get_running_loop().run_in_executor(None, proc.join, 5)
        if proc.is_alive():
            log.warning("FastAGI worker did not stop in time: killed")
            proc.kill()
            proc.join(2)
        self._close()

    async def _read(self, channel: Channel) -> None:
        while (msg := await channel.receive()) is not None:
            try:
                self._handle(msg)
            except Exception:  # a message we cannot use: that one only
                log.exception("bad message from the FastAGI worker")
        if channel is self._channel:
            await self._gone()

    def _handle(self, msg: list) -> None:
        kind = msg[0] if msg else None
        if kind == "routed":
            metrics.ROUTED.labels((msg[2] or {}).get(V.ACTION) or "none").inc()
            if self.sink is not None:
                self.sink.routed(msg[1], msg[2], msg[3] if len(msg) > 3 else None)
        elif kind == "reserve":
            if self.store is not None:
                self.store.submit(reserve, msg[1])
        elif kind == "ticket_seq":
            task = asyncio.create_task(self._ticket_seq(msg[1], msg[2]))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        elif kind == "listening":
            self.port = int(msg[1])
            self._restarts = 0
            if self._started is not None and not self._started.done():
                self._started.set_result(None)
        elif kind == "clock":
            if self._clock_set is not None and not self._clock_set.done() and msg[1] == self.clock_offset_s:
                self._clock_set.set_result(None)

    async def _ticket_seq(self, request: int, prefix: str) -> None:
        seq = await self.store.run(last_ticket_seq, prefix) if self.store is not None else 0
        if self._channel is not None:
            self._channel.send("ticket_seq", request, seq)

    def _close(self) -> None:
        if self._channel is not None:
            self._channel.close()
            self._channel = None
        self.port = None

    async def _gone(self) -> None:
        self._close()
        proc = self._proc
        if self._stopping or proc is None:
            return
        await asyncio.get_running_loop().run_in_executor(None, proc.join, 1)  # it closed its end: exiting
        if self._stopping:   # the same SIGTERM reached the server meanwhile (Ctrl-C, systemd): a stop, not a crash
            return
        if self._started is not None and not self._started.done():  # it never came up: start() says why
            self._started.set_exception(RuntimeError(
                f"the FastAGI worker exited while starting (code {proc.exitcode}; its error is logged above)"))
            return
        delay = RESTART_DELAYS[min(self._restarts, len(RESTART_DELAYS) - 1)]
        self._restarts += 1
        metrics.AGI_WORKER_RESTARTS.inc()
        log.error("FastAGI worker exited (code %s): restarting in %gs; calls take the dialplan's fail-safe meanwhile",
                  proc.exitcode, delay)
        self._restart_task = asyncio.create_task(self._restart(delay))

    async def _restart(self, delay: float) -> None:
        await asyncio.sleep(delay)
        try:
            await self.start()
        except Exception:
            log.exception("FastAGI worker could not be restarted")
            await self._gone()


# -- in the worker ------------------------------------------------------------------
class _Server:
    """The server side as the worker sees it: the tracker and ticket numbers over the channel."""

    def __init__(self, channel: Channel, clock: OffsetClock) -> None:
        self.channel = channel
        self.clock = clock
        self.stop = asyncio.Event()
        self._requests: dict[int, asyncio.Future] = {}
        self._next = 0

    def routed(self, linkedid: str, variables: dict[str, str], uniqueid: str | None = None) -> None:
        self.channel.send("routed", linkedid, variables, uniqueid)

    def reserve(self, ticket_id: str) -> None:
        self.channel.send("reserve", ticket_id)

    async def ticket_seq(self, prefix: str) -> int:
        self._next += 1
        n = self._next
        self._requests[n] = fut = asyncio.get_running_loop().create_future()
        self.channel.send("ticket_seq", n, prefix)
        try:
            return await within(fut, 10)
        finally:
            self._requests.pop(n, None)

    async def read(self) -> None:
        while (msg := await self.channel.receive()) is not None:
            if msg[:1] == ["ticket_seq"] and len(msg) == 3 and msg[1] in self._requests:
                self._requests[msg[1]].set_result(int(msg[2]))
            elif msg[:1] == ["clock"] and len(msg) == 2 and isinstance(msg[1], (int, float)):
                self.clock.offset_s = float(msg[1])
                self.channel.send("clock", msg[1])
            elif msg[:1] == ["stop"]:
                break
        self.stop.set()  # asked to, or the server is gone: so are we


def worker_main(config: Config, sock: socket.socket, intake: str | None, log_level: int,
                clock_offset_s: float = 0.0) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the server, which stops us
    logging.basicConfig(level=log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    _set_priority(config.fastagi.nice)
    asyncio.run(_serve(config, sock, intake, clock_offset_s))


def _set_priority(nice: int) -> None:
    """The call path first: each routed call waits for this process, which needs little CPU.

    Without it, on a loaded machine the worker's wake-ups queue behind Asterisk's
    and the server's threads (benchmarks/routing.py: routed/static 0.67-0.83 at
    nice 0, 0.74-0.91 at -10)."""
    if not nice:
        return
    try:
        os.nice(nice)
    except PermissionError:
        log.warning("FastAGI worker: no permission to change its niceness by %d (needs root or CAP_SYS_NICE); "
                    "it runs at the server's priority", nice)


async def _serve(config: Config, sock: socket.socket, intake: str | None, clock_offset_s: float) -> None:
    loop = asyncio.get_running_loop()
    server = _Server(await Channel.open(sock), OffsetClock(clock_offset_s))
    loop.add_signal_handler(signal.SIGTERM, server.stop.set)
    reader = asyncio.create_task(server.read())
    ticket_ids = TicketIds(config.hotline.timezone, server.ticket_seq, server.reserve)
    context = RouteContext(config, sink=server, ticket_ids=ticket_ids, intake=intake, clock=server.clock)
    agi = FastAgiServer.from_config(config.fastagi, context=context)
    await agi.start()
    gc.freeze()
    server.channel.send("listening", agi.port)
    await server.stop.wait()
    await agi.stop()
    reader.cancel()
    server.channel.close()
