"""`hotline plan timeline` and `hotline plan diff`: what changes when, and what a new config changes."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from ivr.config.loader import load_config
from ivr.plan import Plan
from ivr.plan.importer import import_file
from ivr.plan.timeline import diff, timeline
from tests.plan.test_import_cli import hotline
from tests.plan.test_note_lexicon import NOTES
from tests.plan.test_published_import import plan_of, write_table

SH = ZoneInfo("Asia/Shanghai")
YANCHENG = Path(__file__).resolve().parents[1] / "data" / "yancheng.yaml"


def test_yancheng_timeline_in_date_order():
    plan = Plan(load_config(YANCHENG, env={}))
    changes = timeline(plan)
    assert [c.at for c in changes] == sorted(c.at for c in changes)
    assert {c.at for c in changes} == {dt.datetime(2021, 11, 20, tzinfo=SH), dt.datetime(2021, 12, 20, tzinfo=SH)}
    last = {(c.number, c.at.date()): (c.before, c.after) for c in changes}
    assert last[("12349", dt.date(2021, 12, 20))] == ("transition: prompt_then_forward queue:general",
                                                     "after: not_in_service hangup")
    # a local number goes back to its department after the transition
    assert last[("81610000", dt.date(2021, 12, 20))][1] == "after: department trunk:pstn/81610000"
    window = timeline(plan, dt.datetime(2021, 12, 1, tzinfo=SH), dt.datetime(2021, 12, 31, tzinfo=SH))
    assert window and all(c.at == dt.datetime(2021, 12, 20, tzinfo=SH) for c in window)


def test_per_line_transitions_show_in_the_timeline(tmp_path):
    result = import_file(write_table(tmp_path, NOTES, "utf8.tsv"), effective_from=dt.date(2021, 11, 20),
                         transition_days=30)
    plan = plan_of(result, tmp_path / "plan")
    ends = {c.number: c.at.date() for c in timeline(plan) if c.before.startswith("transition")}
    assert ends["12301"] == dt.date(2022, 5, 20)   # half a year: last day 19 May
    assert ends["12305"] == dt.date(2022, 2, 20)   # three months
    assert ends["12303"] == dt.date(2021, 12, 20)  # --transition-days 30
    assert "12302" not in ends                      # withdrawn: no transition at all


def test_diff_names_each_number_that_changes(tmp_path):
    old = Plan(load_config(YANCHENG, env={}))
    text = YANCHENG.read_text(encoding="utf-8").replace("transition_end: 2021-12-19", "transition_end: 2022-01-31", 1)
    (tmp_path / "new.yaml").write_text(text, encoding="utf-8")
    new = Plan(load_config(tmp_path / "new.yaml", env={}))
    first = old.config.lines[0].numbers[0]
    assert diff(old, new, dt.datetime(2021, 12, 1, tzinfo=SH)) == []
    changed = diff(old, new, dt.datetime(2022, 1, 5, tzinfo=SH))
    assert [(d.number, d.old.split(" ", 1)[1], d.new.split(" ", 1)[1]) for d in changed] == [
        (first, "after: not_in_service hangup", "transition: prompt_then_forward queue:general")]


def test_cli(tmp_path):
    proc = hotline("plan", "timeline", "-c", str(YANCHENG), "--from", "2021-12-01", "--to", "2022-01-01")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0].startswith("2021-12-20T00:00+08:00  ")
    bad = hotline("plan", "timeline", "-c", str(YANCHENG), "--from", "soon")
    assert bad.returncode == 2 and "--from: not an ISO 8601" in bad.stderr
    same = hotline("plan", "diff", str(YANCHENG), str(YANCHENG), "--at", "2021-12-01T10:00")
    assert same.returncode == 0 and same.stdout == "" and "0 个号码不同" in same.stderr
