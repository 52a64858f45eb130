"""`hotline report` shows callbacks done/failed and satisfaction (回访 and 一次一评)."""
from __future__ import annotations

import datetime as dt
import json

from callbacks.models import CallbackAttempt, CallbackTask, ensure_tables
from callbacks.ratings import CallRating
from ivr.cli import main as hotline
from ivr.storage.models import Base
from ivr.storage.store import Store

AT = dt.datetime(2026, 12, 3, 3, 0, tzinfo=dt.timezone.utc)   # 11:00 in Shanghai
DAY = dt.date(2026, 12, 3)


def _fill(session) -> None:
    def task(i, flow, state, result, answers=None):
        session.add(CallbackTask(id=i, flow=flow, number=f"1390000{i:04d}", dedupe_key=f"k{i}", state=state,
                                 result=result, due_at=AT, answers=answers or {}, created_at=AT, updated_at=AT))
        session.flush()
        session.add(CallbackAttempt(task_id=i, no=1, channel_id=f"cb-{i}", trunk="pstn", started_at=AT,
                                    ended_at=AT, cause=result or "busy"))
    task(1, "survey", "done", "answered", {"satisfaction": {"key": "1", "text": "满意"}})
    task(2, "survey", "done", "answered", {"satisfaction": {"key": "3", "text": "不满意"}})
    task(3, "survey", "done", "no_answer")
    task(4, "missed", "done", "answered")
    task(5, "queue", "cancelled", None)
    session.add(CallbackTask(id=6, flow="survey", number="13900000006", dedupe_key="k6", state="pending", due_at=AT,
                             created_at=AT, updated_at=AT))   # not finished: not counted
    for i, (agent, key, ok) in enumerate([("a1", "1", 1), ("a1", "3", 0), ("a2", "2", 1)]):
        session.add(CallRating(linkedid=f"l{i}", agent=agent, queue="general", line="water", key=key, text="x",
                               satisfied=ok, day=DAY, at=AT))


def test_report_shows_callbacks_and_satisfaction(tmp_path, capsys):
    url = f"sqlite:///{tmp_path}/hotline.db"
    assert hotline(["db", "upgrade", "--url", url]) == 0
    store = Store.open(url)
    ensure_tables(store.engine)
    Base.metadata.create_all(store.engine, tables=[CallRating.__table__])
    store.run_sync(_fill)
    store.close()
    capsys.readouterr()
    args = ["report", "--url", url, "--from", "2026-12-01", "--to", "2026-12-04"]
    assert hotline(args + ["--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["callbacks"]["survey"] == {"reached": 2, "failed": 1, "refused": 0, "cancelled": 0}
    assert data["callbacks"]["queue"]["cancelled"] == 1 and data["callbacks"]["missed"]["reached"] == 1
    assert data["surveys"] == {"满意": 1, "不满意": 1}
    assert data["ratings"]["all"] == {"rated": 3, "satisfied": 2, "rate": 0.667}
    assert data["ratings"]["by_agent"]["a1"]["rate"] == 0.5
    assert hotline(args) == 0
    out = capsys.readouterr().out
    assert "外呼 回访: 接通完成 2，未接通 1" in out and "满意率 66.7%" in out and "座席 a1: 2 次，满意率 50.0%" in out
    # Outside the range: nothing.
    assert hotline(["report", "--url", url, "--from", "2026-12-05", "--to", "2026-12-06", "--json"]) == 0
    later = json.loads(capsys.readouterr().out)
    assert later["callbacks"] == {} and later["ratings"]["all"]["rated"] == 0
