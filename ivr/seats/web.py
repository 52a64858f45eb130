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

from ivr.seats import history, states
from ivr.seats.asterisk import browser_agents, ws_url
from ivr.seats.paths import PHONE_FILES
from ivr.web.keys import CONFIG, SEATS_PASSWORDS as PASSWORDS, SERVICES
from ivr.web.auth import principal_of

log = logging.getLogger(__name__)

CONSOLE_DIR = Path(__file__).resolve().parents[1] / "web" / "console"
PASSWORDS_ENV = "HOTLINE_AGENT_PASSWORDS"  # same variable as transfer/dialplan.py (ivr/ may not import transfer/)


def parse_passwords(value: str) -> dict[str, str]:
    """"agent1001=secret,agent1002=secret2" -> {agent: secret}; malformed items are skipped."""
    pairs = (item.split("=", 1) for item in value.split(",") if "=" in item)
    return {k.strip(): v.strip() for k, v in pairs if k.strip() and v.strip()}


def add_routes(app: web.Application, passwords: dict[str, str] | None = None) -> None:
    """After create_app has set the app's CONFIG and SERVICES (ivr/web/keys.py)."""
    app[PASSWORDS] = parse_passwords(os.environ.get(PASSWORDS_ENV, "")) if passwords is None else passwords
    app.router.add_get("/api/seat", seat_info)
    app.router.add_post("/api/seat/state", set_state)
    for path, (name, ctype) in PHONE_FILES.items():
        app.router.add_get(path, _static(name, ctype))


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
    store = request.app[SERVICES].store
    current = await store.run(history.current_state, agent) if store is not None else None
    if current is not None:
        current["label"] = states.LABELS.get(current["state"], current["state"])
    return web.json_response({"state": current, "agent": agent, "uri": f"sip:{agent}@{domain}", "ws_url": ws_url(config),
                              "password": request.app[PASSWORDS].get(agent),
                              "pause_reasons": config.webrtc.pause_reasons,
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
    ami = request.app[SERVICES].ami
    if ami is None:
        return web.json_response({"error": "unavailable", "detail": "电话系统未连接，无法切换状态"}, status=503)
    try:
        reply = await ami.action(change.ami_action(agent))
    except Exception as exc:  # not connected, timeout: the agent's state is unchanged
        log.warning("QueuePause for %s failed: %s", agent, type(exc).__name__)
        return web.json_response({"error": "unavailable", "detail": "电话系统未响应，状态未改变"}, status=503)
    if str(reply.get("Response", "")).lower() != "success":
        return web.json_response({"error": "refused", "detail": "电话系统拒绝：该座席不在任何队列中"}, status=409)
    log.info("agent %s: %s %s", agent, change.state, change.reason)
    now = dt.datetime.now(dt.timezone.utc)
    store = request.app[SERVICES].store
    if store is not None:  # the KPI reports sum these rows; Asterisk already holds the state
        await store.run(history.change_state, agent, change.state, change.reason, now)
    return web.json_response({"state": change.state, "label": states.LABELS[change.state], "reason": change.reason,
                              "since": now.isoformat()})
