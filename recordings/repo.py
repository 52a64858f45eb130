"""Database steps of recordings/, each a function of a session (run by ivr.storage.store.Store).

Reads of a recording by a person are audited by the caller of these steps
(recordings/http.py, the CLI) through `ivr.storage.repo.log_recording_read`;
each purge deletion writes its own audit row here, in the same transaction
that marks the row deleted.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from ivr.storage import repo as core
from recordings.models import QaResult, Recording

PURGE_ACTOR = "system:retention"


def _iso(v: dt.datetime | None) -> str | None:
    return v.isoformat() if v else None


def rec_dict(r: Recording) -> dict[str, Any]:
    return {"id": r.id, "rec_id": r.rec_id, "call_id": r.call_id, "file": r.file, "kind": r.kind, "line": r.line,
            "queue": r.queue, "agents": list(r.agents or []), "legs": dict(r.legs or {}),
            "started_at": _iso(r.started_at), "ended_at": _iso(r.ended_at), "duration": r.duration,
            "size": r.size, "sha256": r.sha256, "status": r.status, "expires_at": _iso(r.expires_at),
            "deleted_at": _iso(r.deleted_at)}


def qa_dict(q: QaResult) -> dict[str, Any]:
    return {"recording_id": q.recording_id, "score": q.score, "final_score": q.override_score
            if q.override_score is not None else q.score, "rules": (q.rules or {}).get("rules", []),
            "transcript": dict(q.transcript or {}), "model": q.model, "scored_at": _iso(q.scored_at),
            "override": None if q.override_score is None else {
                "score": q.override_score, "by": q.override_by, "note": q.override_note, "at": _iso(q.override_at)}}


def add(session, row: dict[str, Any]) -> dict[str, Any]:
    """Insert the metadata row (idempotent by rec_id: a second finish of the same channel keeps the first)."""
    old = session.scalars(select(Recording).where(Recording.rec_id == row["rec_id"])).first()
    if old is not None:
        return rec_dict(old)
    rec = Recording(**row)
    session.add(rec)
    session.flush()
    return rec_dict(rec)


def get(session, rec_pk: int) -> dict[str, Any] | None:
    r = session.get(Recording, rec_pk)
    return rec_dict(r) if r else None


def for_call(session, call_id: str) -> list[dict[str, Any]]:
    rows = session.scalars(select(Recording).where(Recording.call_id == call_id).order_by(Recording.id))
    return [rec_dict(r) for r in rows]


def listing(session, *, agent: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """Newest first; with `agent`, only recordings that agent handled."""
    rows = session.scalars(select(Recording).order_by(Recording.id.desc()).limit(limit * (5 if agent else 1)))
    out = [rec_dict(r) for r in rows if agent is None or agent in (r.agents or [])]
    return out[:limit]


def expired(session, now: dt.datetime, limit: int = 500) -> list[dict[str, Any]]:
    rows = session.scalars(select(Recording).where(Recording.status != "deleted", Recording.expires_at <= now)
                           .order_by(Recording.expires_at).limit(limit))
    return [rec_dict(r) for r in rows]


def mark_deleted(session, rec_pk: int, now: dt.datetime, detail: dict[str, Any]) -> None:
    """The file is gone: mark the row and audit the deletion (one transaction)."""
    r = session.get(Recording, rec_pk)
    if r is None or r.status == "deleted":
        return
    r.status, r.deleted_at = "deleted", now
    core.log_access(session, PURGE_ACTOR, "delete", "recording", r.rec_id, None,
                    {"call_id": r.call_id, "expired_at": _iso(r.expires_at), **detail})


def unscored(session, limit: int = 1) -> list[dict[str, Any]]:
    """Recordings with audio and no QA result yet, oldest first."""
    scored = select(QaResult.recording_id)
    rows = session.scalars(select(Recording).where(Recording.status.in_(("ok", "incomplete")),
                                                   Recording.id.not_in(scored)).order_by(Recording.id).limit(limit))
    return [rec_dict(r) for r in rows]


def save_qa(session, rec_pk: int, result: dict[str, Any], transcript: dict[str, Any], model: str,
            now: dt.datetime) -> dict[str, Any]:
    """Store (or replace, on rerun) the automatic score; a human override stays."""
    q = session.scalars(select(QaResult).where(QaResult.recording_id == rec_pk)).first()
    if q is None:
        q = QaResult(recording_id=rec_pk, score=0)
        session.add(q)
    q.score, q.rules, q.transcript, q.model, q.scored_at = result["score"], result, transcript, model, now
    session.flush()
    return qa_dict(q)


def get_qa(session, rec_pk: int) -> dict[str, Any] | None:
    q = session.scalars(select(QaResult).where(QaResult.recording_id == rec_pk)).first()
    return qa_dict(q) if q else None


def qa_listing(session, limit: int = 100) -> list[dict[str, Any]]:
    rows = session.execute(select(QaResult, Recording).join(Recording, Recording.id == QaResult.recording_id)
                           .order_by(QaResult.id.desc()).limit(limit))
    return [{**qa_dict(q), "call_id": r.call_id, "agents": list(r.agents or []), "started_at": _iso(r.started_at),
             "duration": r.duration} for q, r in rows]


def override(session, rec_pk: int, actor: str, new_score: int, note: str, now: dt.datetime,
             source: str | None) -> dict[str, Any] | None:
    """A human grader's score replaces the automatic one for reports; audited with the old and new value."""
    q = session.scalars(select(QaResult).where(QaResult.recording_id == rec_pk)).first()
    if q is None:
        return None
    old = q.override_score if q.override_score is not None else q.score
    q.override_score, q.override_by, q.override_note, q.override_at = new_score, actor, note, now
    rec = session.get(Recording, rec_pk)
    core.log_access(session, actor, "qa_override", "recording", rec.rec_id if rec else str(rec_pk), source,
                    {"from": old, "to": new_score, "note": note})
    session.flush()
    return qa_dict(q)


def clear_qa(session, rec_pks: list[int] | None = None) -> int:
    """Forget automatic scores (rerun); None = all. Overridden results are kept."""
    q = select(QaResult).where(QaResult.override_score.is_(None))
    if rec_pks is not None:
        q = q.where(QaResult.recording_id.in_(rec_pks))
    rows = list(session.scalars(q))
    for r in rows:
        session.delete(r)
    return len(rows)
