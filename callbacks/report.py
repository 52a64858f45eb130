"""Callback and satisfaction figures for `hotline report` (pure reads of callbacks' tables).

- callbacks: tasks finished in the range by flow (done and reached, done
  without reaching the citizen, refused, cancelled) and attempts by cause;
- surveys: the 回访 satisfaction answers by meaning;
- ratings (一次一评): rated calls and the satisfied rate, per agent, line and day.
A database from before callbacks existed has none of the tables: no figures.
"""
from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, inspect, select

from callbacks.models import CallbackAttempt, CallbackTask
from callbacks.ratings import CallRating, satisfaction


def figures(session, start: dt.date, end: dt.date, tz: str) -> dict[str, Any]:
    zone = ZoneInfo(tz)
    lo = dt.datetime.combine(start, dt.time(), zone).astimezone(dt.timezone.utc)
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), zone).astimezone(dt.timezone.utc)
    tables = set(inspect(session.get_bind()).get_table_names())
    out: dict[str, Any] = {}
    if CallbackTask.__tablename__ in tables:
        flows: dict[str, dict[str, int]] = {}
        q = (select(CallbackTask.flow, CallbackTask.state, CallbackTask.result, func.count())
             .where(CallbackTask.updated_at >= lo, CallbackTask.updated_at < hi,
                    CallbackTask.state.in_(("done", "refused", "cancelled")))
             .group_by(CallbackTask.flow, CallbackTask.state, CallbackTask.result))
        for flow, state, result, n in session.execute(q):
            kind = ("reached" if result == "answered" else "failed") if state == "done" else state
            f = flows.setdefault(flow, {"reached": 0, "failed": 0, "refused": 0, "cancelled": 0})
            f[kind] += n
        causes = dict(session.execute(select(CallbackAttempt.cause, func.count())
                                      .where(CallbackAttempt.started_at >= lo, CallbackAttempt.started_at < hi,
                                             CallbackAttempt.cause.is_not(None))
                                      .group_by(CallbackAttempt.cause)).all())
        answers: dict[str, int] = {}
        for (task_answers,) in session.execute(select(CallbackTask.answers).where(
                CallbackTask.flow == "survey", CallbackTask.updated_at >= lo, CallbackTask.updated_at < hi)):
            text = ((task_answers or {}).get("satisfaction") or {}).get("text")
            if text:
                answers[text] = answers.get(text, 0) + 1
        out |= {"callbacks": flows, "attempts": causes, "surveys": answers}
    if CallRating.__tablename__ in tables:
        out["ratings"] = satisfaction(session, start, end)
    return out


def format_lines(fig: dict[str, Any]) -> list[str]:
    """The figures as table lines under the per-line report (Chinese first)."""
    names = {"survey": "回访", "missed": "漏接回拨", "queue": "排队回电"}
    lines: list[str] = []
    for flow, f in sorted(fig.get("callbacks", {}).items()):
        lines.append(f"外呼 {names.get(flow, flow)}: 接通完成 {f['reached']}，未接通 {f['failed']}，"
                     f"拒绝 {f['refused']}，取消 {f['cancelled']}")
    if fig.get("attempts"):
        lines.append("外呼尝试 Attempts: " + "，".join(f"{k} {v}" for k, v in sorted(fig["attempts"].items())))
    if fig.get("surveys"):
        lines.append("回访满意度 Survey: " + "，".join(f"{k} {v}" for k, v in sorted(fig["surveys"].items())))
    r = (fig.get("ratings") or {}).get("all")
    if r and r["rated"]:
        lines.append(f"一次一评 Ratings: {r['rated']} 次评价，满意率 {r['rate']:.1%}")
        for agent, a in sorted(fig["ratings"]["by_agent"].items()):
            lines.append(f"  座席 {agent}: {a['rated']} 次，满意率 {a['rate']:.1%}")
    return lines
