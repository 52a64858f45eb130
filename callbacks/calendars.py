"""Shipped holiday calendars: public holidays and 调休 working days, as data.

China moves working days around its holidays every year (调休): a Saturday
or Sunday can be a working day and a weekday a day off. The State Council
publishes the next year's list each autumn; a city adds it here (or in
`callbacks.holidays` / `callbacks.workdays` of config.yaml) before January.
The 2026 data below was checked (2026-12) against 国务院办公厅关于2026年部分节假日
安排的通知 (2025-11-04, Xinhua/新华社): 33 days off, 6 调休 working days (all on
weekends). The 2027 notice was not available to check when this was written:
no 2027 data is shipped, so until `cn-2027` is added here (or the days are put
in `callbacks.holidays` / `callbacks.workdays`), 2027 holidays count as
ordinary weekdays; the engine warns about it at start (`missing_years`).
"""
from __future__ import annotations

import datetime as dt


def _days(first: str, last: str | None = None) -> list[dt.date]:
    a = dt.date.fromisoformat(first)
    b = dt.date.fromisoformat(last or first)
    return [a + dt.timedelta(days=i) for i in range((b - a).days + 1)]


CN_2026_HOLIDAYS = (
    _days("2026-01-01", "2026-01-03")      # 元旦
    + _days("2026-02-15", "2026-02-23")    # 春节
    + _days("2026-04-04", "2026-04-06")    # 清明节
    + _days("2026-05-01", "2026-05-05")    # 劳动节
    + _days("2026-06-19", "2026-06-21")    # 端午节
    + _days("2026-09-25", "2026-09-27")    # 中秋节
    + _days("2026-10-01", "2026-10-07")    # 国庆节
)
CN_2026_WORKDAYS = [dt.date.fromisoformat(d) for d in (
    "2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10")]

CALENDARS: dict[str, tuple[frozenset[dt.date], frozenset[dt.date]]] = {
    "cn-2026": (frozenset(CN_2026_HOLIDAYS), frozenset(CN_2026_WORKDAYS)),
}


def missing_years(names: list[str], extra_holidays: list[dt.date], today: dt.date) -> list[int]:
    """This year and (from November, when the State Council publishes it) next year,
    when neither a named calendar nor the configured holidays cover them."""
    years = {d.year for n in names if n in CALENDARS for d in CALENDARS[n][0]} | {d.year for d in extra_holidays}
    wanted = [today.year] + ([today.year + 1] if today.month >= 11 else [])
    return [y for y in wanted if y not in years]
