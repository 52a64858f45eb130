"""Handling deadlines in the hotline's own timezone, counting working days.

Urgency levels, from the city's rules:

| urgency      | deadline                                                     |
|--------------|--------------------------------------------------------------|
| immediate    | the moment of the call                                       |
| 30min        | 30 minutes after the call                                    |
| same_day     | end of the call's (local) day                                |
| 3days        | end of the 3rd calendar day after the call's day             |
| 5workdays    | end of the 5th working day after the call's day              |
| 15workdays   | end of the 15th working day after the call's day             |

As in Chinese administrative practice, the day the period starts is not
counted. Working days are Monday-Friday, minus `holidays`, plus `workdays`
(weekend days worked in exchange for a holiday, 调休).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

URGENCIES = ("immediate", "30min", "same_day", "3days", "5workdays", "15workdays")
_WORKDAYS = {"5workdays": 5, "15workdays": 15}


@dataclass(frozen=True)
class WorkCalendar:
    holidays: frozenset[dt.date] = field(default_factory=frozenset)
    workdays: frozenset[dt.date] = field(default_factory=frozenset)  # 调休上班

    def is_workday(self, day: dt.date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5

    @classmethod
    def from_file(cls, path: str | Path) -> "WorkCalendar":
        """YAML `{holidays: [2024-10-01, ...], workdays: [2024-10-12, ...]}`."""
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict) or set(data) - {"holidays", "workdays"}:
            raise ValueError(f"{path}: expected a mapping with 'holidays' and/or 'workdays'")
        return cls(frozenset(_dates(data.get("holidays"), path)), frozenset(_dates(data.get("workdays"), path)))


def _dates(values, path) -> list[dt.date]:
    out = []
    for v in values or []:
        if isinstance(v, dt.datetime) or not isinstance(v, (dt.date, str)):
            raise ValueError(f"{path}: {v!r} is not a date (YYYY-MM-DD)")
        out.append(v if isinstance(v, dt.date) else dt.date.fromisoformat(v))
    return out


def local(at: dt.datetime, tz: str) -> dt.datetime:
    """`at` in the hotline's timezone; a naive datetime is taken as local time there."""
    zone = ZoneInfo(tz)
    return at.replace(tzinfo=zone) if at.tzinfo is None else at.astimezone(zone)


def add_workdays(day: dt.date, n: int, calendar: WorkCalendar | None = None) -> dt.date:
    """The n-th working day after `day` (`day` itself never counts)."""
    calendar = calendar or WorkCalendar()
    for _ in range(366 * 2):  # bounded: a calendar with no working days is an error
        day += dt.timedelta(days=1)
        if calendar.is_workday(day):
            n -= 1
            if n <= 0:
                return day
    raise ValueError("no working day within two years: check the holiday calendar")


def end_of_day(day: dt.date, tz: str) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=ZoneInfo(tz))


def deadline(urgency: str, at: dt.datetime, tz: str, calendar: WorkCalendar | None = None) -> dt.datetime:
    """When a matter of this urgency, received at `at`, must be answered/handled."""
    now = local(at, tz)
    if urgency == "immediate":
        return now
    if urgency == "30min":
        # Through UTC: wall-clock arithmetic would be wrong across a DST change.
        return (now.astimezone(dt.timezone.utc) + dt.timedelta(minutes=30)).astimezone(ZoneInfo(tz))
    if urgency == "same_day":
        return end_of_day(now.date(), tz)
    if urgency == "3days":
        return end_of_day(now.date() + dt.timedelta(days=3), tz)
    if urgency in _WORKDAYS:
        return end_of_day(add_workdays(now.date(), _WORKDAYS[urgency], calendar), tz)
    raise ValueError(f"unknown urgency {urgency!r}; expected one of {', '.join(URGENCIES)}")
