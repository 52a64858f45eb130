"""HTTP routes of supervision, behind the web's token middleware (ivr/web/auth.py):

    POST /api/supervision/spy      {"agent", "mode": listen|whisper|barge}: ring the supervisor's own
                                   phone, then ChanSpy on the agent's call (202); audited
    GET  /api/supervision/kpi?from=&to=&by=   the KPI report (supervision/kpi.py) as JSON; audited
    GET  /api/supervision/kpi.png?from=&to=   15-s rate and connect rate per day (PNG); audited
    GET  /api/supervision/wallboard           the wallboard's latest snapshot
    GET  /wallboard/ws?token=                 the same, pushed on every refresh (websocket)
    GET  /wallboard/                          the page (static, public like the console shell: no data in it)
    GET  /metrics                             Prometheus text format, any valid token (aggregates only)
Everything but /metrics and the static page needs a supervisor token: agents get 403.
"""
from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

from aiohttp import web

from ivr.reports import ReportError, parse_range
from ivr.storage import repo
from ivr.web.errors import error_response as _error
from ivr.web.keys import CONFIG, SERVICES, WALLBOARD, Wallboard
from ivr.web.auth import principal_of
from supervision import kpi, kpi_store, metrics, spy
from supervision.wallboard import known_agents

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
PAGES = {"/wallboard/": ("index.html", "text/html"), "/wallboard/wallboard.js": ("wallboard.js", "text/javascript"),
         "/wallboard/wallboard.css": ("wallboard.css", "text/css")}


def setup(app: web.Application, wallboard: Wallboard | None = None) -> None:
    app[WALLBOARD] = wallboard
    app.router.add_post("/api/supervision/spy", spy_route)
    app.router.add_get("/api/supervision/kpi", kpi_json)
    app.router.add_get("/api/supervision/kpi.png", kpi_png)
    app.router.add_get("/api/supervision/wallboard", wallboard_json)
    app.router.add_get("/wallboard/ws", wallboard_ws)
    app.router.add_get("/metrics", metrics_route)
    app.router.add_get("/wallboard", _redirect)
    for path, (name, ctype) in PAGES.items():
        app.router.add_get(path, _static(name, ctype))


def _forbidden(request: web.Request) -> web.Response | None:
    if not principal_of(request).supervisor:
        return _error(403, "forbidden", "仅督查员/班长可用 (supervisor token required)")
    return None


def _audit(request: web.Request, action: str, record_type: str, record_id: str, detail: dict) -> None:
    store = request.app[SERVICES].store
    if store is not None:
        store.submit(repo.log_access, principal_of(request).agent, action, record_type, record_id, request.remote, detail)


async def spy_route(request: web.Request) -> web.Response:
    if (refused := _forbidden(request)) is not None:
        return refused
    config, services = request.app[CONFIG], request.app[SERVICES]
    if not config.supervision.enabled:
        return _error(503, "unavailable", "督查功能未启用 (supervision.enabled is false)")
    ami = services.ami
    try:
        body = await request.json()
    except ValueError:
        body = None
    supervisor = principal_of(request).agent
    try:
        req = spy.parse(body, known_agents(config))
        if ami is None or not ami.connected:
            raise spy.SpyError(503, "电话系统未连接 (AMI not connected)")
        listing = await ami.action({"Action": "CoreShowChannels"}, as_list=True)
        leg = spy.agent_leg(req.agent, [dict(e) for e in listing] if isinstance(listing, list) else [])
        phone = spy.endpoint(supervisor, config.supervision.endpoints)
        call_id = next((str(e.get("Linkedid")) for e in listing if e.get("Channel") == leg), "")
        await ami.originate(**spy.originate(phone, leg, req.mode, config.supervision.ring_timeout))
    except spy.SpyError as exc:
        return _error(exc.status, "refused", str(exc))
    except Exception as exc:  # AMI refused or timed out: nothing started
        log.warning("supervision originate failed: %s", type(exc).__name__)
        return _error(503, "unavailable", "电话系统未响应，未能发起督查")
    _audit(request, req.mode, "call", call_id or None, {"agent": req.agent, "phone": phone})
    log.info("supervisor %s: %s on agent %s", supervisor, req.mode, req.agent)
    return web.json_response({"mode": req.mode, "label": spy.LABELS[req.mode], "agent": req.agent, "call_id": call_id,
                              "phone": phone}, status=202)


async def _report(request: web.Request, by: str | None, fmt: str) -> dict | web.Response:
    if (refused := _forbidden(request)) is not None:
        return refused
    config, store = request.app[CONFIG], request.app[SERVICES].store
    if store is None:
        return _error(503, "unavailable", "no database")
    opts = kpi_store.options(config)
    try:
        start, end = parse_range(request.query.get("from"), request.query.get("to"), dt.datetime.now(opts["tz"]).date())
    except ReportError as exc:
        return _error(400, "bad_request", str(exc))
    if by is not None and by not in kpi.GROUPS:
        return _error(400, "bad_request", f"by must be one of {', '.join(kpi.GROUPS)}")
    _audit(request, "read", "report", f"kpi:{start}..{end}", {"format": fmt, "by": by})
    return await store.run(kpi_store.load, start, end, by=by, **opts)


async def kpi_json(request: web.Request) -> web.Response:
    rep = await _report(request, request.query.get("by") or None, "json")
    return rep if isinstance(rep, web.Response) else web.json_response(rep)


async def kpi_png(request: web.Request) -> web.Response:
    rep = await _report(request, "day", "png")
    if isinstance(rep, web.Response):
        return rep
    return web.Response(body=kpi_store.render_chart(rep), content_type="image/png")


def _board(request: web.Request):
    return request.app.get(WALLBOARD)


async def wallboard_json(request: web.Request) -> web.Response:
    if (refused := _forbidden(request)) is not None:
        return refused
    board = _board(request)
    if board is None:
        return _error(503, "unavailable", "督查功能未启用")
    return web.json_response(await board.latest())


async def wallboard_ws(request: web.Request) -> web.StreamResponse:
    if (refused := _forbidden(request)) is not None:
        return refused
    board = _board(request)
    if board is None:
        return _error(503, "unavailable", "督查功能未启用")
    ws = web.WebSocketResponse(heartbeat=20)
    await ws.prepare(request)
    page = board.subscribe()
    try:
        if board.snapshot is not None:
            await ws.send_json(board.snapshot)
        while not ws.closed:
            await ws.send_json(await page.get())
    except (ConnectionError, RuntimeError):
        pass  # the page went away
    finally:
        board.unsubscribe(page)
    return ws


async def metrics_route(request: web.Request) -> web.Response:
    body, ctype = metrics.exposition()
    return web.Response(body=body, headers={"Content-Type": ctype})


async def _redirect(request: web.Request) -> web.Response:
    raise web.HTTPFound("/wallboard/")


def _static(name: str, ctype: str):
    async def handler(request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC / name, headers={"Content-Type": f"{ctype}; charset=utf-8"})
    return handler
