"""The storage functions the rest of the server calls.

Every function takes a `Session` first and leaves committing to its caller
(`Store.submit`/`Store.run` commit per batch; `Store.run_sync` per call), so
several can share one transaction. Reads return plain dicts with ISO-8601
times, ready for JSON. Personal data (tickets, recordings) read by a person
is always logged in `audit_log` — use `get_ticket` or `log_access`.
"""
from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from ivr.storage.models import AuditEntry, Call, CallEvent, Ticket, Transfer, utcnow

CALL_FIELDS = frozenset(c.key for c in Call.__table__.columns) - {"id", "linkedid"}
TICKET_FIELDS = ("category", "summary", "content", "caller_name", "address")
TICKET_STATUSES = ("draft", "submitted", "forwarded", "closed")


def _iso(v: Any) -> Any:
    return v.isoformat() if isinstance(v, (dt.datetime, dt.date)) else v


def _row(obj: Any, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    return {c.key: _iso(getattr(obj, c.key)) for c in obj.__table__.columns if c.key not in skip}


# -- calls -------------------------------------------------------------------
# The tracker writes a few rows per AMI event: these use Core statements on
# the session's connection (no ORM unit of work), and remember call ids for
# the life of the session (one Store batch), to stay cheap under load.
def _call_id(session: Session, linkedid: str) -> int:
    """Row id of the call `linkedid`, creating an empty row if there is none yet."""
    cache = session.info.setdefault("call_ids", {})
    call_id = cache.get(linkedid)
    if call_id is None:
        conn = session.connection()
        call_id = conn.execute(select(Call.id).where(Call.linkedid == linkedid)).scalar()
        if call_id is None:
            call_id = conn.execute(insert(Call).values(linkedid=linkedid)).inserted_primary_key[0]
        cache[linkedid] = call_id
    return call_id


def upsert_call(session: Session, linkedid: str, fields: dict[str, Any]) -> int:
    """Create or update the call `linkedid` with `fields`; returns its row id."""
    unknown = set(fields) - CALL_FIELDS
    if unknown:
        raise ValueError(f"unknown call fields: {sorted(unknown)}")
    call_id = _call_id(session, linkedid)
    if fields:
        session.connection().execute(update(Call).where(Call.id == call_id).values(**fields))
    return call_id


def record_event(session: Session, linkedid: str, at: dt.datetime, kind: str, data: dict[str, Any]) -> None:
    session.connection().execute(
        insert(CallEvent).values(call_id=_call_id(session, linkedid), at=at, kind=kind, data=data))


def get_call(session: Session, linkedid: str) -> dict[str, Any] | None:
    call = session.execute(select(Call).where(Call.linkedid == linkedid)
                           .execution_options(populate_existing=True)).scalar_one_or_none()
    return None if call is None else _row(call)


def call_events(session: Session, linkedid: str) -> list[dict[str, Any]]:
    rows = session.execute(
        select(CallEvent).join(Call).where(Call.linkedid == linkedid).order_by(CallEvent.id)
    ).scalars()
    return [_row(e, skip=("call_id",)) for e in rows]


def caller_history(session: Session, caller: str, exclude: str | None = None, limit: int = 10) -> list[dict[str, Any]]:
    """The caller's previous calls, newest first, each with its latest ticket."""
    if not caller:
        return []
    q = select(Call).where(Call.caller == caller, Call.started_at.is_not(None))
    if exclude:
        q = q.where(Call.linkedid != exclude)
    calls = session.execute(q.order_by(Call.started_at.desc()).limit(limit)
                            .execution_options(populate_existing=True)).scalars().all()
    tickets: dict[int, Ticket] = {}
    if calls:
        for t in session.execute(
            select(Ticket).where(Ticket.call_id.in_([c.id for c in calls])).order_by(Ticket.created_at)
        ).scalars():
            tickets[t.call_id] = t  # later tickets overwrite earlier: latest wins
    out = []
    for c in calls:
        t = tickets.get(c.id)
        out.append({
            "call_id": c.linkedid,
            "at": _iso(c.started_at),
            "dialed": c.dialed,
            "line": c.line,
            "disposition": c.disposition,
            "ticket_id": t.id if t else None,
            "ticket_summary": t.summary if t else None,
        })
    return out


# -- tickets -----------------------------------------------------------------
def new_ticket(session: Session, *, call: str | None = None, actor: str | None = None,
               tz: str = "Asia/Shanghai", at: dt.datetime | None = None) -> str:
    """Allocate the next ticket id of the local day (T20261121-0001) as a draft.

    One process (the server's `Store` worker) allocates ids, so max+1 is safe.
    """
    day = (at or utcnow()).astimezone(ZoneInfo(tz)).strftime("%Y%m%d")
    prefix = f"T{day}-"
    last = session.execute(
        select(Ticket.id).where(Ticket.id.like(prefix + "%"))
        .order_by(func.length(Ticket.id).desc(), Ticket.id.desc()).limit(1)
    ).scalar()
    seq = int(last[len(prefix):]) + 1 if last else 1
    ticket_id = f"{prefix}{seq:04d}"
    session.add(Ticket(id=ticket_id, call_id=_call_id(session, call) if call else None, updated_by=actor))
    session.flush()
    return ticket_id


def ensure_ticket(session: Session, ticket_id: str, call: str) -> None:
    """Make sure the ticket named by HOTLINE_TICKET exists and belongs to `call`."""
    ticket = session.get(Ticket, ticket_id)
    call_id = _call_id(session, call)
    if ticket is None:
        session.add(Ticket(id=ticket_id, call_id=call_id))
    elif ticket.call_id is None:
        ticket.call_id = call_id
    session.flush()


def save_ticket_draft(session: Session, ticket_id: str, fields: dict[str, Any], actor: str,
                      source: str | None = None) -> dict[str, Any]:
    """Update a ticket's draft fields (unknown keys go to `extra`); audited."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise KeyError(f"no ticket {ticket_id}")
    fields = dict(fields)
    changed = sorted(fields)
    status = fields.pop("status", None)
    if status is not None:
        if status not in TICKET_STATUSES:
            raise ValueError(f"unknown ticket status {status!r}")
        ticket.status = status
    for key in TICKET_FIELDS:
        if key in fields:
            setattr(ticket, key, fields.pop(key))
    if fields:
        ticket.extra = {**(ticket.extra or {}), **fields}
    ticket.updated_at = utcnow()
    ticket.updated_by = actor
    log_access(session, actor, "update", "ticket", ticket_id, source, {"fields": changed})
    session.flush()
    return _ticket_dict(session, ticket)


def _ticket_dict(session: Session, ticket: Ticket) -> dict[str, Any]:
    d = _row(ticket, skip=("call_id",))
    d["call_id"] = session.execute(select(Call.linkedid).where(Call.id == ticket.call_id)).scalar() \
        if ticket.call_id else None
    return d


def ticket_draft(session: Session, ticket_id: str) -> dict[str, Any] | None:
    """A ticket for the agent's own screen-pop (not a person's lookup: not audited)."""
    ticket = session.get(Ticket, ticket_id)
    return None if ticket is None else _ticket_dict(session, ticket)


def get_ticket(session: Session, ticket_id: str, actor: str, source: str | None = None) -> dict[str, Any] | None:
    """A person reads a ticket: returns it and writes the read to the audit log."""
    ticket = session.get(Ticket, ticket_id)
    log_access(session, actor, "read", "ticket", ticket_id, source, None if ticket else {"found": False})
    return None if ticket is None else _ticket_dict(session, ticket)


# -- transfers -----------------------------------------------------------------
def record_transfer(session: Session, call: str, kind: str, *, from_agent: str | None, target: str | None,
                    result: str = "started", source: str = "service", detail: dict[str, Any] | None = None,
                    at: dt.datetime | None = None) -> int:
    row = Transfer(call_id=_call_id(session, call), kind=kind, from_agent=from_agent, target=target,
                   result=result, source=source, detail=detail or {}, started_at=at or utcnow())
    session.add(row)
    session.flush()
    return row.id


def update_transfer(session: Session, transfer_id: int, result: str, *, detail: dict[str, Any] | None = None,
                    ended: bool = False, at: dt.datetime | None = None) -> None:
    row = session.get(Transfer, transfer_id)
    if row is None:
        raise KeyError(f"no transfer {transfer_id}")
    row.result = result
    if detail:
        row.detail = {**(row.detail or {}), **detail}
    if ended:
        row.ended_at = at or utcnow()


def transfers(session: Session, call: str) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Transfer).join(Call).where(Call.linkedid == call).order_by(Transfer.id)
    ).scalars()
    return [_row(t, skip=("call_id",)) for t in rows]


# -- audit -----------------------------------------------------------------------
def log_access(session: Session, actor: str, action: str, record_type: str, record_id: str | None,
               source: str | None = None, detail: dict[str, Any] | None = None) -> None:
    """One audit line: `actor` did `action` on `record_type` `record_id` from `source`."""
    if not actor:
        raise ValueError("audit entry without an actor")
    session.add(AuditEntry(actor=actor, action=action, record_type=record_type, record_id=record_id,
                           source=source, detail=detail or {}))


def audit_entries(session: Session, *, record_type: str | None = None, record_id: str | None = None,
                  actor: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    q = select(AuditEntry)
    if record_type:
        q = q.where(AuditEntry.record_type == record_type)
    if record_id:
        q = q.where(AuditEntry.record_id == record_id)
    if actor:
        q = q.where(AuditEntry.actor == actor)
    return [_row(a) for a in session.execute(q.order_by(AuditEntry.id.desc()).limit(limit)).scalars()]
