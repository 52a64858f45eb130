"""The callback policy with a pinned clock: windows, 调休, retries, dedupe, DNC, the cap."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from callbacks.policy import Policy, classify, dedupe_key
from callbacks.windows import CalendarError, CallingCalendar
from ivr.config.model import Callbacks

SH = ZoneInfo("Asia/Shanghai")


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=SH)


def policy(**kw) -> Policy:
    cb = Callbacks(**kw)
    return Policy(cb, CallingCalendar.from_config(cb, "Asia/Shanghai"))


def test_task_queued_at_22_waits_for_next_morning_window():
    v = policy().admit("survey", "13912345678", at("2026-12-03 22:00"))  # a Thursday
    assert v.action == "wait"
    assert v.at == at("2026-12-04 09:00")
    assert "2026-12-04 09:00（周五）" in v.reason


def test_inside_a_window_calls_now_and_lunch_break_waits():
    p = policy()
    assert p.admit("survey", "13912345678", at("2026-12-03 10:30")).action == "call"
    v = p.admit("survey", "13912345678", at("2026-12-03 12:30"))
    assert (v.action, v.at) == ("wait", at("2026-12-03 14:00"))
    assert p.calendar.is_open(at("2026-12-03 19:59")) and not p.calendar.is_open(at("2026-12-03 20:00"))


def test_makeup_saturday_is_a_working_day_and_holiday_is_not():
    p = policy()
    # 2026-02-14 is a Saturday and a 调休 working day: full working-day windows.
    assert p.calendar.kind(dt.date(2026, 2, 14)) == "makeup"
    assert p.calendar.is_open(at("2026-02-14 15:00"))
    # An ordinary Saturday has only the morning window.
    assert not p.calendar.is_open(at("2026-02-07 15:00"))
    # 春节 (Feb 15-23) is closed: Friday evening waits past the holiday to the 24th.
    v = p.admit("survey", "13912345678", at("2026-02-14 20:30"))
    assert v.at == at("2026-02-24 09:00")
    # 国庆 Thursday 2026-10-01 is a holiday though a weekday.
    assert p.calendar.kind(dt.date(2026, 10, 1)) == "holiday"
    assert not p.calendar.is_open(at("2026-10-01 10:00"))


def test_config_days_add_to_and_override_the_shipped_calendar():
    p = policy(holidays=[dt.date(2026, 12, 7)], workdays=[dt.date(2026, 10, 2)])
    assert p.calendar.kind(dt.date(2026, 12, 7)) == "holiday"
    assert p.calendar.kind(dt.date(2026, 10, 2)) == "makeup"
    with pytest.raises(CalendarError, match="unknown calendar 'cn-1999'"):
        CallingCalendar.from_config(Callbacks(calendars=["cn-1999"]), "Asia/Shanghai")


def test_retry_delay_by_cause_then_next_window():
    p = policy(retry_after={"busy": 600, "no_answer": 1800, "congestion": 60})
    end = at("2026-12-03 10:00")
    assert p.after_attempt(1, "busy", end).at == at("2026-12-03 10:10")
    assert p.after_attempt(1, "no_answer", end).at == at("2026-12-03 10:30")
    assert p.after_attempt(1, "congestion", end).at == at("2026-12-03 10:01")
    # Default delays cover the causes the config left out.
    assert p.after_attempt(1, "rejected", end).at == at("2026-12-03 14:00")  # 7200 s -> 12:00, lunch break
    late = p.after_attempt(2, "busy", at("2026-12-03 19:55"))
    assert (late.action, late.at) == ("wait", at("2026-12-04 09:00"))


def test_at_most_n_attempts_and_answered_is_done():
    p = policy(max_attempts=3)
    end = at("2026-12-03 10:00")
    assert p.after_attempt(2, "busy", end).action in ("call", "wait")
    v = p.after_attempt(3, "busy", end)
    assert v.action == "done" and "最多3次" in v.reason
    assert p.after_attempt(1, "answered", end).action == "done"
    assert policy(max_attempts=1).after_attempt(1, "no_answer", end).action == "done"


def test_dedupe_per_number_flow_and_local_day():
    p = policy()
    seen = {dedupe_key("survey", "13912345678", dt.date(2026, 12, 3))}
    assert p.admit("survey", "13912345678", at("2026-12-03 11:00"), seen).action == "refuse"
    assert p.admit("missed", "13912345678", at("2026-12-03 11:00"), seen).action == "call"
    assert p.admit("survey", "13912345678", at("2026-12-04 11:00"), seen).action == "call"
    # 23:30 UTC on the 2nd is already the 3rd in Shanghai.
    assert p.local_day(dt.datetime(2026, 12, 2, 23, 30, tzinfo=dt.timezone.utc)) == dt.date(2026, 12, 3)


def test_do_not_call_is_refused():
    v = policy(do_not_call=["13900000000"]).admit("survey", "13900000000", at("2026-12-03 10:00"))
    assert v.action == "refuse" and "免打扰" in v.reason


def test_cap_leaves_reserved_channels_to_inbound():
    p = policy(channels=10, reserve_inbound=6)
    assert p.cap == 4
    assert p.free_slots(0) == (4, "可再外呼4路")
    assert p.free_slots(4)[0] == 0 and "保留6路" in p.free_slots(4)[1]
    # Inbound beyond its reserve holds channels outbound may not take.
    assert p.free_slots(1, inbound=8)[0] == 1
    assert p.free_slots(2, inbound=8)[0] == 0
    for out in range(0, p.cap + 1):
        for inbound in range(0, 11):
            n, _ = p.free_slots(out, inbound)
            assert out + n <= p.cap and (n == 0 or out + n + max(inbound, 6) <= 10)


def test_reserve_must_leave_room():
    with pytest.raises(ValidationError, match="reserve_inbound"):
        Callbacks(channels=4, reserve_inbound=4)
    with pytest.raises(ValidationError, match="unknown cause 'hungup'"):
        Callbacks(retry_after={"hungup": 10})
    with pytest.raises(ValidationError, match="start before end"):
        Callbacks(windows={"mon": ["12:00-09:00"]})


@pytest.mark.parametrize("response,reason,cause,expected", [
    ("Success", "4", None, "answered"),
    ("Failure", "5", None, "busy"),
    ("Failure", "3", None, "no_answer"),
    ("Failure", "8", None, "congestion"),
    ("Failure", "1", None, "rejected"),
    ("Failure", "0", "17", "busy"),
    ("Failure", "8", "21", "rejected"),
    ("Failure", "0", "1", "unreachable"),
    ("Failure", "0", "34", "congestion"),
    ("Failure", "3", "19", "no_answer"),
    ("Failure", "0", None, "failed"),
    ("Failure", "junk", "junk", "failed"),
])
def test_classify_originate_results(response, reason, cause, expected):
    assert classify(response, reason, cause) == expected


def test_shipped_2026_calendar_matches_the_state_council_notice():
    """国务院办公厅关于2026年部分节假日安排的通知 (2025-11-04): 33 days off, 6 weekend 调休 working days."""
    from callbacks.calendars import CALENDARS, missing_years

    holidays, workdays = CALENDARS["cn-2026"]
    assert len(holidays) == 33 and len(workdays) == 6
    assert all(d.weekday() >= 5 for d in workdays)          # every 调休 working day is a Saturday or Sunday
    assert dt.date(2026, 2, 15) in holidays and dt.date(2026, 2, 23) in holidays  # 春节 腊月二十八 .. 正月初七
    assert dt.date(2026, 9, 20) in workdays and dt.date(2026, 10, 10) in workdays
    assert not holidays & workdays
    # No 2027 data shipped: from November 2026 on the engine warns about it.
    assert missing_years(["cn-2026"], [], dt.date(2026, 12, 4)) == [2027]
    assert missing_years(["cn-2026"], [dt.date(2027, 1, 1)], dt.date(2026, 12, 4)) == []
    assert missing_years(["cn-2026"], [], dt.date(2026, 6, 1)) == []
