"""When the center may call a citizen: windows per weekday, holidays, 调休.

Pure: a `CallingCalendar` is built from the `callbacks:` config and answers
"is this local moment inside a calling window?" and "when does the next
window open?". A day is, in this order: an extra working day (调休上班,
`makeup` windows), a holiday (`holiday` windows, none by default), or its
weekday (`mon` .. `sun`). Nobody is called at 22:00 because a task was
queued then: it waits for the next window.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from callbacks.calendars import CALENDARS

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = {"mon": "周一", "tue": "周二", "wed": "周三", "thu": "周四", "fri": "周五", "sat": "周六",
             "sun": "周日", "makeup": "调休上班日", "holiday": "节假日"}
SEARCH_DAYS = 400  # a year and a bit: no calendar keeps every window shut longer


def _span(text: str) -> tuple[dt.time, dt.time | None]:
    a, b = text.split("-")
    end = None if b == "24:00" else dt.time.fromisoformat(b)  # None: until midnight
    return dt.time.fromisoformat(a), end


class CalendarError(ValueError):
    """A calendar name that is not shipped."""


@dataclass(frozen=True)
class CallingCalendar:
    tz: ZoneInfo
    windows: dict[str, tuple[tuple[dt.time, dt.time | None], ...]]
    holidays: frozenset[dt.date]
    workdays: frozenset[dt.date]

    @classmethod
    def from_config(cls, cb, timezone: str) -> CallingCalendar:
        holidays, workdays = set(cb.holidays), set(cb.workdays)
        for name in cb.calendars:
            if name not in CALENDARS:
                raise CalendarError(f"callbacks.calendars: unknown calendar {name!r} (shipped: {', '.join(sorted(CALENDARS))})")
            h, w = CALENDARS[name]
            holidays |= h
            workdays |= w
        # A day named in both is a working day: an explicit 调休 wins.
        return cls(ZoneInfo(timezone), {d: tuple(_span(s) for s in spans) for d, spans in cb.windows.items()},
                   frozenset(holidays - workdays), frozenset(workdays))

    def kind(self, day: dt.date) -> str:
        """Which windows a local day uses: makeup, holiday or its weekday."""
        if day in self.workdays:
            return "makeup"
        if day in self.holidays:
            return "holiday"
        return WEEKDAYS[day.weekday()]

    def is_open(self, at: dt.datetime) -> bool:
        local = at.astimezone(self.tz)
        t = local.time()
        return any(a <= t and (b is None or t < b) for a, b in self.windows.get(self.kind(local.date()), ()))

    def next_open(self, at: dt.datetime) -> dt.datetime | None:
        """`at` itself when inside a window, else the start of the next window (None: none within a year)."""
        if self.is_open(at):
            return at
        local = at.astimezone(self.tz)
        day = local.date()
        for i in range(SEARCH_DAYS):
            d = day + dt.timedelta(days=i)
            for start, _end in sorted(self.windows.get(self.kind(d), ()), key=lambda s: s[0]):
                begin = dt.datetime.combine(d, start, self.tz)
                if begin > local:
                    return begin.astimezone(at.tzinfo or dt.timezone.utc)
        return None

    def describe(self, at: dt.datetime) -> str:
        local = at.astimezone(self.tz)
        return f"{local:%Y-%m-%d %H:%M}（{DAY_NAMES[self.kind(local.date())]}）"
