"""The browser seat's web side: its static files and GET /api/seat.

/api/seat (behind the agent's token, like all of /api) tells the page how to
register: the SIP URI, the WebSocket URL and the agent's own SIP password from
$HOTLINE_AGENT_PASSWORDS, the same secret Asterisk's <id>-auth holds. The
password goes only to the agent it belongs to; without one the page asks the
agent to type it. An agent that is not a browser seat gets 404 with a reason.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
from pathlib import Path

from aiohttp import web

from ivr.seats import history, shift, states
from ivr.seats.asterisk import browser_agents, ws_url
from ivr.seats.paths import PHONE_FILES
from ivr.seats.queues import seat_queues
from ivr.seats.service import SeatRefused, SeatService, SeatUnavailable
from ivr.web.api import SERVICES
from ivr.web.auth import principal_of

log = logging.getLogger(__name__)

CONSOLE_DIR = Path(__file__).resolve().parents[1] / "web" / "console"
PASSWORDS_ENV = "HOTLINE_AGENT_PASSWORDS"  # same variable as transfer/dialplan.py (ivr/ may not import transfer/)
CONFIG = web.AppKey("seats_config", object)
PASSWORDS = web.AppKey("seats_passwords", dict)
SERVICE = web.AppKey("seats_service", SeatService)


def parse_passwords(value: str) -> dict[str, str]:
    """"agent1001=secret,agent1002=secret2" -> {agent: secret}; malformed items are skipped."""
    pairs = (item.split("=", 1) for item in value.split(",") if "=" in item)
    return {k.strip(): v.strip() for k, v in pairs if k.strip() and v.strip()}


def add_routes(app: web.Application, config, passwords: dict[str, str] | None = None) -> None:
    app[CONFIG] = config
    app[PASSWORDS] = parse_passwords(os.environ.get(PASSWORDS_ENV, "")) if passwords is None else passwords
    app.router.add_get("/api/seat", seat_info)
    app.router.add_post("/api/seat/state", set_state)
    app.router.add_post("/api/seat/sign-in", sign_in)
    app.router.add_post("/api/seat/sign-out", sign_out)
    app.router.add_get("/api/seats/states", board)
    app.router.add_get("/api/seat/calls", my_shift)
    for path, (name, ctype) in PHONE_FILES.items():
        app.router.add_get(path, _static(name, ctype))


def service_of(app: web.Application) -> SeatService:
    """The app's one SeatService (the seats plugin subscribes the same one to AMI)."""
    if SERVICE not in app:
        app[SERVICE] = SeatService(app[CONFIG], app[SERVICES])
    return app[SERVICE]


def _static(name: str, ctype: str):
    async def handler(request: web.Request) -> web.StreamResponse:
        path = CONSOLE_DIR / name
        if not path.is_file():  # the vendor bundle is built by scripts/setup_vendor.sh
            return web.Response(status=404, text=f"{name} missing: run scripts/setup_vendor.sh",
                                content_type="text/plain")
        return web.FileResponse(path, headers={"Content-Type": f"{ctype}; charset=utf-8"})
    return handler


async def seat_info(request: web.Request) -> web.Response:
    agent = principal_of(request).agent
    config = request.app[CONFIG]
    if agent not in browser_agents(config):
        return web.json_response({"error": "not_a_browser_seat",
                                  "detail": f"{agent} 不是浏览器座席（config.yaml webrtc.agents）"}, status=404)
    domain = config.webrtc.sip_domain
    store = getattr(request.app[SERVICES], "store", None)
    current = await store.run(history.current_state, agent) if store is not None else None
    if current is not None:
        current["label"] = states.LABELS.get(current["state"], current["state"])
    options = config.webrtc.seats.get(agent)
    return web.json_response({"state": current, "agent": agent, "uri": f"sip:{agent}@{domain}", "ws_url": ws_url(config),
                              "password": request.app[PASSWORDS].get(agent),
                              "pause_reasons": config.webrtc.pause_reasons,
                              "auto_answer": bool(options and options.auto_answer),
                              "wrapup_end": config.webrtc.wrapup_end, "queues": seat_queues(config, agent),
                              "wrapup": max((q.wrapup for q in config.queues if f"PJSIP/{agent}" in q.members),
                                            default=0)})


async def set_state(request: web.Request) -> web.Response:
    """示忙/示闲: QueuePause for the agent's own interface in every queue."""
    agent = principal_of(request).agent
    config = request.app[CONFIG]
    if agent not in browser_agents(config):
        return web.json_response({"error": "not_a_browser_seat"}, status=404)
    try:
        change = states.parse_request(await request.json(), config.webrtc.pause_reasons)
    except ValueError as exc:  # StateError, or a body that is not JSON
        msg = str(exc) if isinstance(exc, states.StateError) else "请求格式错误：不是 JSON"
        return web.json_response({"error": "bad_request", "detail": msg}, status=400)
    return await _change(request, agent, lambda service: service.set_state(agent, change))


async def sign_in(request: web.Request) -> web.Response:
    """签入: QueueAdd to the queues config lets this agent serve; then 示闲."""
    return await _own_seat(request, lambda service, agent: service.sign_in(agent))


async def sign_out(request: web.Request) -> web.Response:
    """签出: QueueRemove from those queues."""
    return await _own_seat(request, lambda service, agent: service.sign_out(agent))


async def _own_seat(request: web.Request, act) -> web.Response:
    agent = principal_of(request).agent
    if agent not in browser_agents(request.app[CONFIG]):
        return web.json_response({"error": "not_a_browser_seat"}, status=404)
    return await _change(request, agent, lambda service: act(service, agent))


async def _change(request: web.Request, agent: str, act) -> web.Response:
    try:
        return web.json_response(await act(service_of(request.app)))
    except SeatUnavailable as exc:
        return web.json_response({"error": "unavailable", "detail": str(exc)}, status=503)
    except SeatRefused as exc:
        return web.json_response({"error": "refused", "detail": str(exc)}, status=409)


async def board(request: web.Request) -> web.Response:
    """GET /api/seats/states (supervisors): every agent's current state, reason and since when."""
    if not principal_of(request).supervisor:
        return web.json_response({"error": "forbidden", "detail": "仅班长可查看座席状态"}, status=403)
    return web.json_response({"agents": await service_of(request.app).board()})


async def my_shift(request: web.Request) -> web.Response:
    """GET /api/seat/calls: the agent's own calls of this shift (numbers masked), newest first."""
    agent = principal_of(request).agent
    store = getattr(request.app[SERVICES], "store", None)
    if store is None:
        return web.json_response({"error": "unavailable", "detail": "数据库不可用"}, status=503)
    now = dt.datetime.now(dt.timezone.utc)
    return web.json_response({"agent": agent, "calls": await store.run(shift.shift_calls, agent, now)})
