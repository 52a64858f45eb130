"""Operators' views of a plan over time (pure): every number's phase changes, and two configs compared.

Both are worked out by asking `Plan.decide` itself just before and at each
boundary, so what they print is exactly what a caller would get, never a
second reading of the config that could drift from the router.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ivr.plan.decide import Plan
from ivr.plan.decision import Decision
from ivr.plan.phases import UTC, instant

_TICK = dt.timedelta(microseconds=1)


@dataclass(frozen=True)
class Change:
    at: dt.datetime          # the instant the new behaviour starts (hotline's timezone)
    number: str
    line: str
    before: str              # what a caller got just before
    after: str               # what a caller gets from `at`

    def text(self) -> str:
        return f"{self.at.isoformat(timespec='minutes')}  {self.number:<12} {self.line:<18} {self.before} → {self.after}"


def outcome(d: Decision) -> str:
    """What a caller gets, in one short phrase: phase, action and where the call goes."""
    where = d.target or ""
    if d.queue and d.overflow_queue:
        where += f" (overflow {d.overflow_queue} after {d.overflow_after}s)"
    return f"{d.phase}: {d.action}" + (f" {where}" if where else "")


def line_numbers(plan: Plan) -> list[tuple[str, str]]:
    """(number, line id) for every configured line number and alias, in config order."""
    return [(n, line.id) for line in plan.config.lines for n in (*line.numbers, *line.aliases)]


def timeline(plan: Plan, start: dt.datetime | None = None, end: dt.datetime | None = None) -> list[Change]:
    """Every number's phase changes in date order, optionally only those in [start, end)."""
    changes = []
    for line in plan.config.lines:
        bounds = [instant(line.effective, plan.tz)]
        if line.transition_end is not None:
            bounds.append(instant(line.transition_end, plan.tz, end=True))
        for at in bounds:
            if (start and at < start.astimezone(UTC)) or (end and at >= end.astimezone(UTC)):
                continue
            for number in (*line.numbers, *line.aliases):
                old, new = outcome(plan.decide(number, at - _TICK)), outcome(plan.decide(number, at))
                if old != new:
                    changes.append(Change(at.astimezone(plan.tz), number, line.id, old, new))
    return sorted(changes, key=lambda c: (c.at, c.line, c.number))


@dataclass(frozen=True)
class Difference:
    number: str
    old: str     # "" if the number is not configured in the old plan
    new: str


def diff(old: Plan, new: Plan, at: dt.datetime) -> list[Difference]:
    """For each number configured in either plan, what a caller gets under each at `at` (differences only)."""
    numbers = dict.fromkeys(n for plan in (old, new) for n, _ in line_numbers(plan))
    out = []
    for number in numbers:
        a, b = _described(old, number, at), _described(new, number, at)
        if a != b:
            out.append(Difference(number, a, b))
    return out


def _described(plan: Plan, number: str, at: dt.datetime) -> str:
    d = plan.decide(number, at)
    return f"{d.line or '—'} {outcome(d)}"
