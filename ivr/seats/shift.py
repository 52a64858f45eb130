"""The last calls of the agent's shift (本班通话), for the console's side list.

Read from `calls` (the tracker's rows): the agent's own calls of the last
SHIFT_HOURS, newest first. The caller's number is masked: the list is a
reminder of what was done, the full number is in the pop while on the call.
Ticket ids are listed, not ticket contents (opening one is GET /api/tickets/{id},
audited).
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.privacy import mask_number
from ivr.storage.models import Call

SHIFT_HOURS = 12
LIMIT = 30


def shift_calls(session: Session, agent: str, now: dt.datetime, limit: int = LIMIT) -> list[dict]:
    since = now - dt.timedelta(hours=SHIFT_HOURS)
    rows = session.scalars(select(Call).where(Call.agent == agent, Call.started_at >= since)
                           .order_by(Call.started_at.desc()).limit(limit))
    out = []
    for c in rows:
        talk = (c.ended_at - c.answered_at).total_seconds() if c.ended_at and c.answered_at else None
        out.append({"call_id": c.linkedid, "at": c.started_at.isoformat() if c.started_at else None,
                    "caller": mask_number(c.caller) if c.caller else None, "dialed": c.dialed, "line": c.line,
                    "disposition": c.disposition, "ticket_id": c.ticket_id,
                    "talk_s": None if talk is None else round(talk)})
    return out
