"""`create_app`: the agent-facing aiohttp application.

Routes: GET /healthz (no token), GET /ws (events, ivr.web.ws), /api/... (ivr.web.api),
/console/ (the agent console, static), and the reports (ivr.web.reports).
Serve it with `ivr.web.auth.make_runner(app)` so the access log never shows a token.

`services` is any object with these optional attributes:
  health     async () -> dict of check name -> bool (or {"ok": bool, ...})
  store      ivr.storage.store.Store, or None (ticket routes then answer 503)
  transfers  object with (async) transfer(call_id=, kind=, target=, mode=, agent=), or None (503)
  hub        ivr.web.hub.Hub; one is created (and set on `services`) when missing
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
from ivr.web import api, audit, reports, ws
from ivr.web.auth import Authenticator, Backoff, auth_middleware
from ivr.web.hub import Hub

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


def create_app(config: Config, *, services: Any, ws_settings: ws.WsSettings | None = None) -> web.Application:
    hub = getattr(services, "hub", None)
    if hub is None:
        hub = Hub()
        services.hub = hub
    authenticator = Authenticator(config.web.tokens, config.web.supervisors)
    backoff = getattr(services, "backoff", None) or Backoff()
    app = web.Application(middlewares=[auth_middleware(authenticator, backoff)], client_max_size=256 * 1024)
    app[api.CONFIG] = config
    app[api.SERVICES] = services
    audit.setup(app, services)
    app.on_response_prepare.append(_security_headers)
    app.router.add_get("/healthz", healthz)
    ws.setup(app, hub, ws_settings, config.web.origins)
    api.setup(app)
    _add_console(app)
    seats_web.add_routes(app, config)  # seats hook: phone.js, JsSIP bundle, /api/seat
    reports.add_routes(app)
    return app


async def healthz(request: web.Request) -> web.Response:
    """200 when every check of services.health is true, else 503 (no token needed).

    With a store, "db_queue" tells how full the database queue is and what was
    shed; "degraded" is true while writes are being shed (calls still flow: 200).
    """
    response = await _health(request)
    queue_health = getattr(getattr(request.app[api.SERVICES], "store", None), "queue_health", None)
    if queue_health is None:
        return response
    body = json.loads(response.body)
    db_queue = queue_health()
    return web.json_response({**body, "db_queue": db_queue, "degraded": db_queue["degraded"]},
                             status=response.status)


async def _health(request: web.Request) -> web.Response:
    health = getattr(request.app[api.SERVICES], "health", None)
    if health is None:
        return web.json_response({"ok": True, "web": True})
    try:
        checks = await asyncio.wait_for(health(), HEALTH_TIMEOUT_S)
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
