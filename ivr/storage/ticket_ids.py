"""Ticket ids for new calls, handed out without waiting on the database.

The route handler needs an id the moment a call arrives (it travels with
transfers), and a call must never wait behind queued database writes. The
day's last number is read once, then ids come from memory; each id's row is
written in the background, in order. One process allocates ids, as for
`repo.new_ticket`: the server's, or its FastAGI worker, which asks the server
for the day's last number and has it write the rows (ivr.agi.worker).
"""
from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from zoneinfo import ZoneInfo

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ivr.storage.models import Ticket
from ivr.storage.repo import last_ticket_seq
from ivr.storage.store import Store


def reserve(session: Session, ticket_id: str) -> None:
    """Write the new id's (empty) ticket row, if it is not there yet.

    One Core `INSERT … ON CONFLICT DO NOTHING` on SQLite and PostgreSQL: it
    runs for every routed call, in the server's one database thread."""
    conn = session.connection()
    dialect = _INSERT.get(conn.dialect.name)
    if dialect is not None:
        conn.execute(dialect.insert(Ticket).on_conflict_do_nothing(index_elements=["id"]).values(id=ticket_id))
    elif session.get(Ticket, ticket_id) is None:
        session.add(Ticket(id=ticket_id))
        session.flush()


_INSERT = {"sqlite": sqlite, "postgresql": postgresql}


class TicketIds:
    """`last_seq(prefix)`: the day's last number stored; `save(ticket_id)`: write its row, not waiting."""

    def __init__(self, tz: str, last_seq: Callable[[str], Awaitable[int]], save: Callable[[str], None]) -> None:
        self.tz = ZoneInfo(tz)
        self._last_seq, self._save = last_seq, save
        self._prefix = ""
        self._seq = 0
        self._lock = asyncio.Lock()

    @classmethod
    def for_store(cls, store: Store, tz: str) -> TicketIds:
        return cls(tz, lambda prefix: store.run(last_ticket_seq, prefix),
                   lambda ticket_id: store.submit(reserve, ticket_id))

    async def next(self, now: dt.datetime) -> str:
        prefix = f"T{now.astimezone(self.tz):%Y%m%d}-"
        if prefix != self._prefix:
            async with self._lock:  # once a day: calls arriving meanwhile wait for the same read
                if prefix != self._prefix:
                    self._seq = await self._last_seq(prefix)
                    self._prefix = prefix
        self._seq += 1
        ticket_id = f"{prefix}{self._seq:04d}"
        self._save(ticket_id)
        return ticket_id
