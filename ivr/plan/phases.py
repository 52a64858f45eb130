"""Which phase a line is in at a given instant (pure; the caller supplies the time).

What config dates mean is `ivr.config.dates` (shared with the config check):
`effective: 2021-11-20` starts at local midnight (inclusive), `transition_end:
2021-12-19` is the last day (the transition ends at the following local
midnight), a datetime is an exact instant (exclusive as an end).
Boundaries are kept in UTC so comparisons never depend on the machine's
timezone or on the tzinfo object `at` happens to carry.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from ivr.config.dates import ends_at, starts_at

BEFORE = "before"
TRANSITION = "transition"
AFTER = "after"
ACTIVE = "active"

UTC = dt.timezone.utc


def is_aware(at: dt.datetime) -> bool:
    return at.tzinfo is not None and at.utcoffset() is not None


def to_utc(at: dt.datetime) -> dt.datetime:
    """`at` as UTC; a naive datetime is a programming error (which timezone did you mean?)."""
    if not isinstance(at, dt.datetime) or not is_aware(at):
        raise ValueError(f"`at` must be a timezone-aware datetime, got {at!r}")
    return at.astimezone(UTC)


def instant(value: dt.date | dt.datetime, tz: ZoneInfo, *, end: bool = False) -> dt.datetime:
    """A config `effective` (or, with `end`, `transition_end`) as a UTC instant."""
    return (ends_at if end else starts_at)(value, tz).astimezone(UTC)


@dataclass(frozen=True)
class Window:
    """A line's phase boundaries as UTC instants."""

    effective: dt.datetime
    transition_end: dt.datetime | None  # exclusive; None: no transition at all
    full_merge: bool

    @classmethod
    def of(cls, effective, transition_end, tz: ZoneInfo, *, full_merge: bool) -> "Window":
        end = None if transition_end is None else instant(transition_end, tz, end=True)
        return cls(instant(effective, tz), end, full_merge)

    def phase(self, at_utc: dt.datetime) -> str:
        if at_utc < self.effective:
            return BEFORE
        if not self.full_merge:
            return ACTIVE
        if self.transition_end is not None and at_utc < self.transition_end:
            return TRANSITION
        return AFTER


def describe(value: dt.date | dt.datetime, tz: ZoneInfo) -> str:
    """A config date/datetime for a human: dates as-is, instants in local time."""
    if isinstance(value, dt.datetime):
        return starts_at(value, tz).astimezone(tz).isoformat(timespec="minutes")
    return value.isoformat()
