"""What the dates in config.yaml mean, as exact instants.

`effective`: a date is local midnight at the START of that day (inclusive).
`transition_end`: a date is the LAST day of the transition (inclusive), so the
transition stops at the next local midnight. A datetime is an exact instant in
both fields; a datetime without offset is local time in `hotline.timezone`.
"""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo


def _local(value: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    return value.replace(tzinfo=tz) if value.tzinfo is None else value


def starts_at(value: dt.date | dt.datetime, tz: ZoneInfo) -> dt.datetime:
    """Instant from which `effective` applies."""
    if isinstance(value, dt.datetime):
        return _local(value, tz)
    return dt.datetime.combine(value, dt.time(0), tzinfo=tz)


def ends_at(value: dt.date | dt.datetime, tz: ZoneInfo) -> dt.datetime:
    """Instant at which a transition ending on `transition_end` is over."""
    if isinstance(value, dt.datetime):
        return _local(value, tz)
    return dt.datetime.combine(value + dt.timedelta(days=1), dt.time(0), tzinfo=tz)
