"""The KPI report read from the database, and its chart (the I/O around the pure `supervision.kpi`).

`load` runs inside `Store.run` (a worker thread with a session): calls of the local
days [start, end] (`calls.day`), and the agent-state rows overlapping that range.
"""
from __future__ import annotations

import datetime as dt
import io
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import inspect, or_, select
from sqlalchemy.orm import Session

from callbacks.models import CallbackTask
from ivr.config.model import Config
from ivr.reports import MAX_DAYS, ReportError
from ivr.seats.history import AgentState
from ivr.storage.models import Call
from supervision import kpi


def bounds(start: dt.date, end: dt.date, tz: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """[first local midnight, the midnight after the last day) as aware datetimes."""
    if end < start:
        raise ReportError("--to is before --from")
    if (end - start).days >= MAX_DAYS:
        raise ReportError(f"at most {MAX_DAYS} days per report")
    lo = dt.datetime.combine(start, dt.time(), tz)
    return lo, dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tz)


def options(config: Config) -> dict[str, Any]:
    """tz, thresholds and queue wrapups from config, as `kpi.report` takes them."""
    s = config.supervision
    return {"tz": ZoneInfo(config.hotline.timezone),
            "thresholds": kpi.Thresholds(float(s.service_level_s), float(s.short_abandon_s)),
            "wrapup": {q.id: q.wrapup for q in config.queues}}


def load(session: Session, start: dt.date, end: dt.date, *, by: str | None = None, tz: ZoneInfo,
         thresholds: kpi.Thresholds = kpi.Thresholds(), wrapup: dict[str, int] | None = None) -> dict[str, Any]:
    return load_groupings(session, start, end, (by,), tz=tz, thresholds=thresholds, wrapup=wrapup)[by]


def load_groupings(session: Session, start: dt.date, end: dt.date, groupings: tuple[str | None, ...], *,
                   tz: ZoneInfo, thresholds: kpi.Thresholds = kpi.Thresholds(),
                   wrapup: dict[str, int] | None = None) -> dict[str | None, dict[str, Any]]:
    """One report per grouping from a single read of the rows (the wallboard wants queue and line)."""
    lo, hi = bounds(start, end, tz)
    calls = session.scalars(select(Call).where(Call.day >= start, Call.day <= end, Call.started_at.is_not(None))
                            .order_by(Call.started_at)).all()
    states = session.scalars(select(AgentState).where(AgentState.started_at < hi,
                                                      or_(AgentState.ended_at.is_(None), AgentState.ended_at > lo))).all()
    ratings = kpi.ratings(_survey_answers(session, lo, hi))
    out = {}
    for by in groupings:
        out[by] = kpi.report(calls, states, lo, hi, by=by, tz=tz, thresholds=thresholds, wrapup=wrapup)
        out[by]["ratings"] = ratings
    return out


def _survey_answers(session: Session, lo: dt.datetime, hi: dt.datetime) -> list[dict]:
    """Answers of 回访 surveys given in [lo, hi); none when the callbacks tables were never created."""
    if not inspect(session.connection()).has_table(CallbackTask.__tablename__):
        return []
    rows = session.scalars(select(CallbackTask.answers).where(CallbackTask.flow == "survey",
                                                              CallbackTask.updated_at >= lo)).all()
    out = []
    for answers in rows:
        at = str(((answers or {}).get("satisfaction") or {}).get("at", ""))
        try:
            when = dt.datetime.fromisoformat(at)
        except ValueError:
            continue
        if when.tzinfo is not None and lo <= when < hi:
            out.append(answers)
    return out


def render_chart(daily: dict[str, Any]) -> bytes:
    """PNG: the 15-second answer rate and the connect rate per day (a report made with by="day")."""
    # The object API (no pyplot): safe in a worker thread, no global figure state.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 4.5), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    days = list(daily["groups"])
    for key, label in (("service_level", f"answered within {daily['thresholds']['service_level_s']:g} s"),
                       ("connect_rate", "connect rate")):
        values = [None if daily["groups"][d][key] is None else 100 * daily["groups"][d][key] for d in days]
        ax.plot(range(len(days)), [float("nan") if v is None else v for v in values], marker="o", label=label)
    ax.axhline(95, color="grey", linestyle="--", linewidth=1, label="95 % (GB/T 33358)")
    ax.set_xticks(range(len(days)), days, rotation=45, ha="right", fontsize=8)
    ax.set_ylim(0, 105)
    ax.set_ylabel("%")
    ax.set_title(f"Service level and connect rate per day, {daily['from'][:10]} to {daily['to'][:10]}")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower left", fontsize=8)
    if not days:
        ax.text(0.5, 0.5, "no calls in this range", transform=ax.transAxes, ha="center", va="center")
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()
