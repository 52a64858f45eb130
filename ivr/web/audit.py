"""Audit rows for ticket data the web layer hands to a person.

A ticket draft (and the previous tickets in a pop's history) reaches an agent
or supervisor without them asking for it: in a pop or update event, in the
resync a console gets on (re)connecting, in GET /api/calls/mine. Each such
delivery is an access to personal data like GET /api/tickets/{id}, so each
writes an `audit_log` row (`repo.log_access`, action "deliver", detail
{"via": "event"|"resync"|"list", "part": "draft"|"history", "call_id"}).
The rows are queued fire-and-forget: audit is never shed by the Store
(ivr.storage.store), and a console never waits for it.
"""
from __future__ import annotations

from aiohttp import web

from ivr.storage import repo
from ivr.web.keys import SERVICES


def ticket_refs(state: dict) -> list[tuple[str, str]]:
    """(ticket id, "draft"|"history") for each ticket shown in a call's state or event payload."""
    refs: list[tuple[str, str]] = []
    ticket = state.get("ticket")
    if isinstance(ticket, dict) and isinstance(ticket.get("id"), str) and ticket["id"]:
        refs.append((ticket["id"], "draft"))
    history = state.get("history")
    if isinstance(history, list):
        for entry in history:
            if isinstance(entry, dict) and isinstance(entry.get("ticket_id"), str) and entry["ticket_id"]:
                refs.append((entry["ticket_id"], "history"))
    return refs


def delivered(app: web.Application, actor: str, source: str | None, via: str, calls: list[dict]) -> int:
    """Audit every ticket in `calls` (call states or event payloads) shown to `actor`; returns the rows queued."""
    services = app.get(SERVICES)
    store = services.store if services is not None else None
    if store is None:
        return 0
    rows = 0
    for state in calls:
        for ticket_id, part in ticket_refs(state):
            store.submit(repo.log_access, actor, "deliver", "ticket", ticket_id, source,
                         {"via": via, "part": part, "call_id": state.get("call_id")})
            rows += 1
    return rows

