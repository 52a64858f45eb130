"""The storage functions the rest of the server calls.

Every function takes a `Session` first and leaves committing to its caller
(`Store.submit`/`Store.run` commit per batch; `Store.run_sync` per call), so
several can share one transaction. Reads return plain dicts with ISO-8601
times, ready for JSON. Personal data (tickets, recordings) read by a person
is always logged in `audit_log` — use `get_ticket` or `log_access`.
"""
from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from ivr.privacy import history_key
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
# `Store` hands a run of consecutive upsert_call/record_event jobs to
# `write_calls` (their `bulk`), which does the same work in a few statements.
def _call_id(session: Session, linkedid: str) -> int:
    """Row id of the call `linkedid`, creating an empty row if there is none yet."""
    return _call_ids(session, [linkedid])[linkedid]


_CALL_IDS = select(Call.linkedid, Call.id).where(Call.linkedid.in_(bindparam("lids", expanding=True)))
_NEW_CALLS = insert(Call).returning(Call.linkedid, Call.id)  # RETURNING: SQLite >= 3.35, PostgreSQL
_NEW_EVENT = insert(CallEvent)


def _call_ids(session: Session, linkedids: list[str]) -> dict[str, int]:
    """Row ids of the calls `linkedids`, creating empty rows for the new ones."""
    cache = session.info.setdefault("call_ids", {})
    missing = [lid for lid in dict.fromkeys(linkedids) if lid not in cache]
    if missing:
        conn = session.connection()
        known = dict(conn.execute(_CALL_IDS, {"lids": missing}).all())
        new = [lid for lid in missing if lid not in known]
        if new:
            known.update(conn.execute(_NEW_CALLS, [{"linkedid": lid} for lid in new]).all())
        cache.update(known)
    return {lid: cache[lid] for lid in linkedids}


@functools.lru_cache(maxsize=128)
def _update_calls(keys: tuple[str, ...]):
    """UPDATE calls SET <keys> WHERE id = :_id, for executemany (values bound as v_<key>)."""
    return update(Call).where(Call.id == bindparam("_id")).values({k: bindparam(f"v_{k}") for k in keys})


def _check_fields(fields: dict[str, Any]) -> None:
    unknown = set(fields) - CALL_FIELDS
    if unknown:
        raise ValueError(f"unknown call fields: {sorted(unknown)}")


def upsert_call(session: Session, linkedid: str, fields: dict[str, Any]) -> int:
    """Create or update the call `linkedid` with `fields`; returns its row id."""
    _check_fields(fields)
    call_id = _call_id(session, linkedid)
    if fields:
        session.connection().execute(update(Call).where(Call.id == call_id).values(**fields))
    return call_id


def record_event(session: Session, linkedid: str, at: dt.datetime, kind: str, data: dict[str, Any]) -> None:
    session.connection().execute(
        insert(CallEvent).values(call_id=_call_id(session, linkedid), at=at, kind=kind, data=data))


def _upsert_args(linkedid: str, fields: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return linkedid, fields


def _event_args(linkedid: str, at: dt.datetime, kind: str, data: dict[str, Any]) -> tuple:
    return linkedid, at, kind, data


def write_calls(session: Session, jobs: list[tuple[Callable, tuple, dict]]) -> list[Any]:
    """Run consecutive `upsert_call`/`record_event` jobs as one: the same rows in a few statements.

    Later fields of a call override earlier ones, events keep their order: the
    result is what running the jobs one by one gives. Returns their results.
    """
    fields: dict[str, dict[str, Any]] = {}
    events: list[tuple] = []
    order: list[str] = []
    for fn, args, kwargs in jobs:
        if fn is upsert_call:
            lid, f = _upsert_args(*args, **kwargs)
            _check_fields(f)
            fields.setdefault(lid, {}).update(f)
        else:
            lid, *rest = _event_args(*args, **kwargs)
            events.append((lid, *rest))
        order.append(lid)
    ids = _call_ids(session, order)
    conn = session.connection()
    by_keys: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for lid, f in fields.items():
        if f:
            by_keys.setdefault(tuple(sorted(f)), []).append({"_id": ids[lid], **{f"v_{k}": v for k, v in f.items()}})
    for keys, rows in by_keys.items():  # one executemany per set of changed columns
        conn.execute(_update_calls(keys), rows)
    if events:
        conn.execute(_NEW_EVENT, [{"call_id": ids[lid], "at": at, "kind": kind, "data": data}
                                         for lid, at, kind, data in events])
    return [ids[lid] if fn is upsert_call else None for (fn, _, _), lid in zip(jobs, order)]


upsert_call.bulk = write_calls  # type: ignore[attr-defined]
record_event.bulk = write_calls  # type: ignore[attr-defined]


def get_call(session: Session, linkedid: str) -> dict[str, Any] | None:
    call = session.execute(select(Call).where(Call.linkedid == linkedid)
                           .execution_options(populate_existing=True)).scalar_one_or_none()
    return None if call is None else _row(call)


def call_events(session: Session, linkedid: str) -> list[dict[str, Any]]:
    rows = session.execute(
        select(CallEvent).join(Call).where(Call.linkedid == linkedid).order_by(CallEvent.id)
    ).scalars()
    return [_row(e, skip=("call_id",)) for e in rows]


# Built once: a screen-pop runs these for every call, statement building costs more than the query.
_HISTORY = (select(Call.id, Call.linkedid, Call.started_at, Call.dialed, Call.line, Call.disposition)
            .where(Call.caller == bindparam("caller"), Call.started_at.is_not(None),
                   Call.linkedid != bindparam("exclude"))
            .order_by(Call.started_at.desc()).limit(bindparam("limit")))
_HISTORY_TICKETS = (select(Ticket.call_id, Ticket.id, Ticket.summary)
                    .where(Ticket.call_id.in_(bindparam("ids", expanding=True))).order_by(Ticket.created_at))


def caller_history(session: Session, caller: str | None, exclude: str | None = None,
                   limit: int = 10) -> list[dict[str, Any]]:
    """The caller's previous calls, newest first, each with its latest ticket.

    Empty for a withheld, `anonymous` or non-numeric caller ID: those would
    share one history between strangers (ivr.privacy.history_key).
    """
    if history_key(caller) is None:
        return []
    conn = session.connection()
    calls = conn.execute(_HISTORY, {"caller": caller, "exclude": exclude or "", "limit": limit}).all()
    tickets: dict[int, tuple[str, str | None]] = {}
    if calls:
        for call_id, ticket_id, summary in conn.execute(_HISTORY_TICKETS, {"ids": [c.id for c in calls]}):
            tickets[call_id] = (ticket_id, summary)  # later tickets overwrite earlier: latest wins
    out = []
    for c in calls:
        ticket_id, summary = tickets.get(c.id, (None, None))
        out.append({
            "call_id": c.linkedid,
            "at": _iso(c.started_at),
            "dialed": c.dialed,
            "line": c.line,
            "disposition": c.disposition,
            "ticket_id": ticket_id,
            "ticket_summary": summary,
        })
    return out


# -- tickets -----------------------------------------------------------------
def last_ticket_seq(session: Session, prefix: str) -> int:
    """The highest number after `prefix` (T20261121-) among stored tickets, 0 if none."""
    last = session.execute(
        select(Ticket.id).where(Ticket.id.like(prefix + "%"))
        .order_by(func.length(Ticket.id).desc(), Ticket.id.desc()).limit(1)
    ).scalar()
    return int(last[len(prefix):]) if last else 0


def new_ticket(session: Session, *, call: str | None = None, actor: str | None = None,
               tz: str = "Asia/Shanghai", at: dt.datetime | None = None) -> str:
    """Allocate the next ticket id of the local day (T20261121-0001) as a draft.

    One process (the server's `Store` worker) allocates ids, so max+1 is safe.
    """
    day = (at or utcnow()).astimezone(ZoneInfo(tz)).strftime("%Y%m%d")
    prefix = f"T{day}-"
    ticket_id = f"{prefix}{last_ticket_seq(session, prefix) + 1:04d}"
    session.add(Ticket(id=ticket_id, call_id=_call_id(session, call) if call else None, updated_by=actor))
    session.flush()
    return ticket_id


def ensure_ticket(session: Session, ticket_id: str, call: str, extra: dict[str, Any] | None = None) -> None:
    """Make sure the ticket named by HOTLINE_TICKET exists and belongs to `call`.

    `extra`: draft fields known from the route (一企来 tags and deadline); fields
    already in the draft win."""
    ticket = session.get(Ticket, ticket_id)
    call_id = _call_id(session, call)
    if ticket is None:
        session.add(Ticket(id=ticket_id, call_id=call_id, extra=dict(extra or {})))
    else:
        if ticket.call_id is None:
            ticket.call_id = call_id
        if extra:
            ticket.extra = {**extra, **(ticket.extra or {})}
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


def log_recording_read(session: Session, actor: str, recording: str, source: str | None = None,
                       purpose: str = "read") -> None:
    """A person (or a tool run by one) read or listed a call recording: one `recording` audit row.

    `recording` is the file's name (its linkedid), never its folder.
    """
    log_access(session, actor, purpose, "recording", recording.rsplit("/", 1)[-1], source)


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


# Shedding order when the database queue is full (ivr.storage.store, SHED_AT):
# the lowest rank goes first; audit entries are never shed.
record_event.shed_rank = 1         # type: ignore[attr-defined]  the timeline; the call row keeps the outcome
save_ticket_draft.shed_rank = 2    # type: ignore[attr-defined]  fire-and-forget saves are speech drafts, redone
upsert_call.shed_rank = 3          # type: ignore[attr-defined]
record_transfer.shed_rank = 3      # type: ignore[attr-defined]
update_transfer.shed_rank = 3      # type: ignore[attr-defined]
ensure_ticket.shed_rank = 4        # type: ignore[attr-defined]
log_access.shed_rank = 5           # type: ignore[attr-defined]  audit: never shed
