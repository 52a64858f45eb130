"""GET /ws: the console's live event stream (see docs/web.md for the protocol).

One connection = one hub `Subscription`. A writer task drains the
subscription's bounded queue into the socket, so a slow console only ever
blocks itself; when its queue overflows the hub cuts it loose and we close it
with code 4008, after which it reconnects and resumes from its last event id.
aiohttp's heartbeat (ping/pong) closes connections whose peer went away.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time

from aiohttp import WSCloseCode, WSMsgType, web

from ivr.web import audit
from ivr.web.auth import principal_of
from ivr.calls.events import dumps
from ivr.web.hub import Hub, Start, Subscription
from ivr.web.keys import HUB, WS_ORIGINS as ORIGINS, WS_SETTINGS as SETTINGS, WS_SOCKETS as SOCKETS
from ivr.web.settings import WsSettings
from ivr.waits import within

log = logging.getLogger(__name__)

CLOSE_OVERFLOW = 4008  # "you are too slow: reconnect and resume"
MAX_ID = 2**53 - 1     # JSON numbers stay exact in JavaScript


class ClientError(ValueError):
    """A client message we cannot use; the text goes back to the client."""


def parse_last_id(value: object) -> int | None:
    """A resume point from the query or a message: None or a non-negative int."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ClientError("last_event_id must be an integer")
    if isinstance(value, str):
        value = value.strip()
        # ASCII digits only: "²".isdigit() is true but int() refuses it
        if not (value.isascii() and value.isdigit() and len(value) <= 16):
            raise ClientError("last_event_id must be a non-negative integer")
        value = int(value)
    if not isinstance(value, int) or not 0 <= value <= MAX_ID:
        raise ClientError("last_event_id must be a non-negative integer")
    return value


def json_depth_over(text: str, limit: int) -> bool:
    """Whether `text` nests arrays/objects deeper than `limit` (strings skipped).

    Checked before json.loads, whose recursion a deep enough text exhausts.
    """
    if text.count("[") + text.count("{") <= limit:
        return False
    depth, in_string, escaped = 0, False, False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > limit:
                return True
        elif ch in "]}":
            depth -= 1
    return False


def parse_client_message(text: str, max_size: int = 16 * 1024, max_depth: int = 8) -> dict:
    if len(text) > max_size:
        raise ClientError(f"message too large: at most {max_size} characters")
    if json_depth_over(text, max_depth):
        raise ClientError(f"message nested too deeply: at most {max_depth} levels")
    try:
        msg = json.loads(text)
    except (ValueError, RecursionError):
        raise ClientError("not JSON") from None
    if not isinstance(msg, dict) or not isinstance(msg.get("type"), str):
        raise ClientError('expected a JSON object with a "type"')
    return msg


class Connection:
    """State of one websocket: its subscription, writer task and error count."""

    def __init__(self, request: web.Request, ws: web.WebSocketResponse) -> None:
        self.request = request
        self.ws = ws
        self.principal = principal_of(request)
        self.hub: Hub = request.app[HUB]
        self.settings: WsSettings = request.app[SETTINGS]
        self.sub: Subscription | None = None
        self.writer: asyncio.Task | None = None
        self.errors = 0
        self.close_reason = "client closed"

    async def send(self, obj: dict) -> None:
        await self.ws.send_str(dumps(obj))

    async def start(self, last_event_id: int | None) -> None:
        p = self.principal
        await self.send({"type": "hello", "agent": p.agent, "role": p.role,
                         "heartbeat": self.settings.heartbeat, "server_time": time.time()})
        # Subscribing after the await above: the backlog is computed at this
        # instant, so no event can fall between the backlog and the queue.
        start = self.hub.subscribe(p.agent, supervisor=p.supervisor, last_event_id=last_event_id,
                                   maxsize=self.settings.supervisor_queue if p.supervisor else self.settings.send_queue,
                                   on_overflow=self._overflowed)
        self.sub = start.subscription
        self.writer = asyncio.create_task(self._pump(start), name=f"ws-writer-{p.agent}")

    async def _pump(self, start: Start) -> None:
        """Writer: the resync or the missed events, then live events."""
        sub = start.subscription
        try:
            if start.resync is not None:
                await self.send(start.resync)
                self._audit("resync", start.resync["calls"])
            for ev in start.backlog:
                await self.ws.send_str(ev.text(sub.masked(ev)))
                self._audit("event", [ev.payload])
            while True:
                ev = await sub.queue.get()
                await self.ws.send_str(ev.text(sub.masked(ev)))
                self._audit("event", [ev.payload])
        except (ConnectionError, RuntimeError) as exc:  # peer gone mid-send
            log.debug("writer for %s stopped: %s", sub.agent, type(exc).__name__)

    def _audit(self, via: str, calls: list[dict]) -> None:
        """Ticket drafts just sent to this person are an audited access (ivr.web.audit)."""
        audit.delivered(self.request.app, self.principal.agent, self.request.remote, via, calls)

    def _overflowed(self, sub: Subscription) -> None:
        self.close_reason = "send queue overflow"
        asyncio.get_running_loop().create_task(self._drop())

    async def _drop(self) -> None:
        if self.writer is not None:
            self.writer.cancel()
        try:
            await within(
                self.ws.close(code=CLOSE_OVERFLOW, message=b"too slow: reconnect with last_event_id"), 2.0)
        except (asyncio.TimeoutError, ConnectionError, RuntimeError):
            transport = self.request.transport
            if transport is not None:
                transport.abort()  # it cannot even take a close frame

    def parse(self, text: str) -> dict:
        return parse_client_message(text, self.settings.max_msg_size, self.settings.max_depth)

    async def on_text(self, text: str) -> None:
        try:
            msg = self.parse(text)
            kind = msg["type"]
            if kind == "ping":
                await self.send({"type": "pong", "server_time": time.time()})
            elif kind == "resume":
                if self.sub is not None:
                    raise ClientError("already subscribed: reconnect to resume from another id")
                await self.start(parse_last_id(msg.get("last_event_id")))
            else:
                raise ClientError(f"unknown message type {kind[:32]!r}")
        except ClientError as exc:
            await self.client_error(str(exc), len(text))
        except Exception as exc:  # a bug must cost this message, not the connection or the server
            log.error("message from %s's console failed: %s", self.principal.agent, type(exc).__name__)
            await self.client_error("the server could not handle this message", len(text))

    async def client_error(self, detail: str, size: int) -> None:
        self.errors += 1
        # Log the first few and then every 100th: one noisy client must not flood the log.
        # The message itself is not logged: it may hold anything.
        if self.errors <= 5 or self.errors % 100 == 0:
            log.warning("bad message #%d from %s's console (%d bytes): %s",
                        self.errors, self.principal.agent, size, detail)
        with contextlib.suppress(ConnectionError, RuntimeError):
            await self.send({"type": "error", "error": "bad_message", "detail": detail})

    async def close(self) -> None:
        if self.sub is not None:
            self.hub.unsubscribe(self.sub)
        if self.writer is not None:
            self.writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.writer


def origin_allowed(request: web.Request, allowed: frozenset[str]) -> bool:
    """A browser's page may open /ws only from this server's own origin or a configured one.

    Clients that send no Origin (not a browser: tests, tools) are not a
    cross-site page and pass; the token still applies.
    """
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    origin = origin.strip().rstrip("/").lower()
    return origin == f"{request.scheme}://{request.host}".lower() or origin in allowed


def agent_connections(app: web.Application, agent: str) -> int:
    return sum(1 for c in app[SOCKETS] if c.principal.agent == agent)


async def handle_ws(request: web.Request) -> web.StreamResponse:
    settings = request.app[SETTINGS]
    principal = principal_of(request)
    if not origin_allowed(request, request.app[ORIGINS]):
        log.warning("console of %s refused: page origin not allowed", principal.agent)
        return web.json_response({"error": "forbidden", "detail": "页面来源不被允许 (origin not allowed)"},
                                 status=403)
    try:
        query_id = parse_last_id(request.query.get("last_event_id"))
    except ClientError as exc:
        return web.json_response({"error": "bad_request", "detail": str(exc)}, status=400)
    if agent_connections(request.app, principal.agent) >= settings.max_per_agent:
        return web.json_response({"error": "too_many_connections",
                                  "detail": f"at most {settings.max_per_agent} consoles per agent"}, status=429)
    ws = web.WebSocketResponse(heartbeat=settings.heartbeat, max_msg_size=settings.max_frame,
                                timeout=2.0, compress=False)  # small JSON: latency over bytes
    await ws.prepare(request)
    conn = Connection(request, ws)
    request.app[SOCKETS].add(conn)
    log.info("console connected: %s (%s)", principal.agent, principal.role)
    try:
        if "last_event_id" in request.query:
            await conn.start(query_id)
        else:
            await _await_resume(conn)
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                await conn.on_text(msg.data)
            elif msg.type == WSMsgType.BINARY:
                await conn.client_error("binary messages are not accepted", len(msg.data))
            elif msg.type == WSMsgType.ERROR:
                conn.close_reason = f"error: {type(ws.exception()).__name__}"
                break
        if isinstance(ws.exception(), asyncio.TimeoutError):
            conn.close_reason = "no pong: heartbeat timeout"
        elif ws.close_code not in (None, WSCloseCode.OK, WSCloseCode.GOING_AWAY) and conn.close_reason == "client closed":
            conn.close_reason = f"closed with code {ws.close_code}"
    finally:
        await conn.close()
        request.app[SOCKETS].discard(conn)
        log.info("console disconnected: %s (%s)", principal.agent, conn.close_reason)
    return ws


async def _await_resume(conn: Connection) -> None:
    """No ?last_event_id: the first message may be {"type": "resume", ...}; else start fresh."""
    try:
        msg = await conn.ws.receive(timeout=conn.settings.resume_wait)
    except asyncio.TimeoutError:
        await conn.start(None)
        return
    if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
        return  # gone before saying anything; the caller's loop sees the closed socket
    if msg.type != WSMsgType.TEXT:
        await conn.start(None)
        await conn.client_error("binary messages are not accepted", len(msg.data))
        return
    try:
        first = conn.parse(msg.data)
        if first["type"] == "resume":
            await conn.start(parse_last_id(first.get("last_event_id")))
            return
    except ClientError as exc:
        await conn.start(None)
        await conn.client_error(str(exc), len(msg.data))
        return
    await conn.start(None)
    await conn.on_text(msg.data)


async def close_all(app: web.Application) -> None:
    """on_shutdown: tell every console we are going away (it will reconnect)."""
    for conn in list(app[SOCKETS]):
        with contextlib.suppress(Exception):
            await conn.ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutting down")


def setup(app: web.Application, hub: Hub, settings: WsSettings | None = None, origins=()) -> None:
    app[HUB] = hub
    app[ORIGINS] = frozenset(o.strip().rstrip("/").lower() for o in origins)
    app[SETTINGS] = settings or WsSettings()
    app[SOCKETS] = set()
    app.router.add_get("/ws", handle_ws)
    app.on_shutdown.append(close_all)
