"""Agent state history: every 示闲/示忙 of a seat as a row with its start and end.

The open row of an agent (ended_at NULL) is closed when the next state starts,
so durations per state and reason (the KPI reports) are plain sums. The table
is created by migration 2 (ivr/storage/migrations.py); `create` is idempotent.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, Index, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from ivr.storage.models import Base


class AgentState(Base):
    __tablename__ = "agent_states"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agent: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))          # ready | paused | wrapup | signed_out
    reason: Mapped[str] = mapped_column(String(32), default="")
    started_at: Mapped[dt.datetime]
    ended_at: Mapped[dt.datetime | None]

    __table_args__ = (Index("ix_agent_states_agent_started", "agent", "started_at"),)


def create(conn: Connection) -> None:
    AgentState.__table__.create(conn, checkfirst=True)


def change_state(session: Session, agent: str, state: str, reason: str, at: dt.datetime) -> int:
    """Close the agent's open state at `at` and open the new one; returns the new row's id."""
    for row in session.scalars(select(AgentState).where(AgentState.agent == agent, AgentState.ended_at.is_(None))):
        row.ended_at = at
    row = AgentState(agent=agent, state=state, reason=reason, started_at=at)
    session.add(row)
    session.flush()
    return row.id


def states_of(session: Session, agent: str) -> list[dict]:
    rows = session.scalars(select(AgentState).where(AgentState.agent == agent).order_by(AgentState.id))
    return [{"state": r.state, "reason": r.reason, "started_at": r.started_at, "ended_at": r.ended_at} for r in rows]


def current_state(session: Session, agent: str) -> dict | None:
    """The agent's open state (for a reloaded page), or None."""
    row = session.scalars(select(AgentState).where(AgentState.agent == agent, AgentState.ended_at.is_(None))
                          .order_by(AgentState.id.desc())).first()
    return None if row is None else {"id": row.id, "state": row.state, "reason": row.reason, "since": _iso(row.started_at)}


def _iso(at: dt.datetime) -> str:
    """UTC with its offset (SQLite hands datetimes back naive; the page must not read them as local)."""
    return (at if at.tzinfo else at.replace(tzinfo=dt.timezone.utc)).isoformat()


def open_states(session: Session) -> dict[str, dict]:
    """Every agent's open state (the supervisors' board): agent -> {state, reason, since}."""
    rows = session.scalars(select(AgentState).where(AgentState.ended_at.is_(None)).order_by(AgentState.id))
    return {r.agent: {"state": r.state, "reason": r.reason, "since": _iso(r.started_at)} for r in rows}
