"""The engine's database steps on real SQLite: claims never double, the cap holds, restarts lose nothing."""
from __future__ import annotations

import datetime as dt
import itertools
import threading
from zoneinfo import ZoneInfo

from sqlalchemy.exc import OperationalError

from callbacks import repo
from callbacks.models import ensure_tables
from callbacks.policy import Policy
from callbacks.windows import CallingCalendar
from ivr.config.model import Callbacks
from ivr.storage.store import Store

SH = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 12, 3, 10, 0, tzinfo=SH)  # a Thursday morning, inside the window
_ids = itertools.count(1)


def make_id() -> str:
    return f"cb-test-{next(_ids)}"


def policy(**kw) -> Policy:
    cb = Callbacks(**({"channels": 4, "reserve_inbound": 1, "calendars": []} | kw))
    return Policy(cb, CallingCalendar.from_config(cb, "Asia/Shanghai"))


def open_store(tmp_path, name="h.db") -> Store:
    store = Store.open(f"sqlite:///{tmp_path / name}")
    ensure_tables(store.engine)
    return store


def add(store, p, number, at=NOW, ticket=None):
    return store.run_sync(repo.add_task, p, at, "survey", number, ticket, None)


def test_two_engines_claiming_at_once_never_take_the_same_task(tmp_path):
    """Two Stores on one database, claiming from two threads: each task is claimed once.

    SQLite serialises the writers (a stale claim fails with "database is
    locked" and is simply retried next turn); PostgreSQL relies on the
    claim's UPDATE ... WHERE state = 'pending'. Either way: no doubles.
    """
    p = policy(channels=60, reserve_inbound=10)
    a, b = open_store(tmp_path), open_store(tmp_path)
    try:
        for i in range(40):
            add(a, p, f"1391000{i:04d}")
        got: dict[str, list[dict]] = {"a": [], "b": []}

        races: list[str] = []

        def claimer(name, store):
            for _ in range(10):
                try:
                    got[name] += store.run_sync(repo.claim_due, p, NOW, "pstn", 0, make_id)
                except OperationalError as exc:  # lost a race: nothing written
                    races.append(str(exc.orig))

        threads = [threading.Thread(target=claimer, args=(n, s)) for n, s in (("a", a), ("b", b))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        claimed = [c["task"] for c in got["a"] + got["b"]]
        assert len(claimed) == len(set(claimed))          # nobody called twice
        assert all("locked" in r for r in races), races
        assert a.run_sync(repo.active_attempts) == len(claimed)
    finally:
        a.close()
        b.close()


def test_claims_respect_the_cap_and_due_time(tmp_path):
    p = policy()  # cap 3
    store = open_store(tmp_path)
    try:
        for i in range(5):
            add(store, p, f"1392000{i:04d}")
        later = add(store, p, "13920009999", at=NOW.replace(hour=22))[0]  # due tomorrow 09:00
        assert len(store.run_sync(repo.claim_due, p, NOW, "pstn", 0, make_id)) == 3
        assert store.run_sync(repo.claim_due, p, NOW, "pstn", 0, make_id) == []  # cap reached
        states = {t["id"]: t["state"] for t in store.run_sync(repo.list_tasks)}
        assert states[later["id"]] == "pending"
    finally:
        store.close()


def test_failed_attempt_is_retried_after_its_delay_then_given_up(tmp_path):
    p = policy(max_attempts=2, retry_after={"busy": 600})
    store = open_store(tmp_path)
    try:
        task = add(store, p, "13930000001")[0]
        [c] = store.run_sync(repo.claim_due, p, NOW, "pstn", 0, make_id)
        after = store.run_sync(repo.finish_attempt, p, c["channel_id"], "busy", {"hangup_cause": "17"}, NOW)
        assert after["state"] == "pending" and after["due_at"] == (NOW + dt.timedelta(minutes=10)).isoformat()
        # A second report of the same attempt (Hangup after OriginateResponse) changes nothing.
        assert store.run_sync(repo.finish_attempt, p, c["channel_id"], "busy", {}, NOW) is None
        assert store.run_sync(repo.claim_due, p, NOW + dt.timedelta(minutes=9), "pstn", 0, make_id) == []
        [c2] = store.run_sync(repo.claim_due, p, NOW + dt.timedelta(minutes=10), "pstn", 0, make_id)
        assert c2["no"] == 2
        done = store.run_sync(repo.finish_attempt, p, c2["channel_id"], "busy", {}, NOW + dt.timedelta(minutes=11))
        assert done["state"] == "done" and "最多2次" in done["reason"]
        log = store.run_sync(repo.get_task, task["id"])["attempt_log"]
        assert [(a["no"], a["cause"]) for a in log] == [(1, "busy"), (2, "busy")]
        assert log[0]["detail"] == {"hangup_cause": "17"}
    finally:
        store.close()


def test_restart_finds_open_attempts_and_a_cancelled_task_stays_cancelled(tmp_path):
    p = policy()
    store = open_store(tmp_path)
    try:
        t1, t2 = add(store, p, "13940000001")[0], add(store, p, "13940000002")[0]
        claims = store.run_sync(repo.claim_due, p, NOW, "pstn", 0, make_id)
    finally:
        store.close()
    store = open_store(tmp_path)  # "restart": a new Store on the same file
    try:
        assert sorted(store.run_sync(repo.unfinished_attempts)) == sorted(c["channel_id"] for c in claims)
        store.run_sync(repo.cancel_task, t2["id"], NOW)
        lost = next(c for c in claims if c["task"] == t1["id"])
        after = store.run_sync(repo.finish_attempt, p, lost["channel_id"], "failed", {"lost": "重启"}, NOW)
        assert after["state"] == "pending" and after["attempts"] == 1  # retried, not lost
        other = next(c for c in claims if c["task"] == t2["id"])
        assert store.run_sync(repo.finish_attempt, p, other["channel_id"], "answered", {}, NOW)["state"] == "cancelled"
    finally:
        store.close()


def test_missed_call_waits_for_a_free_agent_and_is_dropped_once_the_citizen_got_through(tmp_path):
    from ivr.storage.models import Call

    p = policy()
    store = open_store(tmp_path)
    try:
        a = store.run_sync(repo.add_task, p, NOW, "missed", "13950000001", None, None, delay_s=120,
                           origin={"linkedid": "1.1", "queue": "hotline-general", "hold_s": 30})[0]
        b = store.run_sync(repo.add_task, p, NOW, "missed", "13950000002", None, None, delay_s=120)[0]
        assert a["due_at"] == (NOW + dt.timedelta(minutes=2)).isoformat() and a["origin"]["hold_s"] == 30
        later = NOW + dt.timedelta(minutes=3)
        assert store.run_sync(repo.claim_due, p, later, "pstn", 0, make_id, {"missed": 0}) == []  # nobody free
        # 13950000002 called again a minute later and reached an agent: no callback.
        store.run_sync(lambda s: s.add(Call(linkedid="2.2", caller="13950000002", disposition="answered",
                                            started_at=NOW + dt.timedelta(minutes=1))))
        [c] = store.run_sync(repo.claim_due, p, later, "pstn", 0, make_id, {"missed": 5})
        assert c["task"] == a["id"]
        dropped = store.run_sync(repo.get_task, b["id"])
        assert dropped["state"] == "done" and "再次来电" in dropped["reason"] and dropped["attempts"] == 0
    finally:
        store.close()
