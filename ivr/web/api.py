"""The console's HTTP API: ticket drafts and the agent's own calls (transfers: transfer/http.py).

Every route is behind the token (ivr.web.auth). An agent acts only on their
own calls and tickets; supervisors on all. Reading a ticket writes the audit
log (storage's `repo.get_ticket`); saving one is audited by `save_ticket_draft`;
the drafts a call list shows are audited as delivered (ivr.web.audit).
"""
from __future__ import annotations

import logging
import re

from aiohttp import web
from sqlalchemy.orm import Session

from ivr.calls import events
from ivr.storage import repo
from ivr.web.errors import error_response as _error
from ivr.web import audit, ticketform
from ivr.web.auth import Principal, principal_of
from ivr.web.keys import HUB, SERVICES

log = logging.getLogger(__name__)

TICKET_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
CALL_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
FIELD_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
READ_ONLY_FIELDS = frozenset({"id", "call_id", "created_at", "updated_at", "updated_by"})
MAX_FIELDS, MAX_TEXT = 40, 20000

async def _json_object(request: web.Request) -> dict | web.Response:
    try:
        body = await request.json()
    except ValueError:
        return _error(400, "bad_request", "the body must be JSON")
    if not isinstance(body, dict):
        return _error(400, "bad_request", "the body must be a JSON object")
    return body


# -- calls ---------------------------------------------------------------------
async def my_calls(request: web.Request) -> web.Response:
    """GET /api/calls/mine: the agent's active calls (?all=1: every call, supervisors)."""
    p = principal_of(request)
    show_all = p.supervisor and request.query.get("all") == "1"
    calls = request.app[HUB].calls.visible(p.agent, supervisor=show_all)
    audit.delivered(request.app, p.agent, request.remote, "list", calls)
    return web.json_response({"agent": p.agent, "role": p.role, "calls": calls})


# -- tickets ---------------------------------------------------------------------
def _ticket_agent(session: Session, ticket_id: str) -> tuple[bool, str | None]:
    """(exists, agent of the ticket's call) — a permission check, not a read: not audited."""
    ticket = repo.ticket_draft(session, ticket_id)
    if ticket is None:
        return False, None
    call = repo.get_call(session, ticket["call_id"]) if ticket.get("call_id") else None
    return True, (call or {}).get("agent")


async def _may_access(request: web.Request, p: Principal, ticket_id: str, write: bool) -> tuple[bool, bool]:
    """(exists-or-unknown, allowed) for `p` on ticket `ticket_id`."""
    if p.supervisor:
        return True, True
    calls = request.app[HUB].calls
    if calls.ticket_owner(ticket_id) == p.agent:
        return True, True
    if not write and ticket_id in set(calls.tickets_in_history(p.agent)):
        return True, True  # a previous ticket of the caller now on the line
    exists, agent = await request.app[SERVICES].store.run(_ticket_agent, ticket_id)
    return exists, exists and agent == p.agent


async def get_ticket(request: web.Request) -> web.Response:
    """GET /api/tickets/{id}: read a ticket (audited)."""
    return await _ticket(request, write=False)


async def put_ticket(request: web.Request) -> web.Response:
    """PUT /api/tickets/{id}: save draft fields (audited); returns the saved ticket."""
    return await _ticket(request, write=True)


def _validate_fields(body: dict, ticket_id: str) -> dict | str:
    if body.get("id", ticket_id) != ticket_id:
        return "the body's id does not match the URL"
    fields = {k: v for k, v in body.items() if k != "id"}
    if len(fields) > MAX_FIELDS:
        return f"at most {MAX_FIELDS} fields"
    for key, value in fields.items():
        if key in READ_ONLY_FIELDS:
            return f"{key} is read-only"
        if not FIELD_RE.match(key):
            return f"malformed field name {key[:40]!r}"
        if isinstance(value, str) and len(value) > MAX_TEXT:
            return f"{key} is longer than {MAX_TEXT} characters"
        if value is not None and not isinstance(value, (str, int, float, bool)):
            return f"{key} must be text, a number, true/false or null"
    return ticketform.check(fields) or fields  # seats hook: the console's form rules


async def _ticket(request: web.Request, *, write: bool) -> web.Response:
    p = principal_of(request)
    ticket_id = request.match_info["ticket_id"]
    if not TICKET_ID_RE.match(ticket_id):
        return _error(400, "bad_request", "malformed ticket id")
    store = request.app[SERVICES].store
    if store is None:
        return _error(503, "unavailable", "storage is not available")
    fields: dict | None = None
    if write:
        body = await _json_object(request)
        if isinstance(body, web.Response):
            return body
        checked = _validate_fields(body, ticket_id)
        if isinstance(checked, str):
            return _error(400, "bad_request", checked)
        fields = checked
    exists, allowed = await _may_access(request, p, ticket_id, write)
    if not exists:
        return _error(404, "not_found", "no such ticket")
    source = request.remote
    if not allowed:
        await store.run(repo.log_access, p.agent, "denied", "ticket", ticket_id, source,
                        {"write": write})
        log.warning("%s was refused ticket %s", p.agent, ticket_id)
        return _error(403, "forbidden", "this ticket belongs to another agent's call")
    if not write:
        ticket = await store.run(repo.get_ticket, ticket_id, p.agent, source)
        return web.json_response(ticket) if ticket else _error(404, "not_found", "no such ticket")
    try:
        ticket = await store.run(repo.save_ticket_draft, ticket_id, fields, p.agent, source)
    except KeyError:
        return _error(404, "not_found", "no such ticket")
    except ValueError as exc:
        return _error(400, "bad_request", str(exc))
    await _announce_ticket(request, ticket)
    return web.json_response(ticket)


async def _announce_ticket(request: web.Request, ticket: dict) -> None:
    """Tell the consoles watching the call (the agent's other tabs, supervisors)."""
    hub = request.app[HUB]
    call_id = ticket.get("call_id") or hub.calls.ticket_call(ticket["id"])
    if call_id and hub.calls.is_active(call_id):
        await hub.publish(hub.calls.owner(call_id), events.UPDATE, events.ticket_saved(call_id, ticket))


def setup(app: web.Application) -> None:
    app.router.add_get("/api/calls/mine", my_calls)
    app.router.add_get("/api/tickets/{ticket_id}", get_ticket)
    app.router.add_put("/api/tickets/{ticket_id}", put_ticket)
