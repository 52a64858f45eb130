"""Phase boundaries to the second, in the hotline's timezone, whatever the machine's timezone is."""
from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from zoneinfo import ZoneInfo

import pytest
import yaml

from ivr.plan import Plan
from tests.support.plan_fixtures import config_data, make_config

SH = ZoneInfo("Asia/Shanghai")
UTC = dt.timezone.utc
TICK = dt.timedelta(microseconds=1)


@pytest.fixture(scope="module")
def plan() -> Plan:
    return Plan(make_config())


def phase(plan: Plan, number: str, at: dt.datetime) -> str:
    return plan.decide(number, at).phase


def test_effective_date_starts_at_local_midnight_seen_from_utc(plan):
    # effective: 2026-11-21 in Asia/Shanghai is 2026-11-20 16:00 UTC.
    assert phase(plan, "12315", dt.datetime(2026, 11, 20, 16, 0, tzinfo=UTC)) == "transition"
    assert phase(plan, "12315", dt.datetime(2026, 11, 20, 15, 59, 59, tzinfo=UTC)) == "before"
    assert phase(plan, "12315", dt.datetime(2026, 11, 20, 16, 0, tzinfo=UTC) - TICK) == "before"


def test_the_decision_reports_the_instant_in_local_time(plan):
    d = plan.decide("12315", dt.datetime(2026, 11, 20, 16, 0, tzinfo=UTC))
    assert d.at == "2026-11-21T00:00:00+08:00"


def test_last_second_of_the_transition_and_the_first_second_after(plan):
    # transition_end: 2026-12-20 is the last day: it ends at local midnight starting 21 December.
    last = dt.datetime(2026, 12, 20, 23, 59, 59, tzinfo=SH)
    first_after = dt.datetime(2026, 12, 21, 0, 0, 0, tzinfo=SH)
    assert phase(plan, "12315", last) == "transition"
    assert phase(plan, "12315", first_after - TICK) == "transition"
    assert phase(plan, "12315", first_after) == "after"
    assert plan.decide("12315", first_after).action == "not_in_service"


def test_exact_instants_are_exclusive_ends(plan):
    # civil-12349: effective 2026-12-01T08:30 (naive: local), transition until 2026-12-05T12:00+08:00.
    start = dt.datetime(2026, 12, 1, 8, 30, tzinfo=SH)
    end = dt.datetime(2026, 12, 5, 12, 0, tzinfo=SH)
    assert phase(plan, "12349", start - TICK) == "before"
    assert phase(plan, "12349", start) == "transition"
    assert phase(plan, "12349", end - TICK) == "transition"
    assert phase(plan, "12349", end) == "after"
    assert phase(plan, "12349", end.astimezone(UTC)) == "after"


def test_any_aware_timezone_gives_the_same_answer(plan):
    instant = dt.datetime(2026, 12, 20, 15, 59, 59, tzinfo=UTC)  # 23:59:59 in Shanghai
    for tz in ("UTC", "America/New_York", "Pacific/Kiritimati", "Asia/Shanghai"):
        assert phase(plan, "12315", instant.astimezone(ZoneInfo(tz))) == "transition"
    assert phase(plan, "12315", instant + dt.timedelta(seconds=1)) == "after"


def test_phases_follow_the_clock_without_a_reload(plan):
    # The same Plan object moves through the phases as `at` moves: no midnight reload needed.
    seen = [phase(plan, "12315", dt.datetime(2026, 11, 20, tzinfo=SH) + dt.timedelta(days=d)) for d in (0, 1, 30, 31)]
    assert seen == ["before", "transition", "transition", "after"]


def test_another_hotline_timezone():
    data = config_data()
    data["hotline"]["timezone"] = "Asia/Urumqi"  # UTC+6
    plan = Plan(make_config(data))
    assert phase(plan, "12315", dt.datetime(2026, 11, 20, 17, 59, 59, tzinfo=UTC)) == "before"
    assert phase(plan, "12315", dt.datetime(2026, 11, 20, 18, 0, tzinfo=UTC)) == "transition"


def test_machine_timezone_does_not_matter_in_process(plan, monkeypatch):
    at = dt.datetime(2026, 11, 20, 16, 0, tzinfo=UTC)
    results = []
    for tz in ("UTC", "America/Los_Angeles", "Asia/Shanghai"):
        monkeypatch.setenv("TZ", tz)
        time.tzset()
        results.append((phase(plan, "12315", at), phase(plan, "12315", at - TICK)))
    monkeypatch.undo()
    time.tzset()
    assert results == [("transition", "before")] * 3


@pytest.mark.parametrize("machine_tz", ["UTC", "Pacific/Honolulu"])
def test_cli_naive_at_is_read_in_the_hotline_timezone_whatever_tz_is(tmp_path, machine_tz):
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config_data(), allow_unicode=True), encoding="utf-8")
    env = {**os.environ, "TZ": machine_tz}
    out = []
    for at in ("2026-11-20T23:59:59", "2026-11-21T00:00:00"):
        proc = subprocess.run([sys.executable, "-m", "ivr.cli", "plan", "route", "12315", "--at", at, "-c", str(path)],
                              capture_output=True, text=True, env=env, timeout=60)
        assert proc.returncode == 0, proc.stderr
        out.append(json.loads(proc.stdout)["phase"])
    assert out == ["before", "transition"]
