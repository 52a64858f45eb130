"""Tables of the outbound engine: tasks and their attempts.

On the project's declarative Base (ivr.storage.models), so the same engine,
session and naive-UTC convention apply. `ensure_tables` creates them with
`create_all(checkfirst=True)`, the same call migration 1 makes, at engine
start and from `hotline callback`: idempotent, safe on a database created
before callbacks existed.

A task's `state` is the whole truth of the engine (it survives a restart):
  pending    waiting for `due_at` (and a free channel)
  dialing    claimed: one attempt is on the trunk (attempt row not ended)
  done       finished: answered, or out of attempts (see `result`, `reason`)
  refused    never callable (do-not-call at run time, no window in a year)
  cancelled  by an operator
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Engine, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ivr.storage.models import Base, utcnow

FLOWS = ("survey", "missed", "queue")  # flows with an outbound dialplan (callbacks/dialplan.py)
ASKED_FLOWS = ("queue",)  # the citizen asked for the call: no windows, no do-not-call, one per call
STATES = ("pending", "dialing", "done", "refused", "cancelled")
OPEN_STATES = ("pending", "dialing")


class CallbackTask(Base):
    __tablename__ = "callback_tasks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    flow: Mapped[str] = mapped_column(String(16))
    number: Mapped[str] = mapped_column(String(40))
    ticket_id: Mapped[str | None] = mapped_column(String(32))
    campaign: Mapped[str | None] = mapped_column(String(64))
    dedupe_key: Mapped[str] = mapped_column(String(96), unique=True)  # flow:number:local day
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[dt.datetime]
    result: Mapped[str | None] = mapped_column(String(16))     # last attempt's cause
    reason: Mapped[str | None] = mapped_column(Text)           # the policy's last verdict
    answers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    origin: Mapped[dict[str, Any]] = mapped_column(default=dict)  # e.g. the missed call: linkedid, queue, wait
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    notified_at: Mapped[dt.datetime | None]  # when the webhook accepted the result

    __table_args__ = (
        UniqueConstraint("flow", "ticket_id", name="uq_callback_flow_ticket"),  # idempotent by ticket
        Index("ix_callback_due", "state", "due_at"),
    )


class CallbackAttempt(Base):
    __tablename__ = "callback_attempts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("callback_tasks.id", ondelete="CASCADE"), index=True)
    no: Mapped[int] = mapped_column(Integer)
    channel_id: Mapped[str] = mapped_column(String(64), unique=True)  # Originate ChannelId = Uniqueid
    trunk: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[dt.datetime]
    answered_at: Mapped[dt.datetime | None]
    ended_at: Mapped[dt.datetime | None]
    cause: Mapped[str | None] = mapped_column(String(16))           # answered | busy | no_answer | ...
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)    # Asterisk's reason and hangup cause


TABLES = [CallbackTask.__table__, CallbackAttempt.__table__]


def ensure_tables(engine: Engine) -> None:
    Base.metadata.create_all(engine, tables=TABLES, checkfirst=True)
