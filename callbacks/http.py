"""HTTP routes of the outbound engine, behind the web's token middleware:

    POST /api/callbacks              {"ticket", "number", "kind": "survey", "campaign"}: a task
                                     (201 new; 200 the ticket's existing task: idempotent by ticket)
    GET  /api/callbacks[?state=][&ticket=]  the latest tasks (a ticket's: its 回访 result)
    GET  /api/callbacks/{id}         one task with its attempts and answers (回访结果)
    POST /api/callbacks/{id}/cancel  stop calling
    GET  /api/callbacks/missed       missed calls waiting for 回拨 (any agent; numbers masked)
    POST /api/callbacks/{id}/dial    an agent clicks 回拨: the missed-call task is placed now

Supervisor tokens only, but for the last two (the console's callback tab
for agents): the work-order system gets one (web.supervisors).
Mount with `callbacks.http.setup(app)` after `ivr.web.app.create_app`.
"""
from __future__ import annotations

from aiohttp import web

from callbacks import repo
from callbacks.engine import ID_RE, CallbackError
from callbacks.models import STATES
from ivr.privacy import mask_number
from ivr.web.errors import error_response as _error
from ivr.web.keys import SERVICES
from ivr.web.auth import principal_of


def _engine(request: web.Request, agents: bool = False):
    p = principal_of(request)
    if not p.supervisor and not agents:
        return _error(403, "forbidden", "callbacks need a supervisor token")
    engine = request.app[SERVICES].callbacks
    if engine is None:
        return _error(503, "unavailable", "外呼未启用 (callbacks.enabled is false)")
    return engine


async def add(request: web.Request) -> web.Response:
    engine = _engine(request)
    if isinstance(engine, web.Response):
        return engine
    try:
        body = await request.json()
    except ValueError:
        return _error(400, "bad_request", "the body must be JSON")
    if not isinstance(body, dict) or not isinstance(body.get("number"), str):
        return _error(400, "bad_request", "needs a JSON object with number (string)")
    ticket, campaign = body.get("ticket"), body.get("campaign")
    if not all(v is None or isinstance(v, str) for v in (ticket, campaign)):
        return _error(400, "bad_request", "ticket and campaign must be strings")
    try:
        task, created = await engine.add(str(body.get("kind", "survey")), body["number"], ticket=ticket,
                                         campaign=campaign)
    except CallbackError as exc:
        return _error(422, "refused", str(exc))
    return web.json_response(task, status=201 if created else 200)


async def listing(request: web.Request) -> web.Response:
    engine = _engine(request)
    if isinstance(engine, web.Response):
        return engine
    state, ticket = request.query.get("state"), request.query.get("ticket")
    if state is not None and state not in STATES:
        return _error(400, "bad_request", f"state must be one of {', '.join(STATES)}")
    if ticket is not None and not ID_RE.match(ticket):
        return _error(400, "bad_request", "malformed ticket")
    return web.json_response({"tasks": await engine.store.run(repo.list_tasks, state, 100, ticket)})


def _task_id(request: web.Request) -> int | None:
    raw = request.match_info["task_id"]
    return int(raw) if raw.isdigit() and len(raw) < 12 else None


async def one(request: web.Request) -> web.Response:
    engine = _engine(request)
    if isinstance(engine, web.Response):
        return engine
    task_id = _task_id(request)
    task = None if task_id is None else await engine.store.run(repo.get_task, task_id)
    return web.json_response(task) if task else _error(404, "not_found", "no such task")


async def cancel(request: web.Request) -> web.Response:
    engine = _engine(request)
    if isinstance(engine, web.Response):
        return engine
    task_id = _task_id(request)
    task = None if task_id is None else await engine.cancel(task_id)
    return web.json_response(task) if task else _error(404, "not_found", "no such task")


def _for_agent(t: dict) -> dict:
    """What an agent sees of a missed-call task: no full number (they click, the engine dials)."""
    return {"id": t["id"], "number": mask_number(t["number"]), "state": t["state"], "due_at": t["due_at"],
            "attempts": t["attempts"], "result": t["result"], "reason": t["reason"],
            "queue": t["origin"].get("queue"), "hold_s": t["origin"].get("hold_s")}


async def missed(request: web.Request) -> web.Response:
    engine = _engine(request, agents=True)
    if isinstance(engine, web.Response):
        return engine
    return web.json_response({"tasks": [_for_agent(t) for t in await engine.store.run(repo.missed_open)]})


async def dial(request: web.Request) -> web.Response:
    engine = _engine(request, agents=True)
    if isinstance(engine, web.Response):
        return engine
    task_id = _task_id(request)
    agent = principal_of(request).agent
    task = None if task_id is None else await engine.store.run(repo.dial_now, task_id, agent, engine.clock())
    if task is None:
        return _error(409, "not_waiting", "没有待回拨的漏接任务 (no missed-call task waiting with that id)")
    engine.wake()
    return web.json_response(_for_agent(task))


def setup(app: web.Application) -> None:
    app.router.add_get("/api/callbacks/missed", missed)
    app.router.add_post("/api/callbacks/{task_id}/dial", dial)
    app.router.add_post("/api/callbacks", add)
    app.router.add_get("/api/callbacks", listing)
    app.router.add_get("/api/callbacks/{task_id}", one)
    app.router.add_post("/api/callbacks/{task_id}/cancel", cancel)
