"""The figures a 12345 center is judged on, computed from stored rows (pure: no I/O).

The counting (dispositions, waits, rates, percentiles) is the one call-figures
model in ivr/figures.py, shared with the line report; this module chooses the
groups (hour, day, line, queue, agent), adds after-call work and agent time,
and gives the public form.

Definitions (docs/supervision.md, "KPI definitions"):
  offered       calls that asked for a 12345 agent: they entered a queue (disposition answered or abandoned).
                A full-merge prompt that ends the call (announced), a call forwarded to a department or
                sub-center (forwarded) and emergency pass-through are counted in `calls` but not offered.
  answered      offered calls an agent answered; `wait` is the queue wait (Asterisk's HoldTime).
  abandoned     offered calls the caller left before an agent answered; those left within
                `short_abandon_s` (5 s) are `abandoned_short` and leave both rates' denominators.
  service_level answered within `service_level_s` (15 s) / (offered - abandoned_short)
  connect_rate  answered / (offered - abandoned_short)  (接通率, GB/T 33358: >= 95 % over 24 h)
  after-call    Asterisk's wrapuptime of the queue after each answered call, cut short by the
                agent's next answered call (that is what Asterisk enforces).
  occupancy     (talk + after-call) / time the agent was ready (示闲) in the range.
Percentiles are nearest-rank: the smallest wait at or above p % of the answered calls' waits.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any
from zoneinfo import ZoneInfo

from ivr.figures import Figures, Thresholds, fold, mean, percentile, rate

GROUPS = ("hour", "day", "line", "queue", "agent")


def public(f: Figures) -> dict[str, Any]:
    """One group's figures in the KPI report's public (rounded) form."""
    waits = sorted(f.waits)
    return {
        "calls": f.calls, "offered": f.offered, "answered": f.answered,
        "answered_in_sl": f.answered_in_sl, "service_level": f.service_level, "connect_rate": f.connect_rate,
        "abandoned": f.abandoned, "abandoned_short": f.abandoned_short,
        "abandoned_long": f.abandoned - f.abandoned_short,
        "announced": f.of("announced"), "forwarded": f.of("forwarded"),
        "wait_p50_s": percentile(waits, 50), "wait_p90_s": percentile(waits, 90),
        "wait_max_s": waits[-1] if waits else None, "wait_avg_s": mean(waits),
        "talk_s": round(f.talk_s, 1), "talk_avg_s": round(f.talk_s / f.answered, 1) if f.answered else None,
        "acw_s": round(f.acw_s, 1),
    }


def group_key(call: Any, by: str | None, tz: ZoneInfo) -> str:
    if by is None:
        return "all"
    if by in ("hour", "day"):
        local = call.started_at.astimezone(tz)
        return local.strftime("%Y-%m-%d %H:00") if by == "hour" else local.date().isoformat()
    if by not in GROUPS:
        raise ValueError(f"group by one of {', '.join(GROUPS)}")
    return getattr(call, by) or "-"


def after_call(calls: list[Any], wrapup: Mapping[str, int]) -> dict[int, float]:
    """index in `calls` -> after-call seconds: the queue's wrapup, cut by the agent's next answer."""
    mine: dict[str, list[int]] = defaultdict(list)
    for i, c in enumerate(calls):
        if c.disposition == "answered" and c.agent and c.answered_at is not None:
            mine[c.agent].append(i)
    out: dict[int, float] = {}
    for indices in mine.values():
        indices.sort(key=lambda i: calls[i].answered_at)
        for n, i in enumerate(indices):
            c = calls[i]
            seconds = float(wrapup.get(c.queue or "", 0))
            done = c.answered_at + dt.timedelta(seconds=c.talk_s or 0) if c.talk_s else (c.ended_at or c.answered_at)
            if n + 1 < len(indices):
                gap = (calls[indices[n + 1]].answered_at - done).total_seconds()
                seconds = min(seconds, max(0.0, gap))
            out[i] = seconds
    return out


def call_figures(calls: Iterable[Any], *, by: str | None = None, tz: ZoneInfo = ZoneInfo("Asia/Shanghai"),
                 thresholds: Thresholds = Thresholds(), wrapup: Mapping[str, int] | None = None) -> dict[str, Figures]:
    """Figures per group (one group "all" when `by` is None), groups in key order."""
    calls = list(calls)
    acw = after_call(calls, wrapup or {})
    return fold(calls, lambda c: group_key(c, by, tz), thresholds, lambda i: acw.get(i, 0.0))


def _overlap(start: dt.datetime, end: dt.datetime | None, lo: dt.datetime, hi: dt.datetime) -> float:
    end = hi if end is None else min(end, hi)
    return max(0.0, (end - max(start, lo)).total_seconds())


def agent_time(states: Iterable[Any], lo: dt.datetime, hi: dt.datetime) -> dict[str, dict[str, Any]]:
    """Per agent: seconds ready and paused (by reason) within [lo, hi), from AgentState rows."""
    out: dict[str, dict[str, Any]] = {}
    for s in states:
        seconds = _overlap(s.started_at, s.ended_at, lo, hi)
        if seconds <= 0:
            continue
        a = out.setdefault(s.agent, {"ready_s": 0.0, "paused_s": 0.0, "pause_by_reason": {}})
        if s.state == "paused":
            a["paused_s"] += seconds
            reason = s.reason or "-"
            a["pause_by_reason"][reason] = a["pause_by_reason"].get(reason, 0.0) + seconds
        else:
            a["ready_s"] += seconds
    return out


def report(calls: Iterable[Any], states: Iterable[Any], lo: dt.datetime, hi: dt.datetime, *, by: str | None = None,
           tz: ZoneInfo = ZoneInfo("Asia/Shanghai"), thresholds: Thresholds = Thresholds(),
           wrapup: Mapping[str, int] | None = None) -> dict[str, Any]:
    """The whole KPI report: totals, groups, agents (occupancy, pauses) and pause time by reason."""
    calls = list(calls)
    total = call_figures(calls, tz=tz, thresholds=thresholds, wrapup=wrapup).get("all", Figures())
    groups = call_figures(calls, by=by, tz=tz, thresholds=thresholds, wrapup=wrapup) if by else {}
    per_agent = call_figures(calls, by="agent", tz=tz, thresholds=thresholds, wrapup=wrapup)
    times = agent_time(states, lo, hi)
    agents: dict[str, dict[str, Any]] = {}
    for agent in sorted(set(times) | {a for a in per_agent if a != "-"}):
        f, t = per_agent.get(agent, Figures()), times.get(agent, {"ready_s": 0.0, "paused_s": 0.0, "pause_by_reason": {}})
        busy = f.talk_s + f.acw_s
        agents[agent] = {"answered": f.answered, "talk_s": round(f.talk_s, 1), "acw_s": round(f.acw_s, 1),
                         "ready_s": round(t["ready_s"], 1), "paused_s": round(t["paused_s"], 1),
                         "pause_by_reason": {k: round(v, 1) for k, v in sorted(t["pause_by_reason"].items())},
                         "occupancy": round(min(1.0, busy / t["ready_s"]), 4) if t["ready_s"] > 0 else None}
    pauses: dict[str, float] = defaultdict(float)
    for t in times.values():
        for reason, seconds in t["pause_by_reason"].items():
            pauses[reason] += seconds
    return {"from": lo.isoformat(), "to": hi.isoformat(), "by": by,
            "thresholds": {"service_level_s": thresholds.service_level_s, "short_abandon_s": thresholds.short_abandon_s},
            "total": public(total), "groups": {k: public(v) for k, v in groups.items()},
            "agents": agents, "pause_by_reason": {k: round(v, 1) for k, v in sorted(pauses.items())}}


SATISFACTION = {"1": "satisfied", "2": "basic", "3": "dissatisfied"}  # the 回访 survey's keys (callbacks/)


def ratings(answers: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """回访 results: how many surveyed citizens pressed 1 满意, 2 基本满意, 3 不满意, and the satisfied share (1 or 2)."""
    counts = dict.fromkeys(SATISFACTION.values(), 0)
    for answer in answers:
        label = SATISFACTION.get(str((answer.get("satisfaction") or {}).get("key", "")))
        if label:
            counts[label] += 1
    rated = sum(counts.values())
    return {"rated": rated, **counts, "satisfied_rate": rate(counts["satisfied"] + counts["basic"], rated)}


CSV_COLUMNS = ("group", "calls", "offered", "answered", "answered_in_sl", "service_level", "connect_rate", "abandoned",
               "abandoned_short", "abandoned_long", "announced", "forwarded", "wait_p50_s", "wait_p90_s", "wait_max_s",
               "talk_s", "acw_s")


def csv_rows(rep: dict[str, Any]) -> list[list[Any]]:
    """Header, one row per group (or the total alone), then the total."""
    rows: list[list[Any]] = [list(CSV_COLUMNS)]
    for name, fig in list(rep["groups"].items()) + [("total", rep["total"])]:
        rows.append([name] + ["" if fig[c] is None else fig[c] for c in CSV_COLUMNS[1:]])
    return rows
