"""一次一评: the caller's rating after the agent hung up, stored with the call and the agent.

The dialplan (`hotline-rating`, reached from `hotline-queue` once the agent's
side ended, for the queues and lines in `callbacks.rating`) reads one key and
reports `UserEvent(HotlineRating, Agent, Queue, Line, Digit)` (with the channel's Linkedid).
`RatingRecorder` stores it in `call_ratings` (one per call: a second report
is ignored) and, when the call has a ticket, as `extra["评价"]` on it.
`satisfaction` gives the rates per agent, line and day for `hotline report`.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Date, Integer, String, func, select
from sqlalchemy.orm import Mapped, mapped_column

from ivr.storage.models import Base, Call, Ticket

log = logging.getLogger(__name__)
_ID = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")


class CallRating(Base):
    __tablename__ = "call_ratings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    linkedid: Mapped[str] = mapped_column(String(64), unique=True)
    agent: Mapped[str | None] = mapped_column(String(64), index=True)
    queue: Mapped[str | None] = mapped_column(String(64))
    line: Mapped[str | None] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(8))          # "none": no valid key
    text: Mapped[str] = mapped_column(String(32))
    satisfied: Mapped[int | None] = mapped_column(Integer)  # 1 / 0; None: no answer
    day: Mapped[dt.date] = mapped_column(Date, index=True)  # local day
    at: Mapped[dt.datetime]


def _clean(value: Any) -> str | None:
    v = str(value or "")
    return v if _ID.match(v) else None


def store_rating(session, rating, tz: str, ev: dict, now: dt.datetime) -> dict | None:
    """Store one rating event (first one per call wins); on the call's ticket too."""
    linkedid = _clean(ev.get("Linkedid"))
    if linkedid is None or session.scalars(select(CallRating.id).where(CallRating.linkedid == linkedid)).first():
        return None
    key = str(ev.get("Digit") or "none")[:8]
    text = rating.keys.get(key, "未评价")
    row = CallRating(linkedid=linkedid, agent=_clean(ev.get("Agent")), queue=_clean(ev.get("Queue")),
                     line=_clean(ev.get("Line")), key=key, text=text,
                     satisfied=None if key not in rating.keys else int(key in rating.satisfied),
                     day=now.astimezone(ZoneInfo(tz)).date(), at=now)
    session.add(row)
    call = session.scalars(select(Call).where(Call.linkedid == linkedid)).first()
    ticket = None
    if call is not None:
        ticket = session.get(Ticket, call.ticket_id) if call.ticket_id else \
            session.scalars(select(Ticket).where(Ticket.call_id == call.id)).first()
    if ticket is not None:
        ticket.extra = {**(ticket.extra or {}), "评价": {"key": key, "text": text, "agent": row.agent,
                                                         "at": now.isoformat()}}
        ticket.updated_at, ticket.updated_by = now, "rating"
    return {"linkedid": linkedid, "agent": row.agent, "queue": row.queue, "line": row.line, "key": key,
            "text": text, "ticket": ticket.id if ticket is not None else None}


def satisfaction(session, start: dt.date, end: dt.date) -> dict[str, Any]:
    """Rated calls and satisfaction rate (satisfied / rated) in all, per agent, line and day."""
    def rows(*cols):
        q = (select(*cols, func.count(CallRating.satisfied), func.coalesce(func.sum(CallRating.satisfied), 0))
             .where(CallRating.day >= start, CallRating.day <= end))
        return session.execute(q.group_by(*cols) if cols else q).all()

    def fig(rated: int, ok: int) -> dict:
        return {"rated": rated, "satisfied": int(ok), "rate": round(ok / rated, 3) if rated else None}

    [(rated, ok)] = rows()
    return {"all": fig(rated, ok),
            "by_agent": {a or "-": fig(r, o) for a, r, o in rows(CallRating.agent)},
            "by_line": {ln or "-": fig(r, o) for ln, r, o in rows(CallRating.line)},
            "by_day": {d.isoformat(): fig(r, o) for d, r, o in rows(CallRating.day)}}


class RatingRecorder:
    """Subscribes HotlineRating on the server's AMI client; each event is one database step."""

    def __init__(self, config, store, ami, clock) -> None:
        self.rating, self.tz = config.callbacks.rating, config.hotline.timezone
        self.store, self.ami, self.clock = store, ami, clock
        self.stored: list[dict] = []   # the latest ratings stored (bounded), for tests and logs

    def start(self) -> None:
        Base.metadata.create_all(self.store.engine, tables=[CallRating.__table__], checkfirst=True)
        self.ami.on("UserEvent", self._on_event)

    def _on_event(self, ev) -> None:
        if ev.get("UserEvent") == "HotlineRating":
            asyncio.ensure_future(self._store(dict(ev)))

    async def _store(self, ev: dict) -> None:
        try:
            row = await self.store.run(store_rating, self.rating, self.tz, ev, self.clock())
        except Exception:
            log.exception("rating: not stored")
            return
        if row is not None:
            self.stored = (self.stored + [row])[-100:]
            log.info("rating: call %s agent %s: %s", row["linkedid"], row["agent"], row["text"])
