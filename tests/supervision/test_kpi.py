"""KPIs from a scripted day of calls equal the figures worked out by hand (CLI, JSON, CSV, HTTP, chart)."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json

import aiohttp
import pytest
from matplotlib.image import imread

from callbacks.models import CallbackTask, ensure_tables
from ivr.cli import main as hotline
from ivr.config.model import Config
from ivr.seats import history
from ivr.storage import repo
from ivr.storage.models import AuditEntry
from ivr.storage.store import Store
from supervision import kpi, kpi_store
from tests.support.supervision_web import serve_supervision
from tests.support.web_support import TOKEN, TOKENS, services

UTC = dt.timezone.utc
DAY = dt.date(2026, 12, 1)                               # local day (Asia/Shanghai)
T0 = dt.datetime(2026, 12, 1, 1, 0, tzinfo=UTC)          # 09:00 local
# linkedid, disposition, queue wait (s), talk (s), agent, line
SCRIPT = [
    ("a3", "answered", 3, 60, "agent1001", "hrss-12333"),
    ("a14", "answered", 14, 120, "agent1002", None),
    ("a20", "answered", 20, 90, "agent1001", None),
    ("x3", "abandoned", 3, None, None, None),
    ("x30", "abandoned", 30, None, None, "hrss-12333"),
    ("merged", "announced", None, None, None, "fund-12328"),   # full-merge prompt, then the call ends
]
# By hand: offered 5 (3 answered + 2 abandoned; the announced call is not offered), the 3 s abandon
# is a quick one and leaves both denominators (5 - 1 = 4): 15-s rate 2/4 (3 s and 14 s), connect 3/4.
# Waits of the answered calls 3, 14, 20: nearest-rank p50 14, p90 20, max 20. Talk 270 s.
# Wrap-up 30 s in "general": agent1001 answers at 09:00 (talk 60 s) and at 09:20 -> 30 + 30;
# agent1002 -> 30: after-call 90 s. agent1001 ready 09:00-10:00 (3600 s), paused 小休 10:00-10:10:
# occupancy (60 + 90 + 60) / 3600.
EXPECTED_TOTAL = {
    "calls": 6, "offered": 5, "answered": 3, "answered_in_sl": 2, "service_level": 0.5, "connect_rate": 0.75,
    "abandoned": 2, "abandoned_short": 1, "abandoned_long": 1, "announced": 1, "forwarded": 0,
    "wait_p50_s": 14.0, "wait_p90_s": 20.0, "wait_max_s": 20.0, "wait_avg_s": 12.3,
    "talk_s": 270.0, "talk_avg_s": 90.0, "acw_s": 90.0,
}


def config(db: str) -> Config:
    return Config.model_validate({
        "hotline": {"name": "测试市12345", "city": "测试市", "timezone": "Asia/Shanghai"},
        "web": {"tokens": TOKENS, "supervisors": ["super01"]},
        "queues": [{"id": "general", "name": "12345 综合座席", "wrapup": 30}],
        "trunks": {"pstn": {"type": "local", "context": "outside"}},
        "database": {"url": db},
    })


def script(store: Store) -> None:
    for i, (lid, disposition, wait, talk, agent, line) in enumerate(SCRIPT):
        start = T0 + dt.timedelta(minutes=10 * i)
        queued = start + dt.timedelta(seconds=8) if disposition != "announced" else None
        fields = {"day": DAY, "started_at": start, "queued_at": queued, "disposition": disposition, "line": line,
                  "queue": "general" if queued else None, "queue_wait_s": wait, "agent": agent, "talk_s": talk,
                  "action": "announce" if disposition == "announced" else "queue",
                  "ended_at": start + dt.timedelta(seconds=(wait or 0) + (talk or 0) + 10)}
        if disposition == "answered":
            fields["answered_at"] = queued + dt.timedelta(seconds=wait)
        store.run_sync(repo.upsert_call, lid, fields)
    store.run_sync(history.change_state, "agent1001", "ready", "", T0)
    store.run_sync(history.change_state, "agent1001", "paused", "小休", T0 + dt.timedelta(hours=1))
    store.run_sync(history.change_state, "agent1001", "ready", "", T0 + dt.timedelta(hours=1, minutes=10))
    ensure_tables(store.engine)  # 回访 results: two surveys answered that day, one the next day
    for i, (key, day) in enumerate((("1", 0), ("3", 0), ("2", 1))):
        at = T0 + dt.timedelta(days=day, hours=2)
        store.run_sync(lambda s, i=i, key=key, at=at: s.add(CallbackTask(
            flow="survey", number="13900000000", dedupe_key=f"survey:{i}", state="done", due_at=at, updated_at=at,
            answers={"satisfaction": {"key": key, "text": "x", "at": at.isoformat()}})))
    # the next day: must not count
    store.run_sync(repo.upsert_call, "next", {"day": DAY + dt.timedelta(days=1), "disposition": "answered",
                                              "started_at": T0 + dt.timedelta(days=1), "queue_wait_s": 1.0})


@pytest.fixture
def db(tmp_path):
    url = f"sqlite:///{tmp_path / 'hotline.db'}"
    store = Store.open(url)
    script(store)
    yield url, store
    store.close()


def test_scripted_calls_equal_the_hand_computed_figures(db):
    url, store = db
    opts = {"tz": kpi.ZoneInfo("Asia/Shanghai"), "wrapup": {"general": 30}}
    rep = store.run_sync(kpi_store.load, DAY, DAY, by="line", **opts)
    assert rep["total"] == EXPECTED_TOTAL
    assert rep["groups"]["hrss-12333"]["offered"] == 2 and rep["groups"]["hrss-12333"]["connect_rate"] == 0.5
    assert rep["groups"]["fund-12328"] == {**rep["groups"]["fund-12328"], "calls": 1, "offered": 0, "announced": 1,
                                           "connect_rate": None}
    a = rep["agents"]["agent1001"]
    assert (a["answered"], a["talk_s"], a["acw_s"], a["ready_s"]) == (2, 150.0, 60.0, 3600.0 + 13 * 3600 + 50 * 60)
    assert a["pause_by_reason"] == {"小休": 600.0} and rep["pause_by_reason"] == {"小休": 600.0}
    assert a["occupancy"] == round(210 / a["ready_s"], 4)
    assert rep["ratings"] == {"rated": 2, "satisfied": 1, "basic": 0, "dissatisfied": 1, "satisfied_rate": 0.5}
    assert rep["agents"]["agent1002"]["acw_s"] == 30.0 and rep["agents"]["agent1002"]["occupancy"] is None


def test_cli_json_csv_table_and_chart(db, tmp_path, capsys):
    url, store = db
    cfg = tmp_path / "config.yaml"
    cfg.write_text(json.dumps(config(url).model_dump(mode="json")), encoding="utf-8")
    assert hotline(["report", "kpi", "-c", str(cfg), "--from", str(DAY), "--to", str(DAY), "--by", "hour", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["total"] == EXPECTED_TOTAL
    assert list(out["groups"]) == ["2026-12-01 09:00"] and out["groups"]["2026-12-01 09:00"]["offered"] == 5
    assert hotline(["report", "kpi", "-c", str(cfg), "--from", str(DAY), "--to", str(DAY), "--by", "agent", "--csv"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows[0][:4] == ["group", "calls", "offered", "answered"]
    by = {r[0]: r for r in rows[1:]}
    assert by["agent1001"][3] == "2" and by["total"][5] == "0.5" and by["total"][6] == "0.75"
    chart = tmp_path / "kpi.png"
    assert hotline(["report", "kpi", "-c", str(cfg), "--from", str(DAY - dt.timedelta(days=2)), "--to", str(DAY),
                    "--chart", str(chart)]) == 0
    table = capsys.readouterr().out
    assert "50.0%" in table and "75.0%" in table and "小休 600s" in table and "不满意 1" in table
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and imread(str(chart)).shape[:2] == (450, 1000)
    # the plain per-line report is still there
    assert hotline(["report", "-c", str(cfg), "--from", str(DAY), "--to", str(DAY), "--json"]) == 0
    assert "lines" in json.loads(capsys.readouterr().out)
    assert hotline(["report", "kpi", "-c", str(cfg), "--from", "2026-13-01"]) == 2


async def test_http_kpi_supervisor_only_and_audited(db):
    url, store = db
    svc = services(store=store)
    async with serve_supervision(svc, config(url)) as base:
        async with aiohttp.ClientSession() as http:
            agent = {"Authorization": f"Bearer {TOKEN['agent1001']}"}
            sup = {"Authorization": f"Bearer {TOKEN['super01']}"}
            r = await http.get(f"{base}/api/supervision/kpi?from={DAY}&to={DAY}", headers=agent)
            assert r.status == 403
            r = await http.get(f"{base}/api/supervision/kpi?from={DAY}&to={DAY}&by=queue", headers=sup)
            assert r.status == 200
            body = await r.json()
            assert body["total"] == EXPECTED_TOTAL and body["groups"]["general"]["offered"] == 5
            r = await http.get(f"{base}/api/supervision/kpi.png?from={DAY}&to={DAY}", headers=sup)
            assert r.status == 200 and r.content_type == "image/png" and (await r.read())[:4] == b"\x89PNG"
            r = await http.get(f"{base}/api/supervision/kpi?by=weekday", headers=sup)
            assert r.status == 400
    await store.flush()
    audit = store.run_sync(lambda s: [(a.actor, a.action, a.record_id, a.detail["format"])
                                      for a in s.query(AuditEntry).filter_by(record_type="report")])
    assert audit == [("super01", "read", f"kpi:{DAY}..{DAY}", "json"), ("super01", "read", f"kpi:{DAY}..{DAY}", "png")]



async def test_wallboard_reads_todays_figures_only_while_watched(db):
    """A busy day's calls are read for the board only while a page is open or a GET came lately:
    nobody watching costs the server nothing (that CPU is Asterisk's, benchmarks/routing.py)."""
    from types import SimpleNamespace

    from supervision.wallboard import Wallboard

    url, store = db
    reads = []
    real_run = store.run

    async def counting_run(fn, *args, **kwargs):
        if fn is kpi_store.load_groupings:
            reads.append(args)
        return await real_run(fn, *args, **kwargs)

    services = SimpleNamespace(config=config(url), store=SimpleNamespace(run=counting_run), ami=None,
                               clock=lambda: T0 + dt.timedelta(hours=5))  # 14:00 on the scripted day
    board = Wallboard(services)
    snap = await board.refresh()
    assert snap["today"]["total"] is None and reads == []      # nobody watching: no read

    page = board.subscribe()
    snap = await board.refresh()
    assert snap["today"]["total"]["offered"] == EXPECTED_TOTAL["offered"]
    assert snap["queues"][0]["today"]["answered"] == EXPECTED_TOTAL["answered"]
    assert snap["today"]["lines"]["hrss-12333"]["offered"] == 2
    assert len(reads) == 1                                      # queue and line from one read
    assert (await page.get())["today"]["total"]["offered"] == 5
    await board.refresh()
    assert len(reads) == 1                                      # at most every few seconds

    board.unsubscribe(page)
    snap = await board.refresh()
    assert snap["today"]["total"] is None                       # not shown stale either
    snap = await board.latest()                                 # a GET: read now, watched for a minute
    assert snap["today"]["total"]["offered"] == 5 and len(reads) == 2
