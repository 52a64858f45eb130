"""Tables of recordings/: one row per recorded channel, one QA result per recording.

On the project's declarative Base (ivr.storage.models): naive UTC on disk,
aware datetimes in Python. `ensure_tables` creates them with
`create_all(checkfirst=True)` at plugin start and from the CLI: idempotent,
safe on a database created before recordings existed.

A recording's `status`: ok (file written, size and sha256 match), incomplete
(Asterisk did not close the file within recordings.finish_wait: what was
there is kept), missing (an agent answered, no audio came), deleted (retention purged the
file; the row stays as the record of what existed and when it went).
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Engine, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ivr.storage.models import Base, utcnow


class Recording(Base):
    __tablename__ = "recordings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rec_id: Mapped[str] = mapped_column(String(128), unique=True)   # <linkedid>-<uniqueid>: the file name
    call_id: Mapped[str] = mapped_column(String(64), index=True)    # linkedid
    file: Mapped[str] = mapped_column(String(160))                   # name inside recordings.folder
    kind: Mapped[str] = mapped_column(String(16))                    # queue | forward | direct
    line: Mapped[str | None] = mapped_column(String(64))
    queue: Mapped[str | None] = mapped_column(String(64))
    agents: Mapped[list[str]] = mapped_column(JSON, default=list)          # who handled it (playback rights)
    legs: Mapped[dict[str, Any]] = mapped_column(default=dict)       # {"legs": [{kind, who, at}], "hold": s}
    started_at: Mapped[dt.datetime]
    ended_at: Mapped[dt.datetime]
    duration: Mapped[float] = mapped_column(Float, default=0.0)      # seconds of audio
    size: Mapped[int] = mapped_column(Integer, default=0)            # bytes of the file
    sha256: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[str] = mapped_column(String(16), default="ok")
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)
    deleted_at: Mapped[dt.datetime | None]

    __table_args__ = (Index("ix_recordings_status_expires", "status", "expires_at"),)


class QaResult(Base):
    __tablename__ = "recording_qa"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id", ondelete="CASCADE"), unique=True)
    score: Mapped[int] = mapped_column(Integer)
    rules: Mapped[dict[str, Any]] = mapped_column(default=dict)        # {"rules": [Finding ...]}
    transcript: Mapped[dict[str, Any]] = mapped_column(default=dict)   # {"caller": [...], "agent": [...]}
    model: Mapped[str] = mapped_column(String(200), default="")
    scored_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    override_score: Mapped[int | None] = mapped_column(Integer)        # a human grader's score
    override_by: Mapped[str | None] = mapped_column(String(64))
    override_note: Mapped[str | None] = mapped_column(Text)
    override_at: Mapped[dt.datetime | None]


TABLES = [Recording.__table__, QaResult.__table__]


def ensure_tables(engine: Engine) -> None:
    Base.metadata.create_all(engine, tables=TABLES, checkfirst=True)
