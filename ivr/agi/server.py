"""The hardened FastAGI server: Asterisk's AGI(agi://host:port/route) lands here.

Written on asyncio.Protocol rather than on panoramisk's fast_agi.Application,
which spins forever on a peer that closes mid-header, has no read timeout or
size cap, and loses step on multi-line `520-` replies. Each connection:

1. header: `agi_*: value` lines up to an empty line, within `header_timeout`
   seconds and `header_max_bytes` bytes, else the connection is dropped and
   logged (nothing else is affected);
2. the route (path of `agi_network_script`) starts at once, in the callback
   that read the header, and goes on as its own task from its first wait, so
   a slow handler never holds up other calls (`_start_eagerly`);
3. an unknown route, a handler exception or a command timeout sends the caller
   to the fallback (general queue); a hang-up ends the handler quietly.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from ivr.agi.call import AgiCall, AgiHangup, AgiTimeout
from ivr.agi.fallback import send_to_fallback
from ivr.agi.peers import DEFAULT_ALLOW, PeerFilter
from ivr.agi.protocol import parse_header
from ivr.agi.registry import REGISTRY, Registry

log = logging.getLogger("ivr.agi")


class FastAgiServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 4573, *, header_timeout: float = 5.0,
                 header_max_bytes: int = 64 * 1024, command_timeout: float = 10.0,
                 context: Any = None, registry: Registry | None = None, backlog: int = 1024,
                 allow: Any = DEFAULT_ALLOW) -> None:
        self.host = host
        self.port = port
        self.header_timeout = header_timeout
        self.header_max_bytes = header_max_bytes
        self.command_timeout = command_timeout
        self.context = context
        self.backlog = backlog
        self.peers = PeerFilter(allow)
        self._registry = registry
        self._server: asyncio.Server | None = None
        self._connections: set[_Connection] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sweeper: asyncio.TimerHandle | None = None
        # Timeouts are checked by one periodic sweep over the connections, not
        # by a timer per command: cheaper on the hot path, at this resolution.
        self.tick = min(max(min(header_timeout, command_timeout) / 5, 0.02), 0.5)
        # counters: calls whose route ran (any outcome), failures that needed the
        # fallback, hang-ups, connections dropped before a usable header;
        # peers refused by the allow-list: `self.peers.refused`
        self.calls_served = 0
        self.errors = 0
        self.hangups = 0
        self.rejected = 0

    @classmethod
    def from_config(cls, cfg: Any, context: Any = None) -> FastAgiServer:
        """Build from the `fastagi:` section of config.yaml (ivr.config.model.FastAgi)."""
        return cls(cfg.host, cfg.port, header_timeout=cfg.header_timeout,
                   header_max_bytes=cfg.header_max_bytes, command_timeout=cfg.command_timeout,
                   context=context, allow=cfg.allow)

    @property
    def registry(self) -> Registry:
        if self._registry is None:
            import ivr.agi.handlers  # noqa: F401  (registers the application's routes)
            self._registry = REGISTRY
        return self._registry

    @property
    def listening(self) -> bool:
        return self._server is not None and self._server.is_serving()

    async def start(self) -> None:
        self._loop = loop = asyncio.get_running_loop()
        routes = self.registry.names()
        self._server = await loop.create_server(
            lambda: _Connection(self), self.host, self.port, backlog=self.backlog, reuse_address=True)
        self.port = self._server.sockets[0].getsockname()[1]
        self._sweeper = loop.call_later(self.tick, self._sweep)
        log.info("FastAGI listening on %s:%d, routes: %s", self.host, self.port, ", ".join(routes) or "none")

    async def stop(self, grace: float = 2.0) -> None:
        """Stop listening, let running calls finish for `grace` seconds, then cut the rest."""
        if self._server is None:
            return
        self._server.close()
        tasks = {c.task for c in self._connections if c.task is not None}
        if tasks:
            await asyncio.wait(tasks, timeout=grace)
        for task in tasks:
            task.cancel()
        for conn in list(self._connections):
            conn.transport.abort()
        if tasks:
            await asyncio.wait(tasks, timeout=1.0)
        await self._server.wait_closed()
        self._server = None
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        log.info("FastAGI on %s:%d stopped", self.host, self.port)

    def _sweep(self) -> None:
        loop = self._loop
        assert loop is not None
        self._sweeper = loop.call_later(self.tick, self._sweep)
        now = loop.time()
        for conn in list(self._connections):
            conn.check_timeout(now)

    async def __aenter__(self) -> FastAgiServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _serve(self, conn: _Connection, call: AgiCall) -> None:
        handler = self.registry.get(call.route)
        try:
            if handler is None:
                self.errors += 1
                log.error("unknown AGI route: %s", call.describe())
                await send_to_fallback(call, "unknown route")
            else:
                if log.isEnabledFor(logging.DEBUG):
                    log.debug("AGI call: %s", call.describe())
                await handler(call)
        except AgiHangup as exc:
            self.hangups += 1
            log.info("caller hung up (%s): %s", exc, call.describe())
        except AgiTimeout as exc:
            self.errors += 1
            log.error("AGI route stopped: %s: %s", exc, call.describe())
            await send_to_fallback(call, "command timeout")
        except Exception:
            self.errors += 1
            log.exception("AGI route failed: %s", call.describe())
            await send_to_fallback(call, "route error")
        finally:
            self.calls_served += 1
            conn.transport.close()


class _Connection(asyncio.Protocol):
    """Bytes in, header then response lines; the AgiCall does the rest."""

    __slots__ = ("server", "transport", "buf", "call", "task", "header_deadline", "_scanned", "_given_up")

    def __init__(self, server: FastAgiServer) -> None:
        self.server = server
        self.buf = bytearray()
        self.call: AgiCall | None = None
        self.task: asyncio.Task[None] | None = None
        self._scanned = 0
        self._given_up = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.Transport = transport  # type: ignore[assignment]
        if not self.server.peers.check(transport.get_extra_info("peername"), "FastAGI"):
            self._given_up = True  # not one byte of theirs is read
            transport.abort()
            return
        self.header_deadline = self.server._loop.time() + self.server.header_timeout
        self.server._connections.add(self)

    def data_received(self, data: bytes) -> None:
        buf = self.buf
        call = self.call
        if call is not None and not buf and data.find(b"\n") == len(data) - 1:
            call.feed_line(data[:-1])  # the usual case: exactly one whole reply line
            return
        buf += data
        if call is None:
            self._read_header()
        elif b"\n" in data:
            self._read_lines()
        elif len(buf) > self.server.header_max_bytes:
            self._drop("AGI reply line too long")

    def connection_lost(self, exc: Exception | None) -> None:
        self.server._connections.discard(self)
        if self.call is not None:
            self.call.connection_lost()
        elif self.buf and not self._given_up:
            self.server.rejected += 1
            log.warning("AGI peer %s closed before finishing its header (%d bytes)",
                        _peer_of(self.transport), len(self.buf))

    def _read_header(self) -> None:
        buf = self.buf
        limit = self.server.header_max_bytes
        end, skip = _header_end(buf, max(0, self._scanned - 2))
        self._scanned = len(buf)
        if end < 0 or end > limit:
            if len(buf) > limit:
                self._give_up(f"AGI header over {limit} bytes")
            return
        text = buf[:end].decode("utf-8", "replace")
        del buf[:end + skip]
        if not (text.startswith("agi_") or "\nagi_" in text):
            self._give_up("not an AGI header")
            return
        headers = parse_header(text)
        server = self.server
        self.call = AgiCall(headers, self.transport, server._loop, context=server.context,
                            command_timeout=server.command_timeout)
        if b"\n" in buf:  # e.g. an early HANGUP: the route must know before its first command
            self._read_lines()
        _start_eagerly(server._serve(self, self.call), server._loop, self)

    def _read_lines(self) -> None:
        buf, call = self.buf, self.call
        assert call is not None
        start = 0
        while (nl := buf.find(b"\n", start)) >= 0:
            call.feed_line(buf[start:nl])
            start = nl + 1
        del buf[:start]
        if len(buf) > self.server.header_max_bytes:
            self._drop("AGI reply line too long")

    def check_timeout(self, now: float) -> None:
        if self.call is not None:
            self.call.check_timeout(now)
        elif now >= self.header_deadline and not self.transport.is_closing():
            self._give_up(f"no complete AGI header within {self.server.header_timeout:g}s")

    def _give_up(self, why: str) -> None:
        self._given_up = True
        self.server.rejected += 1
        log.warning("dropping AGI connection from %s: %s (%d bytes received)",
                    _peer_of(self.transport), why, len(self.buf))
        self.buf.clear()
        self.transport.abort()

    def _drop(self, why: str) -> None:
        assert self.call is not None
        log.warning("dropping AGI connection: %s: %s", why, self.call.describe())
        self.buf.clear()
        self.transport.abort()


def _start_eagerly(coro: Coroutine[Any, Any, None], loop: asyncio.AbstractEventLoop, conn: _Connection) -> None:
    """Run a call's route now, in the callback that read its header, until it first waits.

    Python 3.12's eager tasks, by hand: most routes never wait (the decision
    and the ticket id come from memory, the last command is sent without
    waiting), so they answer Asterisk here, with no task and no extra turn of
    the event loop in between. A route that does wait goes on in a task
    (`conn.task`, which `stop()` waits for and cancels as before).
    """
    try:
        waiting = coro.send(None)
    except StopIteration:
        return
    except Exception:  # _serve handles its handler's errors: this is a bug of ours
        log.exception("AGI call failed: %s", conn.call.describe() if conn.call else "?")
        conn.transport.abort()
        return
    conn.task = loop.create_task(_Started(coro, waiting))


class _Started(Coroutine):
    """A coroutine already run up to its first wait, for a task to take on from there.

    The task's first step gets what the coroutine waits on (a future, or None
    for a bare yield), exactly as if it had run that first step itself; every
    later step, and a cancellation, goes to the coroutine."""

    __slots__ = ("coro", "waiting")

    def __init__(self, coro: Coroutine[Any, Any, None], waiting: Any) -> None:
        self.coro, self.waiting = coro, waiting

    def send(self, value: Any) -> Any:
        if self.waiting is not _TAKEN:
            waiting, self.waiting = self.waiting, _TAKEN
            return waiting
        return self.coro.send(value)

    def throw(self, *exc: Any) -> Any:
        self.waiting = _TAKEN
        return self.coro.throw(*exc)

    def close(self) -> None:
        self.coro.close()

    def __await__(self) -> _Started:
        return self

    def __next__(self) -> Any:
        return self.send(None)


_TAKEN = object()


def _peer_of(transport: asyncio.BaseTransport) -> str:
    peer = transport.get_extra_info("peername")
    return f"{peer[0]}:{peer[1]}" if peer else "?"


def _header_end(buf: bytearray, start: int) -> tuple[int, int]:
    """Index where the header's text ends and how many bytes the blank line takes; (-1, 0) if not yet."""
    if buf[:1] == b"\n":
        return 0, 1
    if buf[:2] == b"\r\n":
        return 0, 2
    lf = buf.find(b"\n\n", start)
    crlf = buf.find(b"\n\r\n", start)
    if crlf >= 0 and (lf < 0 or crlf < lf):
        return crlf, 3
    return lf, 2 if lf >= 0 else 0
