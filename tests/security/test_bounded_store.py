"""The database job queue is bounded (issue 11, item 8): with the database stuck,
calls' writes are shed least important first and counted, audit is never shed
silently, awaited requests fail at once, and /healthz says so."""
from __future__ import annotations

import datetime as dt
import logging
import threading

import aiohttp

from ivr.storage import repo
from ivr.storage.store import Store, StoreFull
from tests.support.web_support import serve, services

T0 = dt.datetime(2026, 11, 21, 1, 30, tzinfo=dt.timezone.utc)


def _stuck(gate: threading.Event):
    def hold(session) -> None:
        gate.wait(30)
    return hold


async def test_full_queue_sheds_in_order_counts_and_healthz_reports(tmp_path, caplog):
    store = Store.open(f"sqlite:///{tmp_path / 'b.db'}", max_queue=100)
    gate = threading.Event()
    try:
        store.submit(_stuck(gate))  # the database "hangs" on this job
        accepted = {"record_event": 0, "upsert_call": 0, "save_ticket_draft": 0, "log_access": 0}
        for i in range(300):  # far more than the queue holds, interleaved like real traffic
            lid = f"1700000000.{i}"
            accepted["upsert_call"] += store.submit(repo.upsert_call, lid, {"caller": "13912345678", "started_at": T0})
            accepted["record_event"] += store.submit(repo.record_event, lid, T0, "ring", {})
            accepted["save_ticket_draft"] += store.submit(repo.save_ticket_draft, f"T{i}", {"summary": "x"}, "speech")
            accepted["log_access"] += store.submit(repo.log_access, "agent1001", "read", "ticket", f"T{i}")
        # least important first: events are cut at half the queue, call records near full
        assert accepted["record_event"] < accepted["save_ticket_draft"] < accepted["upsert_call"]
        assert accepted["upsert_call"] < accepted["log_access"]
        assert store._pending <= 125  # bounded: max_queue + the reserve
        assert store.stats.shed["record_event"] == 300 - accepted["record_event"]
        assert "audit entry log_access LOST" in caplog.text  # never silently

        # an awaited request past the reserve fails at once instead of piling up
        try:
            await store.run(repo.get_call, "1700000000.1")
            raise AssertionError("a request was queued beyond the bound")
        except StoreFull:
            pass

        async with serve(services(store=store)) as base, aiohttp.ClientSession() as http:
            resp = await http.get(f"{base}/healthz")
            body = await resp.json()
            assert resp.status == 200 and body["degraded"] is True
            assert body["db_queue"]["shed"]["record_event"] == store.stats.shed["record_event"]
            assert body["db_queue"]["shed_total"] > 0 and body["db_queue"]["max"] == 100
        gate.set()
        assert await store.flush(30)
        # what was accepted was written
        rows = store.run_sync(repo.audit_entries, limit=1000)
        assert len(rows) == accepted["log_access"]
    finally:
        gate.set()
        store.close()


async def test_healthz_not_degraded_when_queue_is_fine(tmp_path):
    store = Store.open(f"sqlite:///{tmp_path / 'b.db'}", max_queue=100)
    try:
        async with serve(services(store=store)) as base, aiohttp.ClientSession() as http:
            body = await (await http.get(f"{base}/healthz")).json()
            assert body["degraded"] is False and body["db_queue"]["shed_total"] == 0
    finally:
        store.close()
