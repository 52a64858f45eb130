"""The one call-figures model (ivr/figures.py) that the line report and the KPI report both fold through."""
from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

from ivr.figures import Figures, Thresholds, fold, mean, median, percentile, queue_wait, rate

T0 = dt.datetime(2026, 12, 4, 9, 0, tzinfo=dt.timezone.utc)


def row(disposition, *, wait=None, answer_s=None, talk_s=None, queued=None, answered=None, ended=None, line="a"):
    """A `calls` row as the tracker writes it (only the fields the figures read)."""
    return SimpleNamespace(disposition=disposition, queue_wait_s=wait, answer_s=answer_s, talk_s=talk_s,
                           queued_at=queued, answered_at=answered, ended_at=ended, line=line)


def docs_example() -> list:
    """docs/supervision.md's worked example: answered after 3, 14, 20 s; abandoned after 3, 30 s; one announced."""
    return [row("answered", wait=3, answer_s=10, talk_s=60), row("answered", wait=14, answer_s=20, talk_s=30),
            row("answered", wait=20, answer_s=60, talk_s=30), row("abandoned", wait=3), row("abandoned", wait=30),
            row("announced")]


def test_the_docs_worked_example_gives_the_documented_rates():
    f = Figures()
    for r in docs_example():
        f.add(r)
    assert (f.calls, f.offered, f.answered, f.abandoned, f.abandoned_short, f.of("announced")) == (6, 5, 3, 2, 1, 1)
    assert (f.counted, f.answered_in_sl, f.service_level, f.connect_rate) == (4, 2, 0.5, 0.75)
    assert sorted(f.waits) == [3.0, 14.0, 20.0] and f.talk_s == 120.0
    assert f.answer_times == [10.0, 20.0, 60.0]   # the other wait: from the start of the call, answered calls only


def test_thresholds_move_the_service_level_and_the_short_abandons():
    f = Figures()
    for r in docs_example():
        f.add(r, Thresholds(service_level_s=20, short_abandon_s=2))
    assert (f.answered_in_sl, f.abandoned_short, f.counted, f.service_level) == (3, 0, 5, 0.6)


def test_queue_wait_is_holdtime_else_from_queue_entry_to_answer_or_end():
    assert queue_wait(row("answered", wait=7.5)) == 7.5
    answered = row("answered", queued=T0, answered=T0 + dt.timedelta(seconds=12), ended=T0 + dt.timedelta(minutes=5))
    assert queue_wait(answered) == 12.0
    left = row("abandoned", queued=T0, ended=T0 + dt.timedelta(seconds=4))
    assert queue_wait(left) == 4.0
    assert queue_wait(row("abandoned")) is None
    f = Figures()
    f.add(left)
    assert f.abandoned_short == 1   # the derived wait counts like HoldTime


def test_counts_from_a_database_grouping_equal_folding_the_rows_and_live_calls_count_as_in_progress():
    rows = docs_example() + [row(None), row("forwarded"), row("unanswered")]
    by_row = Figures()
    for r in rows:
        by_row.add(r)
    grouped = Figures()
    for disposition, n in (("answered", 3), ("abandoned", 2), ("announced", 1), (None, 1), ("forwarded", 1),
                           ("unanswered", 1)):
        grouped.count(disposition, n)
    for seconds in (10, 20, 60):
        grouped.answered_after(seconds)
    assert grouped.counts == by_row.counts == {"answered": 3, "abandoned": 2, "announced": 1, "in_progress": 1,
                                               "forwarded": 1, "unanswered": 1}
    assert grouped.calls == by_row.calls == 9 and grouped.answer_times == by_row.answer_times


def test_merge_of_days_is_the_range_total():
    rows = docs_example()
    days = [Figures(), Figures()]
    for i, r in enumerate(rows):
        days[i % 2].add(r, acw_s=5.0)
    whole = Figures()
    for r in rows:
        whole.add(r, acw_s=5.0)
    total = Figures().merge(days[0]).merge(days[1])
    assert total.counts == whole.counts and total.calls == whole.calls
    assert sorted(total.waits) == sorted(whole.waits) and sorted(total.answer_times) == sorted(whole.answer_times)
    assert (total.service_level, total.connect_rate, total.acw_s) == (whole.service_level, whole.connect_rate, 15.0)


def test_fold_groups_in_key_order_with_each_calls_after_call_work():
    rows = [row("answered", wait=1, line="b"), row("abandoned", wait=9, line="a"), row("answered", wait=2, line="a")]
    groups = fold(rows, key=lambda r: r.line, acw_s=lambda i: [10.0, 0.0, 4.0][i])
    assert list(groups) == ["a", "b"]
    assert (groups["a"].offered, groups["a"].answered, groups["a"].acw_s) == (2, 1, 4.0)
    assert (groups["b"].offered, groups["b"].acw_s) == (1, 10.0)


def test_the_two_middles_differ_nearest_rank_percentile_and_median():
    waits = sorted([10.0, 20.0, 60.0, 30.0])
    assert percentile(waits, 50) == 20.0 and percentile(waits, 90) == 60.0 and percentile(waits, 1) == 10.0
    assert median(waits) == 25.0 and mean(waits) == 30.0
    assert percentile([], 50) is None and median([]) is None and mean([]) is None


def test_a_rate_with_nothing_counted_is_none_not_zero():
    assert rate(0, 0) is None and rate(3, 4) == 0.75 and rate(2, 3) == 0.6667
    f = Figures()
    f.add(row("announced"))
    assert f.offered == 0 and f.service_level is None and f.connect_rate is None
