"""Live transcription server: EAGI scripts stream call audio here over TCP.

Protocol (one connection per call leg, from `fastagi.allow` peers only):

    client -> server   {"call_id": "1700000000.42", "channel": "PJSIP/...", "rate": 8000,
                        "nonce": "<from HOTLINE_INTAKE>"}\\n
    server -> client   OK\\n            (or "ERR <reason>\\n", then the server closes)
    client -> server   raw s16le mono PCM at `rate` until the client shuts down its side

`call_id` is the call's linkedid so both legs' text joins the call record.
The server takes a stream only if `authorize(call_id, nonce)` says yes: the
route put an unguessable nonce in the call's HOTLINE_INTAKE and the tracker
accepts it once, while that call is in intake (CallTracker.claim_intake).
Anything else gets `ERR not authorised` and no transcript, draft or transfer.
Results go to `on_text(call_id, kind, text)` with kind "partial" or "final",
always on the event loop (the engine calls back from worker threads); the
serve process wires it to the websocket hub and to emergency detection. A
malformed header or a broken client only ends that connection.
"""
from __future__ import annotations

import asyncio
import inspect
import json
import logging
import re
from typing import Any, Callable

from ivr.agi.peers import DEFAULT_ALLOW, PeerFilter
from ivr.privacy import mask_number
from ivr.speech.engine import SpeechEngine, Stream
from ivr.speech.errors import SpeechUnavailable
from ivr.waits import within

log = logging.getLogger(__name__)

OnText = Callable[[str, str, str], Any]
Authorize = Callable[[str, str], bool]
NONCE_RE = re.compile(r"^[A-Za-z0-9_-]{16,128}$")
AUTHORIZE_WAIT = 5.0  # the route's result may reach a busy tracker after the EAGI connects
CALL_ID_RE = re.compile(r"^[A-Za-z0-9._:@-]{1,128}$")
RATES = (8000, 12000, 16000, 24000, 32000, 44100, 48000, 96000, 192000)  # Asterisk slin formats
HEADER_MAX = 4096
READ_SIZE = 8192


class BadHeader(ValueError):
    pass


def parse_header(line: bytes) -> tuple[str, str, int]:
    """(call_id, channel, rate) from the JSON header line, or BadHeader."""
    call_id, channel, rate, _ = parse_header_nonce(line)
    return call_id, channel, rate


def parse_header_nonce(line: bytes) -> tuple[str, str, int, str]:
    """(call_id, channel, rate, nonce) from the JSON header line ("" if no nonce), or BadHeader."""
    try:
        header = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadHeader(f"header is not JSON ({exc.__class__.__name__})") from exc
    if not isinstance(header, dict):
        raise BadHeader("header must be a JSON object")
    call_id = header.get("call_id") or header.get("linkedid")
    if not isinstance(call_id, str) or not CALL_ID_RE.match(call_id):
        raise BadHeader("call_id missing or malformed")
    channel = header.get("channel", "")
    if not isinstance(channel, str) or len(channel) > 256:
        raise BadHeader("channel must be a string")
    rate = header.get("rate", 8000)
    if type(rate) is not int or rate not in RATES:
        raise BadHeader(f"rate must be one of {RATES}")
    nonce = header.get("nonce", "")
    if not isinstance(nonce, str) or (nonce and not NONCE_RE.match(nonce)):
        raise BadHeader("nonce malformed")
    return call_id, channel, rate, nonce


def mask_channel(channel: str) -> str:
    """Channel names can carry a phone number (Local/13912345678@...): mask long digit runs."""
    return re.sub(r"(?<![0-9A-Za-z])\d{7,}(?![0-9A-Za-z])", lambda m: mask_number(m.group()), channel)


class LiveServer:
    """asyncio TCP server feeding connections into `SpeechEngine` streams."""

    def __init__(self, engine: SpeechEngine, on_text: OnText, *, host: str = "127.0.0.1", port: int = 4574,
                 header_timeout: float = 5.0, idle_timeout: float = 300.0, max_connections: int = 200,
                 on_degraded: Callable[[str, Stream], Any] | None = None,
                 allow: Any = DEFAULT_ALLOW, authorize: Authorize | None = None) -> None:
        """`authorize` None takes every stream (tools and tests that feed the
        engine directly); the serving process always passes the tracker's."""
        self.engine, self.on_text, self.on_degraded = engine, on_text, on_degraded
        self.peers = PeerFilter(allow)
        self.authorize = authorize
        self.authorize_wait = AUTHORIZE_WAIT
        self.refused = 0  # streams refused for a missing, wrong or reused nonce
        self.host, self.port = host, port
        self.header_timeout, self.idle_timeout = header_timeout, idle_timeout
        self.max_connections = max_connections
        self._server: asyncio.base_events.Server | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._conns: dict[asyncio.Task, asyncio.StreamWriter] = {}
        self._tasks: set[asyncio.Task] = set()

    async def start(self) -> LiveServer:
        """Load the model (in a thread) and listen; raises SpeechUnavailable or OSError."""
        self._loop = asyncio.get_running_loop()
        await self._loop.run_in_executor(None, self.engine.start)
        self._server = await asyncio.start_server(self._handle, self.host, self.port, limit=HEADER_MAX)
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("live transcription listening on %s:%d", self.host, self.port)
        return self

    @property
    def connections(self) -> int:
        """Connections being served (call legs streaming, or headers awaited)."""
        return len(self._conns)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        # Cut the connections: each session sees the end of its audio and closes its stream.
        for writer in self._conns.values():
            writer.transport.abort()
        tasks = list(self._conns)
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=self.engine.close_timeout + 5)
            for task in pending:
                task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        if not self.peers.check(peer, "live transcription"):
            writer.transport.abort()  # not one byte of theirs is read
            return
        task = asyncio.current_task()
        self._conns[task] = writer
        try:
            await self._session(reader, writer, peer)
        except (ConnectionError, asyncio.IncompleteReadError) as exc:
            log.info("live connection %s dropped: %s", peer, exc.__class__.__name__)
        except Exception:  # isolate: one connection's bug never reaches the others
            log.exception("live connection %s failed", peer)
        finally:
            self._conns.pop(task, None)
            writer.close()
            try:
                await writer.wait_closed()
            except (ConnectionError, OSError):
                pass

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, peer: Any) -> None:
        try:
            line = await within(reader.readuntil(b"\n"), self.header_timeout)
            call_id, channel, rate, nonce = parse_header_nonce(line)
            if len(self._conns) > self.max_connections:
                raise BadHeader("busy")
            if not await self._authorized(call_id, nonce):
                self.refused += 1
                raise BadHeader("not authorised")
        except (asyncio.TimeoutError, asyncio.LimitOverrunError, asyncio.IncompleteReadError,
                ValueError) as exc:
            reason = str(exc) if isinstance(exc, BadHeader) else f"no valid header line ({exc.__class__.__name__})"
            log.warning("live connection %s rejected: %s", peer, reason)
            await self._reject(reader, writer, reason)
            return
        try:
            stream = self.engine.open_stream(
                call_id, self._relay(call_id, "partial"), self._relay(call_id, "final"), rate=rate,
                on_degraded=self._relay_degraded(call_id))
        except SpeechUnavailable as exc:
            log.error("live connection %s: %s", peer, exc)
            await self._reject(reader, writer, "speech unavailable")
            return
        writer.write(b"OK\n")
        await writer.drain()
        log.info("live transcription of call %s (%s) started", call_id, mask_channel(channel))
        try:
            await self._pump(reader, stream)
        finally:
            text = await asyncio.get_running_loop().run_in_executor(None, stream.close)
            log.info("live transcription of call %s ended: %.1f s of audio, %d characters%s", call_id,
                     stream.fed_seconds, len(text), f", degraded ({stream.degraded})" if stream.degraded else "")

    async def _authorized(self, call_id: str, nonce: str) -> bool:
        """Ask `authorize`, for up to `authorize_wait` seconds while it says no (bounded)."""
        if self.authorize is None:
            return True
        if not nonce:
            return False
        for _ in range(max(1, int(self.authorize_wait / 0.05))):
            if self.authorize(call_id, nonce):
                return True
            await asyncio.sleep(0.05)
        return False

    @staticmethod
    async def _reject(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, reason: str) -> None:
        writer.write(f"ERR {reason}\n".encode())
        await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
        # Read what the client already sent (bounded): closing with unread input
        # would reset the connection and could destroy the ERR line in flight.
        try:
            for _ in range(16):
                if not await within(reader.read(READ_SIZE), 1.0):
                    break
        except (asyncio.TimeoutError, ConnectionError):
            pass

    async def _pump(self, reader: asyncio.StreamReader, stream: Stream) -> None:
        odd = b""  # keep samples whole across reads
        while True:
            try:
                data = await within(reader.read(READ_SIZE), self.idle_timeout)
            except asyncio.TimeoutError:
                log.warning("live transcription of call %s: no audio for %.0f s, closing",
                            stream.call_id, self.idle_timeout)
                return
            if not data:
                return
            data = odd + data
            cut = len(data) - len(data) % 2
            odd = data[cut:]
            if cut:
                stream.feed(data[:cut])

    # ---- engine callbacks (worker threads) -> event loop ----

    def _relay(self, call_id: str, kind: str) -> Callable[[str], None]:
        def relay(text: str) -> None:
            self._loop.call_soon_threadsafe(self._deliver, self.on_text, call_id, kind, text)
        return relay

    def _relay_degraded(self, call_id: str) -> Callable[[Stream], None] | None:
        if self.on_degraded is None:
            return None

        def relay(stream: Stream) -> None:
            self._loop.call_soon_threadsafe(self._deliver, self.on_degraded, call_id, stream)
        return relay

    def _deliver(self, callback: Callable[..., Any], *args: Any) -> None:
        try:
            result = callback(*args)
            if inspect.isawaitable(result):
                task = asyncio.ensure_future(result)
                self._tasks.add(task)
                task.add_done_callback(self._reap)
        except Exception:
            log.exception("live transcription callback failed")

    def _reap(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("live transcription callback failed", exc_info=task.exception())
