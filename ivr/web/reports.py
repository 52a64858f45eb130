"""HTTP face of `ivr.reports` for supervisors (thin: parsing, permission, audit).

GET /api/reports/lines?from=YYYY-MM-DD&to=YYYY-MM-DD   figures as JSON
GET /api/reports/lines.png?from=...&to=...             calls per number per day (PNG)

Both need a supervisor's token; each read is written to the audit log.
"""
from __future__ import annotations

import asyncio
import datetime as dt
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy.orm import Session

from ivr.reports import LineReport, ReportError, line_report, parse_range, render_chart
from ivr.storage import repo
from ivr.web.keys import CONFIG, SERVICES
from ivr.web.auth import principal_of


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/reports/lines", lines_json)
    app.router.add_get("/api/reports/lines.png", lines_png)


def _error(status: int, error: str, detail: str) -> web.Response:
    return web.json_response({"error": error, "detail": detail}, status=status)


def _audited_report(session: Session, start: dt.date, end: dt.date, actor: str, source: str | None,
                    fmt: str) -> LineReport:
    repo.log_access(session, actor, "read", "report", f"lines:{start}..{end}", source, {"format": fmt})
    return line_report(session, start, end)


async def _report(request: web.Request, fmt: str) -> LineReport | web.Response:
    try:
        principal = principal_of(request)  # set by ivr.web.auth's middleware
    except KeyError:
        return _error(401, "unauthorized", "a valid token is required")
    if not principal.supervisor:
        return _error(403, "forbidden", "reports are for supervisors")
    store = request.app[SERVICES].store
    if store is None:
        return _error(503, "unavailable", "storage is not available")
    today = dt.datetime.now(ZoneInfo(request.app[CONFIG].hotline.timezone)).date()
    try:
        start, end = parse_range(request.query.get("from"), request.query.get("to"), today)
    except ReportError as exc:
        return _error(400, "bad_request", str(exc))
    return await store.run(_audited_report, start, end, principal.agent, request.remote, fmt)


async def lines_json(request: web.Request) -> web.Response:
    report = await _report(request, "json")
    if isinstance(report, web.Response):
        return report
    return web.json_response(report.to_dict())


async def lines_png(request: web.Request) -> web.Response:
    report = await _report(request, "png")
    if isinstance(report, web.Response):
        return report
    # Drawing takes a few hundred ms of CPU: keep it off the event loop.
    png = await asyncio.get_running_loop().run_in_executor(None, render_chart, report)
    return web.Response(body=png, content_type="image/png")
