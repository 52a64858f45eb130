"""Bearer-token authentication for the agent web layer, and token-safe logging.

Tokens come from `config.web.tokens` (token -> agent id), either as the token
itself or as `sha256:<hex>` of it, so config.yaml need not hold a usable
secret; agent ids listed in `config.web.supervisors` get the supervisor role
(they see every call). An address that presents wrong tokens is slowed down
(`Backoff`): after a few failures it gets 429 with Retry-After, doubling up to a cap.
Every path needs a token except `/healthz` and the console's static shell
(HTML/JS/CSS, which holds no data: everything it shows comes from `/ws` and
`/api`, both behind the token). `Authorization: Bearer <token>` is the normal
form; `?token=` is accepted on `/ws` only, because a browser cannot set
headers on a websocket. Tokens are never logged: `RedactingAccessLogger`
strips them from the access log.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import math
import re
import ssl
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from ivr.seats.paths import PUBLIC_PATHS as SEAT_PUBLIC_PATHS

log = logging.getLogger(__name__)

PUBLIC_PATHS = frozenset({"/healthz", "/", "/favicon.ico", "/console", "/console/", "/console/index.html",
                          "/console/console.js", "/console/console.css",
                          "/console/fasttrack.js", "/console/callbacks.js", "/console/callbacks.css",
                          "/console/recordings.js", "/console/recordings.css",  # recordings player
                          }) | SEAT_PUBLIC_PATHS  # seats hook; fast-track tags; callbacks card
PUBLIC_PATHS |= {"/wallboard", "/wallboard/", "/wallboard/wallboard.js", "/wallboard/wallboard.css"}  # supervision hook
QUERY_TOKEN_PATHS = frozenset({"/ws", "/wallboard/ws"})
# No token, because the handler checks a signature in the URL instead (recordings/playback.py):
# an <audio> element cannot send the Authorization header.
SIGNED_PATH = re.compile(r"^/api/recordings/[0-9]{1,11}/stream$")
MIN_TOKEN_LEN = 16


@dataclass(frozen=True)
class Principal:
    agent: str
    supervisor: bool

    @property
    def role(self) -> str:
        return "supervisor" if self.supervisor else "agent"


class Authenticator:
    """Maps a presented token to a `Principal` in constant time."""

    def __init__(self, tokens: dict[str, str], supervisors: list[str] | tuple[str, ...] = ()) -> None:
        # Digests, compared with compare_digest against every entry without
        # stopping at a hit: the time taken says nothing about a guess.
        self._entries: list[tuple[bytes, str]] = [(_stored_digest(t), agent) for t, agent in tokens.items() if t]
        self._supervisors = frozenset(supervisors)
        short = sum(1 for t in tokens if len(t) < MIN_TOKEN_LEN and not t.startswith(HASH_PREFIX))
        if short:
            log.warning("%d web token(s) are shorter than %d characters: easy to guess", short, MIN_TOKEN_LEN)

    def authenticate(self, token: str | None) -> Principal | None:
        if not token:
            return None
        digest = _digest(token)
        found: str | None = None
        for known, agent in self._entries:
            if hmac.compare_digest(known, digest):
                found = agent
        return None if found is None else Principal(found, found in self._supervisors)


HASH_PREFIX = "sha256:"


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


def _stored_digest(entry: str) -> bytes:
    """The digest a config entry stands for: `sha256:<hex>` as given, a plain token hashed."""
    if entry.startswith(HASH_PREFIX):
        return bytes.fromhex(entry[len(HASH_PREFIX):])  # shape checked by the config model
    return _digest(entry)


def hash_token(token: str) -> str:
    """The `sha256:<hex>` form of `token`, for config.yaml (ivr.web.auth.hash_token)."""
    return HASH_PREFIX + _digest(token).hex()


class Backoff:
    """Per-address back-off on failed tokens, in bounded memory.

    The first `free` failures cost nothing (a mistyped token); each one after
    that blocks the address for `base` * 2^n seconds, up to `cap`. While
    blocked, every request from it is answered 429 without looking at the
    token, so guessing stays slow. A success forgets the address. At most
    `max_addresses` are remembered (the least recently failed go first).
    """

    def __init__(self, *, free: int = 5, base: float = 1.0, cap: float = 300.0, max_addresses: int = 10000,
                 clock=time.monotonic) -> None:
        self.free, self.base, self.cap, self.max_addresses = free, base, cap, max_addresses
        self.clock = clock
        self._seen: OrderedDict[str, tuple[int, float]] = OrderedDict()  # address -> (failures, blocked until)

    def retry_after(self, address: str) -> float:
        """Seconds `address` must still wait (0: may try)."""
        entry = self._seen.get(address)
        return 0.0 if entry is None else max(0.0, entry[1] - self.clock())

    def failed(self, address: str) -> float:
        """Count a failure; returns the block it earned (0 while still free)."""
        failures = self._seen.pop(address, (0, 0.0))[0] + 1
        block = 0.0 if failures <= self.free else min(self.cap, self.base * 2 ** min(failures - self.free - 1, 32))
        self._seen[address] = (failures, self.clock() + block)
        while len(self._seen) > self.max_addresses:
            self._seen.popitem(last=False)
        return block

    def succeeded(self, address: str) -> None:
        self._seen.pop(address, None)

    def __len__(self) -> int:
        return len(self._seen)


def tls_context(tls) -> ssl.SSLContext | None:
    """The server's TLS context from `config.web.tls` (cert, key), or None for plain HTTP."""
    if tls is None:
        return None
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(tls.cert, tls.key)
    return ctx


def presented_token(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    if request.path in QUERY_TOKEN_PATHS:
        return request.query.get("token") or None
    return None


def auth_middleware(authenticator: Authenticator, backoff: Backoff | None = None) -> Callable:
    backoff = backoff or Backoff()

    @web.middleware
    async def middleware(request: web.Request,
                         handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
        if request.path in PUBLIC_PATHS or SIGNED_PATH.fullmatch(request.path):
            return await handler(request)
        address = request.remote or "?"
        wait = backoff.retry_after(address)
        if wait > 0:
            return _too_many(wait)
        token = presented_token(request)
        principal = authenticator.authenticate(token)
        if principal is None:
            block = backoff.failed(address) if token else 0.0  # no token at all is not a guess
            log.warning("unauthorised %s %s from %s: %s token%s", request.method, request.path,
                        request.remote, "invalid" if token else "missing",
                        f" (blocked {block:.0f} s)" if block else "")
            if block:
                return _too_many(block)
            return web.json_response(
                {"error": "unauthorized", "detail": "a valid token is required (Authorization: Bearer <token>)"},
                status=401, headers={"WWW-Authenticate": 'Bearer realm="hotline"'})
        backoff.succeeded(address)
        request[PRINCIPAL] = principal
        return await handler(request)

    return middleware


def _too_many(wait: float) -> web.Response:
    seconds = max(1, math.ceil(wait))
    return web.json_response({"error": "too_many_failures", "detail": f"错误令牌过多，请 {seconds} 秒后重试 "
                              f"(too many wrong tokens: retry in {seconds} s)"},
                             status=429, headers={"Retry-After": str(seconds)})


PRINCIPAL = web.RequestKey("principal", Principal)


def principal_of(request: web.Request) -> Principal:
    return request[PRINCIPAL]


def redact_query(query_string: str) -> str:
    """The query string with any token value replaced by ***."""
    if "token" not in query_string:
        return query_string
    pairs = parse_qsl(query_string, keep_blank_values=True)
    return urlencode([(k, "***" if k.lower() == "token" else v) for k, v in pairs], safe="*")


class RedactingAccessLogger(AbstractAccessLogger):
    """Access log without tokens: `remote "METHOD /path?query" status bytes seconds`."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        query = redact_query(request.query_string)
        target = request.path + ("?" + query if query else "")
        self.logger.info('%s "%s %s" %s %s %.3fs', request.remote, request.method, target,
                         response.status, response.body_length, time)

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)


def make_runner(app: web.Application, **kwargs) -> web.AppRunner:
    """An AppRunner whose access log never contains a token (use this to serve the app)."""
    return web.AppRunner(app, access_log_class=RedactingAccessLogger, **kwargs)
