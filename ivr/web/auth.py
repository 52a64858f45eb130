"""Bearer-token authentication for the agent web layer, and token-safe logging.

Tokens come from `config.web.tokens` (token -> agent id); agent ids listed in
`config.web.supervisors` get the supervisor role (they see every call).
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
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from ivr.seats.paths import PUBLIC_PATHS as SEAT_PUBLIC_PATHS

log = logging.getLogger(__name__)

PUBLIC_PATHS = frozenset({"/healthz", "/", "/favicon.ico", "/console", "/console/", "/console/index.html",
                          "/console/console.js", "/console/console.css"}) | SEAT_PUBLIC_PATHS  # seats hook
QUERY_TOKEN_PATHS = frozenset({"/ws"})
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
        self._entries: list[tuple[bytes, str]] = [(_digest(t), agent) for t, agent in tokens.items() if t]
        self._supervisors = frozenset(supervisors)
        short = sum(1 for t in tokens if len(t) < MIN_TOKEN_LEN)
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


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


def presented_token(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    if request.path in QUERY_TOKEN_PATHS:
        return request.query.get("token") or None
    return None


def auth_middleware(authenticator: Authenticator) -> Callable:
    @web.middleware
    async def middleware(request: web.Request,
                         handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
        if request.path in PUBLIC_PATHS:
            return await handler(request)
        token = presented_token(request)
        principal = authenticator.authenticate(token)
        if principal is None:
            log.warning("unauthorised %s %s from %s: %s token", request.method, request.path,
                        request.remote, "invalid" if token else "missing")
            return web.json_response(
                {"error": "unauthorized", "detail": "a valid token is required (Authorization: Bearer <token>)"},
                status=401, headers={"WWW-Authenticate": 'Bearer realm="hotline"'})
        request[PRINCIPAL] = principal
        return await handler(request)

    return middleware


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
