"""Per-line reports: figures over generated calls, the chart, the CLI and the HTTP routes."""
from __future__ import annotations

import datetime as dt
import io
import json

import aiohttp
import numpy as np
import pytest
from matplotlib.image import imread

from ivr.calls.tracker import CallTracker
from ivr.cli import main as hotline
from ivr.reports import ReportError, format_table, line_report, parse_range, render_chart
from ivr.storage import repo
from tests.support import ami_events as A
from tests.support.web_support import TOKEN, serve, services

pytest_plugins = ["tests.support.pg_server"]

UTC = dt.timezone.utc
D = dt.date(2026, 11, 20)
# (day offset, number dialed, disposition, seconds from call start to answer)
CALLS = [
    (0, "12333", "answered", 10), (0, "12333", "answered", 20), (0, "12333", "answered", 60),
    (0, "12333", "abandoned", None), (0, "12315", "answered", 5),
    (1, "12333", "answered", 30), (1, "12333", "abandoned", None), (1, "12315", "answered", 15),
    (1, "12315", "answered", 25), (1, "12328", "announced", None), (1, "12328", "announced", None),
    (1, "12328", "announced", None),
    (2, "12315", "forwarded", 8),
    (3, "12328", "announced", None),
    (10, "12333", "answered", 1),    # after the range
    (1, None, "answered", 3),        # an internal call: no number dialed, never reported
]
LINES = {"12333": "hrss-12333", "12315": "amr-12315", "12328": "fund-12328"}


def make_calls(store) -> None:
    for i, (offset, dialed, disposition, answer_s) in enumerate(CALLS):
        day = D + dt.timedelta(days=offset)
        start = dt.datetime.combine(day, dt.time(2, 0), UTC) + dt.timedelta(minutes=i)
        store.run_sync(repo.upsert_call, f"17950000{i:02d}.1", {
            "caller": "13900000000", "dialed": dialed, "line": LINES.get(dialed), "day": day,
            "started_at": start, "disposition": disposition, "answer_s": answer_s,
            "answered_at": start + dt.timedelta(seconds=answer_s) if answer_s else None})


def test_figures_per_number_and_day(db_store):
    make_calls(db_store)
    report = db_store.run_sync(line_report, D, D + dt.timedelta(days=3))
    assert [ln.dialed for ln in report.lines] == ["12315", "12328", "12333"]
    fig = {ln.dialed: ln for ln in report.lines}

    h = fig["12333"]
    assert h.line == "hrss-12333"
    assert (h.total.calls, h.total.answered, h.total.abandoned) == (6, 4, 2)
    assert (h.total.avg_answer_s, h.total.median_answer_s) == (30.0, 25.0)  # of 10, 20, 60, 30
    assert [d.calls for d in h.days] == [4, 2, 0, 0]
    assert [(d.answered, d.abandoned, d.avg_answer_s, d.median_answer_s) for d in h.days[:2]] == [
        (3, 1, 30.0, 20.0), (1, 1, 30.0, 30.0)]
    assert h.days[2].avg_answer_s is None
    assert (h.last_call_day, h.calls_last_7_days) == ("2026-11-21", 6)

    t = fig["12315"]
    assert (t.total.calls, t.total.answered, t.total.forwarded, t.total.median_answer_s) == (4, 3, 1, 15.0)
    assert [d.calls for d in t.days] == [1, 2, 1, 0]

    g = fig["12328"]
    assert (g.total.calls, g.total.announced, g.total.answered, g.total.avg_answer_s) == (4, 4, 0, None)
    assert g.last_call_day == "2026-11-23"

    table = format_table(report)
    assert "12333       hrss-12333" in table and "2026-11-21" in table
    assert db_store.run_sync(line_report, D + dt.timedelta(days=20), D + dt.timedelta(days=21)).lines == []


def test_chart_is_a_real_png_with_the_lines_drawn(db_store):
    make_calls(db_store)
    for i in range(30):  # 12345 itself: in the figures, not in the chart of old numbers
        db_store.run_sync(repo.upsert_call, f"1795100{i:03d}.1", {"dialed": "12345", "day": D, "disposition": "answered"})
    png = render_chart(db_store.run_sync(line_report, D, D + dt.timedelta(days=3)))
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 15_000
    img = imread(io.BytesIO(png))
    assert img.shape[:2] == (550, 1100)
    colours = {tuple(np.round(px[:3], 2)) for px in img.reshape(-1, img.shape[2])[::7]}
    assert len(colours) > 50
    # matplotlib's first three series colours: one line per number.
    for rgb in ((0.12, 0.47, 0.71), (1.0, 0.5, 0.05), (0.17, 0.63, 0.17)):
        assert np.any(np.all(np.abs(img[:, :, :3] - rgb) < 0.02, axis=2)), rgb
    assert not np.any(np.all(np.abs(img[:, :, :3] - (0.84, 0.15, 0.16)) < 0.02, axis=2))  # no 4th line
    empty = render_chart(db_store.run_sync(line_report, D + dt.timedelta(days=20), D + dt.timedelta(days=21)))
    assert empty[:4] == b"\x89PNG"


def test_range_parsing():
    today = dt.date(2026, 12, 1)
    assert parse_range(None, None, today) == (dt.date(2026, 11, 2), today)
    assert parse_range("2026-11-20", "2026-11-23", today) == (D, dt.date(2026, 11, 23))
    for bad in (("2026-11-24", "2026-11-23"), ("2026-13-01", None), ("2020-01-01", "2026-01-01")):
        with pytest.raises(ReportError):
            parse_range(*bad, today)


async def test_report_from_tracked_calls(tracker_store):
    tracker, store = tracker_store
    for events in (A.answered_call(), A.abandoned_call(), A.transferred_call()):
        for e in events:
            tracker.feed(e)
    await tracker.drain()
    report = store.run_sync(line_report, dt.date(2026, 11, 21), dt.date(2026, 11, 21))
    got = {ln.dialed: (ln.total.calls, ln.total.answered, ln.total.abandoned, ln.total.avg_answer_s)
           for ln in report.lines}
    # 12333 answered 4.04 s after it started; 12315 at 3.02 s; 12345 abandoned.
    assert got == {"12333": (1, 1, 0, 4.0), "12315": (1, 1, 0, 3.0), "12345": (1, 0, 1, None)}


@pytest.fixture
async def tracker_store(db_store):
    async def publish(agent, kind, payload):
        pass

    tracker = CallTracker(db_store, publish, agents={"agent1001", "agent1002"})
    await tracker.start()
    yield tracker, db_store
    await tracker.stop()


def test_report_cli_table_json_chart_and_errors(db_url, tmp_path, capsys):
    assert hotline(["db", "upgrade", "--url", db_url]) == 0
    from ivr.storage.store import Store

    store = Store.open(db_url)
    make_calls(store)
    store.close()
    capsys.readouterr()
    chart = tmp_path / "lines.png"
    args = ["report", "--url", db_url, "--from", "2026-11-20", "--to", "2026-11-23"]
    assert hotline(args + ["--json", "--chart", str(chart)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["start"] == "2026-11-20" and data["end"] == "2026-11-23"
    h = next(ln for ln in data["lines"] if ln["dialed"] == "12333")
    assert h["total"]["calls"] == 6 and [d["calls"] for d in h["days"]] == [4, 2, 0, 0]
    assert chart.read_bytes()[:4] == b"\x89PNG" and chart.stat().st_size > 15_000
    assert hotline(args) == 0
    out = capsys.readouterr().out
    assert "Calls per number, 2026-11-20 to 2026-11-23" in out and "12328" in out
    assert hotline(["report", "--url", db_url, "--from", "2026-11-24", "--to", "2026-11-23"]) == 2
    assert "is after" in capsys.readouterr().err


async def test_http_reports_for_supervisors_only_and_audited(db_store):
    make_calls(db_store)
    svc = services(store=db_store)
    q = "from=2026-11-20&to=2026-11-23"
    async with serve(svc) as base, aiohttp.ClientSession() as s:
        sup = {"Authorization": f"Bearer {TOKEN['super01']}"}
        async with s.get(f"{base}/api/reports/lines?{q}") as r:
            assert r.status == 401
        async with s.get(f"{base}/api/reports/lines?{q}",
                         headers={"Authorization": f"Bearer {TOKEN['agent1001']}"}) as r:
            assert r.status == 403
        async with s.get(f"{base}/api/reports/lines?{q}", headers=sup) as r:
            assert r.status == 200
            body = await r.json()
        h = next(ln for ln in body["lines"] if ln["dialed"] == "12333")
        assert (h["total"]["calls"], h["total"]["answered"], h["total"]["median_answer_s"]) == (6, 4, 25.0)
        async with s.get(f"{base}/api/reports/lines.png?{q}", headers=sup) as r:
            assert r.status == 200 and r.content_type == "image/png"
            assert (await r.read())[:4] == b"\x89PNG"
        async with s.get(f"{base}/api/reports/lines?from=yesterday", headers=sup) as r:
            assert r.status == 400 and "bad date" in (await r.json())["detail"]
    audit = db_store.run_sync(repo.audit_entries, record_type="report")
    assert [(a["actor"], a["record_id"], a["detail"]) for a in reversed(audit)] == [
        ("super01", "lines:2026-11-20..2026-11-23", {"format": "json"}),
        ("super01", "lines:2026-11-20..2026-11-23", {"format": "png"})]


def test_report_cli_does_not_create_a_missing_database(tmp_path, capsys):
    path = tmp_path / "nowhere" / "hotline.db"
    assert hotline(["report", "--url", f"sqlite:///{path}"]) == 1
    assert "no database at" in capsys.readouterr().err
    assert not path.parent.exists()
