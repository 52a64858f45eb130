"""Ticket ids come from memory but continue the stored sequence, per local day."""
from __future__ import annotations

import datetime as dt

from ivr.storage import repo
from ivr.storage.models import Ticket
from ivr.storage.store import Store
from ivr.storage.ticket_ids import TicketIds, reserve

pytest_plugins = ["tests.support.pg_server"]
UTC = dt.timezone.utc


async def test_ids_continue_the_day_restart_and_roll_over_at_local_midnight(tmp_path):
    store = Store.open(f"sqlite:///{tmp_path / 'h.db'}")
    try:
        # 15:59 UTC is 23:59 in Shanghai; 16:00 UTC is the next local day
        late = dt.datetime(2026, 11, 21, 15, 59, tzinfo=UTC)
        store.run_sync(repo.new_ticket, at=late)  # an earlier ticket of that day: T20261121-0001
        ids = TicketIds.for_store(store, "Asia/Shanghai")
        assert [await ids.next(late) for _ in range(2)] == ["T20261121-0002", "T20261121-0003"]
        assert await ids.next(late + dt.timedelta(minutes=1)) == "T20261122-0001"
        await store.flush()
        again = TicketIds.for_store(store, "Asia/Shanghai")  # a restarted server reads where it left off
        assert await again.next(late) == "T20261121-0004"
        assert store.run_sync(repo.last_ticket_seq, "T20261122-") == 1  # reserved rows are stored
    finally:
        store.close()


def test_reserve_writes_an_empty_draft_once(db_store):
    db_store.run_sync(reserve, "T20261121-0007")
    db_store.run_sync(reserve, "T20261121-0007")  # again, e.g. a retried batch: no error, no second row

    def rows(session):
        return [(t.id, t.status, t.extra, t.created_at is not None) for t in session.query(Ticket)]

    assert db_store.run_sync(rows) == [("T20261121-0007", "draft", {}, True)]
