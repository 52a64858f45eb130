"""The figures of a group of calls: one model for every report (pure: no I/O).

Why one module: the line report (ivr/reports.py, calls per dialed number per
day over the transition) and the KPI report (supervision/kpi.py, offered,
service level, connect rate) read the same `calls` rows. When each counted
dispositions and averaged waits its own way, a change to what "answered"
or a wait means had to be made twice and the two reports could disagree
about the same day. Here a group's `Figures` is folded from rows (or from
counts a database already grouped) and both reports only choose the
grouping and the public form. It lives in `ivr/` so the line report can use
it without `ivr/` importing the `supervision` plugin.

Two waits, kept apart because they answer different questions:
  answer time  `calls.answer_s`: from the start of the call to the first answer
               (the line report: how long a caller of an old number waits in all)
  queue wait   Asterisk's HoldTime, else queue entry to answer/end (the KPIs:
               how long the queue kept an offered caller; `queue_wait`)
Both over answered calls only. Medians of answer times are the usual median
(mean of the two middle values); wait percentiles are nearest-rank (the
smallest wait at or above p % of the waits), as docs/supervision.md defines.
"""
from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

DISPOSITIONS = ("answered", "abandoned", "forwarded", "announced", "unanswered")
OFFERED = ("answered", "abandoned")   # the calls that entered a queue for a 12345 agent
IN_PROGRESS = "in_progress"            # a row with no disposition yet (the call is live)


@dataclass(frozen=True)
class Thresholds:
    service_level_s: float = 15.0
    short_abandon_s: float = 5.0


@dataclass
class Figures:
    """What a group of calls adds up to; reports read the properties and choose the rounding."""

    calls: int = 0
    counts: dict[str, int] = field(default_factory=dict)   # disposition (or IN_PROGRESS) -> calls
    answered_in_sl: int = 0
    abandoned_short: int = 0
    waits: list[float] = field(default_factory=list)         # queue waits of answered calls
    answer_times: list[float] = field(default_factory=list)  # answer times (from call start) of answered calls
    talk_s: float = 0.0
    acw_s: float = 0.0

    def count(self, disposition: str | None, n: int = 1) -> None:
        """`n` calls ended with `disposition` (None: still in progress)."""
        key = disposition or IN_PROGRESS
        self.calls += n
        self.counts[key] = self.counts.get(key, 0) + n

    def answered_after(self, answer_s: float) -> None:
        """One answered call's answer time from the start of the call (already counted)."""
        self.answer_times.append(float(answer_s))

    def add(self, call: Any, thresholds: Thresholds = Thresholds(), acw_s: float = 0.0) -> None:
        """Fold one `calls` row (or anything with its fields) in; `acw_s`: its after-call work."""
        self.count(call.disposition)
        if call.disposition == "answered" and call.answer_s is not None:
            self.answered_after(call.answer_s)
        if call.disposition not in OFFERED:
            return
        wait = queue_wait(call)
        if call.disposition == "answered":
            self.talk_s += call.talk_s or 0.0
            self.acw_s += acw_s
            if wait is not None:
                self.waits.append(wait)
                self.answered_in_sl += wait <= thresholds.service_level_s
        else:
            self.abandoned_short += wait is not None and wait <= thresholds.short_abandon_s

    def merge(self, other: Figures) -> Figures:
        """Fold another group's figures into this one (a range's total from its days); returns self."""
        for key, n in other.counts.items():
            self.count(key, n)
        self.answered_in_sl += other.answered_in_sl
        self.abandoned_short += other.abandoned_short
        self.waits.extend(other.waits)
        self.answer_times.extend(other.answer_times)
        self.talk_s += other.talk_s
        self.acw_s += other.acw_s
        return self

    def of(self, disposition: str) -> int:
        return self.counts.get(disposition, 0)

    @property
    def answered(self) -> int:
        return self.of("answered")

    @property
    def abandoned(self) -> int:
        return self.of("abandoned")

    @property
    def offered(self) -> int:
        return sum(self.of(d) for d in OFFERED)

    @property
    def counted(self) -> int:
        """The rates' denominator: offered calls minus the quick abandons."""
        return self.offered - self.abandoned_short

    @property
    def service_level(self) -> float | None:
        return rate(self.answered_in_sl, self.counted)

    @property
    def connect_rate(self) -> float | None:
        return rate(self.answered, self.counted)


def fold(calls: Iterable[Any], key: Callable[[Any], Hashable], thresholds: Thresholds = Thresholds(),
         acw_s: Callable[[int], float] = lambda i: 0.0) -> dict[Hashable, Figures]:
    """Figures per `key(call)`, in key order; `acw_s(i)` is the after-call work of the i-th call."""
    groups: dict[Hashable, Figures] = {}
    for i, call in enumerate(calls):
        groups.setdefault(key(call), Figures()).add(call, thresholds, acw_s(i))
    return dict(sorted(groups.items()))


def queue_wait(call: Any) -> float | None:
    """Seconds in the queue: Asterisk's HoldTime, else from the queue entry to the answer (or the end)."""
    if call.queue_wait_s is not None:
        return float(call.queue_wait_s)
    stop = call.answered_at if call.disposition == "answered" else call.ended_at
    if call.queued_at is not None and stop is not None:
        return max(0.0, (stop - call.queued_at).total_seconds())
    return None


def rate(num: int, den: int) -> float | None:
    """num / den to 4 places; None when nothing was counted."""
    return round(num / den, 4) if den > 0 else None


def percentile(sorted_values: list[float], p: float) -> float | None:
    """Nearest-rank percentile of already sorted values (None when empty)."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def mean(values: list[float]) -> float | None:
    """Mean to 0.1 (None when empty)."""
    return round(statistics.fmean(values), 1) if values else None


def median(values: list[float]) -> float | None:
    """Median (the mean of the two middle values for an even count) to 0.1; None when empty."""
    return round(statistics.median(values), 1) if values else None
