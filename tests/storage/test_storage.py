"""Storage on SQLite and a real PostgreSQL: migrations, calls, tickets, audit, the Store worker."""
from __future__ import annotations

import asyncio
import threading
import datetime as dt

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import IntegrityError

from ivr.cli import main as hotline
from ivr.storage import migrations, repo
from ivr.storage.db import DatabaseError, make_engine, normalize_url
from ivr.storage.models import CallEvent, Ticket

pytest_plugins = ["tests.support.pg_server"]

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 11, 21, 1, 30, tzinfo=UTC)


def _call(store, linkedid: str, caller: str, at: dt.datetime, **fields) -> None:
    store.run_sync(repo.upsert_call, linkedid, {"caller": caller, "started_at": at, **fields})


# -- migrations --------------------------------------------------------------------
def test_migrations_create_schema_once_and_are_idempotent(db_url):
    engine = make_engine(db_url)
    assert migrations.current_version(engine) == 0
    assert migrations.upgrade(engine) == [1, 2]  # 2: agent_states (browser seats, ivr/seats/history.py)
    assert migrations.upgrade(engine) == []  # second run: nothing to do, no error
    assert migrations.current_version(engine) == migrations.latest_version() == 2
    tables = set(inspect(engine).get_table_names())
    assert {"calls", "call_events", "tickets", "transfers", "audit_log", "schema_version", "agent_states"} <= tables
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM schema_version")).scalar() == 2
    engine.dispose()


def test_db_cli_upgrade_then_status(db_url, capsys):
    assert hotline(["db", "status", "--url", db_url]) == 3
    assert "0 of 2" in capsys.readouterr().out  # 2: agent_states (ivr/seats/history.py)
    assert hotline(["db", "upgrade", "--url", db_url]) == 0
    assert "applied migration(s) 1, 2" in capsys.readouterr().out
    assert hotline(["db", "upgrade", "--url", db_url]) == 0
    assert "up to date" in capsys.readouterr().out
    assert hotline(["db", "status", "--url", db_url]) == 0


def test_db_cli_reports_unreachable_database(capsys):
    assert hotline(["db", "upgrade", "--url", "postgresql://u:secret@127.0.0.1:1/x"]) == 1
    err = capsys.readouterr().err
    assert "cannot upgrade" in err and "secret" not in err


def test_url_normalisation():
    assert normalize_url("postgresql://u@h/db").startswith("postgresql+psycopg://")
    assert normalize_url("sqlite:////tmp/x.db") == "sqlite:////tmp/x.db"
    with pytest.raises(DatabaseError, match="unsupported"):
        normalize_url("mysql://u@h/db")
    with pytest.raises(DatabaseError, match="malformed"):
        normalize_url("not a url")


def test_sqlite_runs_wal_with_foreign_keys(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/sub/dir/h.db")  # folder is created
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()


def test_foreign_keys_enforced(db_store):
    with pytest.raises(IntegrityError):
        db_store.run_sync(lambda s: (s.add(CallEvent(call_id=999, at=T0, kind="x", data={})), s.flush()))


# -- calls and events -------------------------------------------------------------
def test_call_round_trip_keeps_times_and_json(db_store):
    _call(db_store, "1763688600.1", "13912345678", T0, dialed="12333", line="hrss-12333",
          department="市人社局", day=dt.date(2026, 11, 21))
    db_store.run_sync(repo.upsert_call, "1763688600.1",
                      {"answered_at": T0 + dt.timedelta(seconds=12.5), "disposition": "answered"})
    db_store.run_sync(repo.record_event, "1763688600.1", T0, "var", {"name": "HOTLINE_DEPARTMENT", "value": "市人社局"})
    call = db_store.run_sync(repo.get_call, "1763688600.1")
    assert call["caller"] == "13912345678" and call["department"] == "市人社局"
    assert call["started_at"] == "2026-11-21T01:30:00+00:00"
    assert call["answered_at"] == "2026-11-21T01:30:12.500000+00:00"
    assert call["day"] == "2026-11-21" and call["disposition"] == "answered"
    events = db_store.run_sync(repo.call_events, "1763688600.1")
    assert [(e["kind"], e["data"]) for e in events] == [("var", {"name": "HOTLINE_DEPARTMENT", "value": "市人社局"})]
    with pytest.raises(ValueError, match="unknown call fields"):
        db_store.run_sync(repo.upsert_call, "1763688600.1", {"colour": "red"})


def test_caller_history_newest_first_with_tickets(db_store):
    for i in range(12):
        _call(db_store, f"17636886{i:02d}.1", "13912345678", T0 + dt.timedelta(hours=i), dialed="12333", line="hrss-12333")
    _call(db_store, "1763699999.1", "13800000000", T0 + dt.timedelta(days=1), dialed="12315")
    tid = db_store.run_sync(repo.new_ticket, call="1763688603.1", at=T0)
    db_store.run_sync(repo.save_ticket_draft, tid, {"summary": "社保转移咨询"}, "agent1001")
    history = db_store.run_sync(repo.caller_history, "13912345678", exclude="1763688611.1")
    assert len(history) == 10
    assert [h["call_id"] for h in history] == [f"17636886{i:02d}.1" for i in range(10, 0, -1)]
    by_id = {h["call_id"]: h for h in history}
    assert by_id["1763688603.1"]["ticket_id"] == tid
    assert by_id["1763688603.1"]["ticket_summary"] == "社保转移咨询"
    assert by_id["1763688604.1"]["ticket_id"] is None
    assert history[0]["dialed"] == "12333" and history[0]["at"].startswith("2026-11-21T11:30")
    assert db_store.run_sync(repo.caller_history, "") == []


# -- tickets and audit ------------------------------------------------------------
def test_ticket_ids_follow_the_local_day(db_store):
    late_utc = dt.datetime(2026, 11, 20, 17, 0, tzinfo=UTC)  # 01:00 on the 21st in Shanghai
    assert db_store.run_sync(repo.new_ticket, at=late_utc) == "T20261121-0001"
    assert db_store.run_sync(repo.new_ticket, at=late_utc) == "T20261121-0002"
    assert db_store.run_sync(repo.new_ticket, at=late_utc, tz="UTC") == "T20261120-0001"
    db_store.run_sync(lambda s: s.add(Ticket(id="T20261121-9999")))
    assert db_store.run_sync(repo.new_ticket, at=late_utc) == "T20261121-10000"
    assert db_store.run_sync(repo.new_ticket, at=late_utc) == "T20261121-10001"


def test_ticket_draft_update_and_reads_are_audited(db_store):
    _call(db_store, "1763688600.1", "13912345678", T0)
    tid = db_store.run_sync(repo.new_ticket, call="1763688600.1", at=T0)
    saved = db_store.run_sync(repo.save_ticket_draft, tid,
                              {"summary": "养老金查询", "category": "社保", "district": "白银区"}, "agent1001", "127.0.0.1")
    assert saved["summary"] == "养老金查询" and saved["extra"] == {"district": "白银区"}
    assert saved["call_id"] == "1763688600.1" and saved["updated_by"] == "agent1001"
    with pytest.raises(ValueError, match="status"):
        db_store.run_sync(repo.save_ticket_draft, tid, {"status": "lost"}, "agent1001")
    with pytest.raises(KeyError):
        db_store.run_sync(repo.save_ticket_draft, "T20990101-0001", {"summary": "x"}, "agent1001")

    got = db_store.run_sync(repo.get_ticket, tid, "supervisor1", "10.0.0.8")
    assert got["category"] == "社保"
    assert db_store.run_sync(repo.get_ticket, "T20990101-0001", "agent1002") is None
    audit = db_store.run_sync(repo.audit_entries, record_type="ticket")
    assert [(a["actor"], a["action"], a["record_id"], a["source"]) for a in audit] == [
        ("agent1002", "read", "T20990101-0001", None),
        ("supervisor1", "read", tid, "10.0.0.8"),
        ("agent1001", "update", tid, "127.0.0.1"),
    ]
    assert audit[0]["detail"] == {"found": False}
    assert audit[2]["detail"] == {"fields": ["category", "district", "summary"]}
    with pytest.raises(ValueError, match="actor"):
        db_store.run_sync(repo.log_access, "", "read", "recording", "r1")


def test_transfers_recorded_and_updated(db_store):
    tid = db_store.run_sync(repo.record_transfer, "1763688600.1", "three_way", from_agent="agent1001",
                            target="subcenter:tax", at=T0)
    db_store.run_sync(repo.update_transfer, tid, "answered", detail={"sub_agent": "tax-07"})
    db_store.run_sync(repo.update_transfer, tid, "completed", ended=True, at=T0 + dt.timedelta(seconds=40))
    (row,) = db_store.run_sync(repo.transfers, "1763688600.1")
    assert row["result"] == "completed" and row["detail"] == {"sub_agent": "tax-07"}
    assert row["ended_at"] == "2026-11-21T01:30:40+00:00" and row["source"] == "service"


# -- the Store worker -----------------------------------------------------------
async def test_store_orders_jobs_and_isolates_a_failing_one(db_store):
    db_store.submit(repo.upsert_call, "A", {"caller": "13900000001", "started_at": T0})
    db_store.submit(repo.upsert_call, "A", {"colour": "red"})  # bad job in the same batch
    db_store.submit(repo.record_event, "A", T0, "var", {"n": 1})
    call = await db_store.run(repo.get_call, "A")  # queued after the writes: sees them
    assert call["caller"] == "13900000001"
    assert len(await db_store.run(repo.call_events, "A")) == 1
    assert db_store.stats.failures == 1
    with pytest.raises(ValueError):
        await db_store.run(repo.upsert_call, "A", {"colour": "blue"})
    await asyncio.sleep(0)
    assert await db_store.flush()


async def test_store_batches_under_a_burst(db_store):
    for i in range(300):
        db_store.submit(repo.record_event, "B", T0, "tick", {"i": i})
    assert await db_store.flush()
    events = await db_store.run(repo.call_events, "B")
    assert [e["data"]["i"] for e in events] == list(range(300))
    assert db_store.stats.batches < 300  # writes were grouped, not one commit each
    rows = db_store.run_sync(lambda s: s.execute(select(CallEvent.kind)).scalars().all())
    assert rows.count("tick") == 300


async def test_committed_reads_do_not_wait_behind_a_stuck_writer(db_store):
    """Store.read (the screen-pop's caller history) has its own lane: a writer stuck in a
    job holds up the ordered reads queued behind it, not these."""
    db_store.run_sync(repo.upsert_call, "OLD", {"caller": "13900000001", "started_at": T0})
    gate, entered = threading.Event(), threading.Event()

    def stuck(session) -> None:
        entered.set()
        gate.wait(30)

    db_store.submit(stuck)
    assert entered.wait(10)
    db_store.submit(repo.upsert_call, "NEW", {"caller": "13900000001", "started_at": T0 + dt.timedelta(hours=1)})
    ordered = db_store.request(repo.caller_history, "13900000001")
    try:
        history = await asyncio.wait_for(db_store.read(repo.caller_history, "13900000001"), 5)
        assert [h["call_id"] for h in history] == ["OLD"]  # committed data only: NEW is still queued
        assert not ordered.done()
    finally:
        gate.set()
    assert [h["call_id"] for h in await ordered] == ["NEW", "OLD"]  # in order: sees the write before it
    assert await db_store.flush()

