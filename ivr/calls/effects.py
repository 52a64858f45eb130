"""What the reducer (ivr.calls.reducer) asks the edge to do, in order.

The tracker (ivr.calls.tracker) runs them one after the other, so the
storage writes and the publishes of one call keep the order in which the
reducer emitted them. Values only: building one costs a tuple.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, NamedTuple

from ivr.calls.state import CallState


class Save(NamedTuple):
    """Upsert these columns of the call's row (storage: repo.upsert_call)."""
    call: CallState
    fields: dict[str, Any]


class Record(NamedTuple):
    """Append an event to the call's history (repo.record_event)."""
    call: CallState
    at: dt.datetime
    kind: str
    data: dict[str, Any]


class EnsureTicket(NamedTuple):
    """The route gave the call a ticket id: make sure its row exists (repo.ensure_ticket)."""
    ticket_id: str
    call_id: str
    extra: dict[str, Any] | None = None  # fields a fast track gives the draft (ivr/plan/fasttrack.py)


class RecordTransfer(NamedTuple):
    """A transfer Asterisk reported (repo.record_transfer, source "ami")."""
    call_id: str
    kind: str
    from_agent: str | None
    target: str
    result: str
    detail: dict[str, Any]
    at: dt.datetime


class Read(NamedTuple):
    """Start reading what the call's pops show (history of the caller, ticket draft).

    `fresh`: the caller's number changed (drop the history read so far);
    `changed`: another service saved the ticket (a read under way is stale)."""
    call: CallState
    history: bool = False
    ticket: bool = False
    fresh: bool = False
    changed: bool = False


class Publish(NamedTuple):
    """Tell consoles (`agent` None: supervisors only), in the call's order."""
    call: CallState
    agent: str | None
    kind: str
    payload: dict[str, Any]


class Pop(NamedTuple):
    """A screen-pop (ring/answer): history and ticket are filled in when it is sent."""
    call: CallState
    agent: str
    kind: str
    payload: dict[str, Any]


class Forgotten(NamedTuple):
    """The call ended (or was evicted): its pop data is no longer needed."""
    call: CallState


class RouteLogged(NamedTuple):
    """The operator's log line for a routed call."""
    call: CallState
    variables: dict[str, str | None]


Effect = Save | Record | EnsureTicket | RecordTransfer | Read | Publish | Pop | Forgotten | RouteLogged
