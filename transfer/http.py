"""The transfer plugin's HTTP routes (mounted by `setup(app)` beside ivr.web.api):

    GET  /api/options                             who am I, and this city's transfer destinations
    POST /api/calls/{call_id}/transfer {"kind", "target", "mode"}   start a transfer of one's own call
    POST /api/calls/{call_id}/transfer/complete   the agent leaves a three-way / attended transfer
    POST /api/calls/{call_id}/transfer/cancel     give up the transfer in progress
    GET  /api/calls/{call_id}/transfer            the transfer in progress, if any
    GET  /api/agents                              who is in which queue (supervisors)
    POST /api/agents/login   {"queues": [...]}    the agent joins queues (签入) it is allowed (config
                                                  web.agent_queues); supervisors may name "agent" and
                                                  one of its known "interface"s
    POST /api/agents/logout  {"queues": [...]}    ... leaves them (签出)

Mount with `transfer.http.setup(app)` after `ivr.web.app.create_app` (the same
token middleware guards them). An agent acts on their own calls only.
"""
from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from ivr.ami.client import AmiError
from ivr.calls import events
from ivr.web.errors import error_response as _error
from ivr.web.api import CALL_ID_RE
from ivr.web.auth import principal_of
from ivr.seats.queues import allowed_queues  # one rule for the console and the seat
from ivr.web.keys import CONFIG, HUB, SERVICES, Transfers
from transfer.agents import AgentDesk, AgentError, known_agents, known_interfaces
from transfer.targets import KINDS, MODES, resolve

log = logging.getLogger(__name__)

# 三方转接 where someone must be briefed; a queue just takes the call.
DEFAULT_MODE = {"subcenter": "threeway", "emergency": "threeway", "utility": "threeway",
                "provincial": "threeway", "expert": "blind", "queue": "blind"}


def _transfers(request: web.Request) -> Transfers | None:
    return request.app[SERVICES].transfers


async def _body(request: web.Request) -> dict | web.Response:
    if not request.can_read_body:
        return {}
    try:
        body = await request.json()
    except ValueError:
        return _error(400, "bad_request", "the body must be JSON")
    return body if isinstance(body, dict) else _error(400, "bad_request", "the body must be a JSON object")


async def _call_action(request: web.Request, action: str) -> web.Response:
    p = principal_of(request)
    call_id = request.match_info["call_id"]
    if not CALL_ID_RE.match(call_id):
        return _error(400, "bad_request", "malformed call id")
    owner = request.app[HUB].calls.owner(call_id)
    if owner != p.agent and not p.supervisor:
        return _error(403, "forbidden", "you can only act on your own calls")
    service = _transfers(request)
    if service is None:
        return _error(503, "unavailable", "the transfer service is not running")
    try:
        if action == "status":
            status = service.status(call_id)
            return web.json_response({"transfer": status})
        act = service.complete if action == "complete" else service.cancel
        result = await act(call_id, agent=p.agent)
    except LookupError as exc:
        return _error(404, "not_found", str(exc))
    except ValueError as exc:
        return _error(409, "refused", str(exc))
    except AmiError as exc:
        log.error("%s of the transfer of call %s failed: %s", action, call_id, type(exc).__name__)
        return _error(502, "transfer_failed", f"Asterisk did not do it ({type(exc).__name__})")
    return web.json_response({"ok": True, "transfer": result})


async def complete(request: web.Request) -> web.Response:
    return await _call_action(request, "complete")


async def cancel(request: web.Request) -> web.Response:
    return await _call_action(request, "cancel")


async def status(request: web.Request) -> web.Response:
    return await _call_action(request, "status")


def _desk(request: web.Request) -> AgentDesk | None:
    ami = request.app[SERVICES].ami
    return None if ami is None else AgentDesk(request.app[CONFIG], ami)


async def members(request: web.Request) -> web.Response:
    if not principal_of(request).supervisor:
        return _error(403, "forbidden", "supervisors only")
    desk = _desk(request)
    if desk is None:
        return _error(503, "unavailable", "Asterisk is not connected")
    try:
        return web.json_response({"queues": await desk.members()})
    except AmiError as exc:
        return _error(502, "ami", type(exc).__name__)


async def _login_logout(request: web.Request, login: bool) -> web.Response:
    p = principal_of(request)
    body = await _body(request)
    if isinstance(body, web.Response):
        return body
    agent = body.get("agent") or p.agent
    if agent != p.agent and not p.supervisor:
        return _error(403, "forbidden", "you can only log yourself in or out")
    queues = body.get("queues")
    if queues is not None and (not isinstance(queues, list) or not all(isinstance(q, str) for q in queues)):
        return _error(400, "bad_request", "queues must be a list of queue ids")
    interface = body.get("interface") if p.supervisor else None  # agents use their own phone
    refused = _refusal(request.app[CONFIG], agent, queues, interface, login)
    if refused:
        log.warning("%s was refused %s for %s: %s", p.agent, "login" if login else "logout", agent, refused)
        return _error(403, "forbidden", refused)
    desk = _desk(request)
    if desk is None:
        return _error(503, "unavailable", "Asterisk is not connected")
    try:
        if login:
            done = await desk.login(agent, queues, interface=interface)
        else:
            done = await desk.logout(agent, queues, interface=interface)
    except AgentError as exc:
        return _error(400, "bad_request", str(exc))
    except AmiError as exc:
        return _error(502, "ami", type(exc).__name__)
    log.info("%s %s %s", agent, "logged in to" if login else "logged out of", ",".join(done))
    return web.json_response({"ok": True, "agent": agent, "queues": done})


def _refusal(config, agent: Any, queues: list[str] | None, interface: Any, login: bool) -> str | None:
    """Why this console may not do it (None: it may): unknown queue rights, or a foreign interface."""
    if not isinstance(agent, str) or agent not in known_agents(config):
        return "agent must be an agent id the configuration knows"
    if interface is not None and (not isinstance(interface, str) or interface not in known_interfaces(config, agent)):
        return f"interface must be one of {agent}'s own endpoints (坐席只能使用自己的话机)"
    if login:
        allowed = allowed_queues(config, agent)
        denied = [q for q in (queues or ["general"]) if q not in allowed]
        if denied:
            return f"{agent} may not join {', '.join(q[:40] for q in denied)} (无权签入该队列)"
    return None


async def login(request: web.Request) -> web.Response:
    return await _login_logout(request, True)


async def logout(request: web.Request) -> web.Response:
    return await _login_logout(request, False)


async def transfer_call(request: web.Request) -> web.Response:
    """POST /api/calls/{call_id}/transfer {"kind", "target", "mode"}."""
    p = principal_of(request)
    call_id = request.match_info["call_id"]
    if not CALL_ID_RE.match(call_id):
        return _error(400, "bad_request", "malformed call id")
    body = await _body(request)
    if isinstance(body, web.Response):
        return body
    kind, target = body.get("kind"), body.get("target", "")
    if kind not in KINDS:
        return _error(400, "bad_request", f"kind must be one of {', '.join(KINDS)}")
    if not isinstance(target, str):
        return _error(400, "bad_request", "target must be a string")
    mode = body.get("mode") or DEFAULT_MODE[kind]
    if mode not in MODES:
        return _error(400, "bad_request", f"mode must be one of {', '.join(MODES)}")
    try:  # the transfer service's own check, so both agree on what exists
        label = resolve(request.app[CONFIG], kind, target).label
    except ValueError as exc:
        return _error(400, "bad_target", str(exc))
    hub = request.app[HUB]
    if not hub.calls.is_active(call_id):
        return _error(404, "not_found", "no such active call")
    owner = hub.calls.owner(call_id)
    if owner is None:
        return _error(403, "forbidden", "the call has not been answered yet")
    if owner != p.agent and not p.supervisor:
        log.warning("%s tried to transfer call %s of another agent", p.agent, call_id)
        return _error(403, "forbidden", "you can only transfer your own calls")
    transfers = _transfers(request)
    if transfers is None:
        return _error(503, "unavailable", "the transfer service is not running")
    request_info = {"kind": kind, "target": target, "label": label, "mode": mode, "by": p.agent}
    try:
        result = await transfers.transfer(call_id=call_id, kind=kind, target=target, mode=mode, agent=p.agent)
    except (ValueError, LookupError) as exc:
        log.warning("transfer of call %s refused: %s", call_id, type(exc).__name__)
        await hub.publish(owner, events.TRANSFER, events.transfer_step(call_id, {**request_info, "status": "refused"}))
        return _error(409, "refused", str(exc) or "the transfer service refused the transfer")
    except Exception as exc:  # the service failed: the console must hear it, the server goes on
        log.error("transfer of call %s failed: %s", call_id, type(exc).__name__)
        await hub.publish(owner, events.TRANSFER, events.transfer_step(call_id, {**request_info, "status": "failed"}))
        # The agent sees why (it names the target, never the caller); the log only the type.
        return _error(502, "transfer_failed", f"the transfer failed: {str(exc)[:200] or type(exc).__name__}")
    log.info("%s requested %s transfer of call %s to %s:%s", p.agent, mode, call_id, kind, target)
    await hub.publish(owner, events.TRANSFER, events.transfer_step(call_id, {**request_info, "status": "requested"}))
    return web.json_response({"ok": True, "call_id": call_id, **request_info,
                              "result": result if isinstance(result, (dict, list, str, int, float, bool)) else None},
                             status=202)


# -- the console's transfer destinations ---------------------------------------------------
async def options(request: web.Request) -> web.Response:
    """GET /api/options: who am I, and the transfer destinations of this city."""
    p = principal_of(request)
    cfg = request.app[CONFIG]
    expert_ids = {ln.queue for ln in cfg.lines if ln.queue}
    experts = [q for q in cfg.queues if q.id in expert_ids] or list(cfg.queues)
    return web.json_response({
        "agent": p.agent, "role": p.role,
        "sub_centers": [{"id": s.id, "name": s.name} for s in cfg.sub_centers],
        "experts": [{"id": q.id, "name": q.name} for q in experts],
        "queues": [{"id": q.id, "name": q.name} for q in cfg.queues],
        "emergency": [{"number": n, "name": name} for n, name in cfg.emergency.numbers.items()],
        "utilities": [{"number": u.number, "name": u.name} for u in cfg.utilities],
        "provincial": {"number": cfg.provincial.number, "name": cfg.provincial.name} if cfg.provincial else None,
        "modes": list(MODES),
    })


def setup(app: web.Application) -> None:
    app.router.add_get("/api/options", options)
    app.router.add_post("/api/calls/{call_id}/transfer", transfer_call)
    app.router.add_post("/api/calls/{call_id}/transfer/complete", complete)
    app.router.add_post("/api/calls/{call_id}/transfer/cancel", cancel)
    app.router.add_get("/api/calls/{call_id}/transfer", status)
    app.router.add_get("/api/agents", members)
    app.router.add_post("/api/agents/login", login)
    app.router.add_post("/api/agents/logout", logout)
