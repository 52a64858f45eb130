"""`create_app`: the agent-facing aiohttp application.

Routes: GET /healthz (no token), GET /ws (events, ivr.web.ws), /api/... (ivr.web.api),
/console/ (the agent console, static), and the reports (ivr.web.reports).
Serve it with `ivr.web.auth.make_runner(app)` so the access log never shows a token.

`services` is what the web may use of the server, declared by the
`ivr.web.keys.WebServices` protocol (hub, store, ami, transfers, callbacks,
health; a part not running is None and its routes answer 503). Every key of
the app's state is in ivr/web/keys.py.
"""
from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any

from aiohttp import web

from ivr.config.model import Config
from ivr.seats import web as seats_web
from ivr.web import api, reports, ws
from ivr.web.auth import Authenticator, Backoff, auth_middleware
from ivr.web.keys import CONFIG, SERVICES, WebServices
from ivr.waits import within

log = logging.getLogger(__name__)

CONSOLE_DIR = Path(__file__).parent / "console"
CONSOLE_FILES = {"index.html": "text/html", "console.js": "text/javascript", "console.css": "text/css",
                 "fasttrack.js": "text/javascript",  # fast tracks: tags on the pop
                 "callbacks.js": "text/javascript", "callbacks.css": "text/css",  # callbacks hook
                 "recordings.js": "text/javascript", "recordings.css": "text/css"}  # recordings player
HEALTH_TIMEOUT_S = 5.0
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # a ?token= must not leak through Referer
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'self'; connect-src 'self' ws: wss:; frame-ancestors 'none'",
    "Cache-Control": "no-store",
}


def create_app(config: Config, *, services: WebServices, ws_settings: ws.WsSettings | None = None,
               backoff: Backoff | None = None) -> web.Application:
    """`backoff`: how wrong tokens are slowed down (tests pass a quicker one)."""
    authenticator = Authenticator(config.web.tokens, config.web.supervisors)
    app = web.Application(middlewares=[auth_middleware(authenticator, backoff or Backoff())],
                          client_max_size=256 * 1024)
    app[CONFIG] = config
    app[SERVICES] = services  # its parts are read at each request: plugins set theirs after this
    app.on_response_prepare.append(_security_headers)
    app.router.add_get("/healthz", healthz)
    ws.setup(app, services.hub, ws_settings, config.web.origins)
    api.setup(app)
    _add_console(app)
    seats_web.add_routes(app)  # seats hook: phone.js, JsSIP bundle, /api/seat
    reports.add_routes(app)
    return app


async def healthz(request: web.Request) -> web.Response:
    """200 when every check of services.health is true, else 503 (no token needed).

    With a store, "db_queue" tells how full the database queue is and what was
    shed; "degraded" is true while writes are being shed (calls still flow: 200).
    """
    response = await _health(request)
    store = request.app[SERVICES].store
    if store is None:
        return response
    body = json.loads(response.body)
    db_queue = store.queue_health()
    return web.json_response({**body, "db_queue": db_queue, "degraded": db_queue["degraded"]},
                             status=response.status)


async def _health(request: web.Request) -> web.Response:
    health = request.app[SERVICES].health
    if health is None:
        return web.json_response({"ok": True, "web": True})
    try:
        checks = await within(health(), HEALTH_TIMEOUT_S)
    except asyncio.TimeoutError:
        return web.json_response({"ok": False, "error": f"health check took over {HEALTH_TIMEOUT_S:.0f}s"}, status=503)
    except Exception as exc:  # a broken check is an unhealthy server, not a crash
        log.error("health check failed: %s", type(exc).__name__)
        return web.json_response({"ok": False, "error": f"health check failed ({type(exc).__name__})"}, status=503)
    if not isinstance(checks, dict):
        return web.json_response({"ok": False, "error": "health check returned no checks"}, status=503)
    ok = all(_check_ok(v) for v in checks.values())
    return web.json_response({**checks, "ok": ok}, status=200 if ok else 503)


def _check_ok(value: Any) -> bool:
    return value.get("ok") is True if isinstance(value, dict) else value is True


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)


def _add_console(app: web.Application) -> None:
    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPFound("/console/")

    def serve(name: str):
        async def handler(request: web.Request) -> web.FileResponse:
            return web.FileResponse(CONSOLE_DIR / name, headers={"Content-Type": f"{CONSOLE_FILES[name]}; charset=utf-8"})
        return handler

    app.router.add_get("/", redirect)
    app.router.add_get("/console", redirect)
    app.router.add_get("/console/", serve("index.html"))
    for name in CONSOLE_FILES:
        app.router.add_get(f"/console/{name}", serve(name))
