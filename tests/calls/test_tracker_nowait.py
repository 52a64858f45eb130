"""The call path never waits for the database, and nothing it writes is lost (SQLite and PostgreSQL).

A `Store` whose worker is stuck inside a job plays a database that hangs: the
tracker must still pop, answer, update and hang up on time, and every row must
land once the database is back. Also: `notify()` takes its turn behind the AMI
events fed before it (and is kept for a call not seen yet), and writes that
trickle in one by one share commits.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import threading
import time

import pytest
from panoramisk.message import Message

from ivr.calls.tracker import CallTracker
from ivr.storage import repo
from ivr.storage.store import Store
from tests.support import ami_events as A

pytest_plugins = ["tests.support.pg_server"]

UTC = dt.timezone.utc
LINE_NAMES = {"hrss-12333": "人社局 12333 热线"}
CALLER = "13912345678"  # A.CALLER1's number
TRANSCRIPT = {"event": "transcript", "transcript": {"final": "我想问养老金"}}


class Recorder:
    """publish() target: what the consoles were sent, and when."""

    def __init__(self) -> None:
        self.calls: list[tuple[float, str | None, str, dict]] = []

    async def __call__(self, agent: str | None, kind: str, payload: dict) -> None:
        self.calls.append((time.monotonic(), agent, kind, payload))

    def kinds(self) -> list[tuple[str | None, str, str | None]]:
        return [(a, k, p.get("event")) for _, a, k, p in self.calls]

    async def wait_for(self, kind: str, timeout: float = 5.0) -> tuple[float, str | None, str, dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for entry in self.calls:
                if entry[2] == kind:
                    return entry
            await asyncio.sleep(0.005)
        raise AssertionError(f"no {kind} published within {timeout} s; got {self.kinds()}")


class StuckDatabase:
    """Holds the store's worker inside a job until released: a database that does not answer."""

    def __init__(self, store: Store) -> None:
        self.gate = threading.Event()
        self.entered = threading.Event()
        store.submit(self._hang)
        assert self.entered.wait(10), "the store worker never picked up the blocking job"

    def _hang(self, session) -> None:
        self.entered.set()
        self.gate.wait(60)

    def release(self) -> None:
        self.gate.set()


@pytest.fixture
async def tracked(db_store):
    rec = Recorder()
    tracker = CallTracker(db_store, rec, agents={"agent1001", "agent1002"}, line_names=LINE_NAMES)
    await tracker.start()
    yield tracker, rec, db_store
    await tracker.stop()


def feed(tracker: CallTracker, events: list[dict]) -> None:
    for e in events:
        tracker.feed(Message(e))


def split(events: list[dict], name: str, **match: str) -> int:
    """Index just after the first event `name` (with fields `match`)."""
    for i, e in enumerate(events):
        if e["Event"] == name and all(e.get(k) == v for k, v in match.items()):
            return i + 1
    raise AssertionError(f"no {name} in the sequence")


async def test_pop_does_not_wait_for_a_stuck_database(tracked):
    tracker, rec, store = tracked
    earlier = dt.datetime.fromtimestamp(A.T0, UTC) - dt.timedelta(days=2)
    store.run_sync(repo.upsert_call, "1795051800.9", {"caller": CALLER, "started_at": earlier, "dialed": "12333"})
    events, lid = A.answered_call(), A.CALLER1.lid
    rung = split(events, "AgentCalled")
    answered = split(events, "BridgeEnter", Channel=A.AGENT1001_1.name)

    stuck = StuckDatabase(store)
    t0 = time.monotonic()
    feed(tracker, events[:rung])
    at, agent, _, ring = await rec.wait_for("ring")
    assert not stuck.gate.is_set()
    # Held at most pop_wait for its data, then sent with what the tracker knows.
    assert at - t0 < tracker.pop_wait + 1.0, f"the pop took {at - t0:.3f} s"
    assert agent == "agent1001"
    assert (ring["caller"], ring["dialed"], ring["line"], ring["line_name"], ring["department"], ring["queue"]) == (
        CALLER, "12333", "hrss-12333", "人社局 12333 热线", "市人社局", "hrss-expert")
    # The history is read on the Store's reader lane, which the stuck writer does not hold up;
    # the ticket (read in order after the writes queued before it) is still on its way.
    assert [h["call_id"] for h in ring["history"]] == ["1795051800.9"]
    assert ring["ticket"] == {"id": A.TICKET1}

    feed(tracker, events[rung:answered])
    await rec.wait_for("answer")
    assert await asyncio.wait_for(tracker.notify(lid, TRANSCRIPT), 5) == "agent1001"
    assert rec.kinds() == [(None, "update", "queued"), ("agent1001", "ring", None), ("agent1001", "answer", None),
                           ("agent1001", "update", "transcript")]
    assert store.run_sync(repo.get_call, lid) is None  # really nothing written yet: all of it waits

    stuck.release()
    await tracker.drain()
    # The data the pops went without follows, to the agent who has the call.
    follow = rec.calls[4:]
    assert follow and all((a, k, p["event"], p["call_id"]) == ("agent1001", "update", "info", lid)
                          for _, a, k, p in follow)
    late = {key: value for *_, p in follow for key, value in p.items()}
    assert "history" not in late  # it came with the pop
    assert late["ticket"]["id"] == A.TICKET1 and late["ticket"]["status"] == "draft"

    feed(tracker, events[answered:])
    await tracker.drain()
    assert rec.kinds()[-1] == ("agent1001", "hangup", None)
    call = store.run_sync(repo.get_call, lid)
    assert (call["caller"], call["line"], call["agent"], call["ticket_id"], call["disposition"], call["talk_s"]) == (
        CALLER, "hrss-12333", "agent1001", A.TICKET1, "answered", 60.0)
    kinds = [e["kind"] for e in store.run_sync(repo.call_events, lid)]
    assert kinds == ["var"] * 12 + ["queued", "ring", "queue_leave", "answer", "transcript", "hangup",
                                    "agent_complete"]
    assert store.run_sync(repo.ticket_draft, A.TICKET1)["call_id"] == lid
    assert tracker.stats["errors"] == 0 and store.stats.failures == 0


async def test_notify_takes_its_turn_behind_fed_events(tracked):
    """The tracker has not handled the call's events yet: the update waits for them, it is not lost."""
    tracker, rec, store = tracked
    events = A.answered_call()
    feed(tracker, events[:split(events, "AgentConnect")])  # queued, not handled yet
    assert await tracker.notify(A.CALLER1.lid, TRANSCRIPT) == "agent1001"
    await tracker.drain()
    assert rec.kinds() == [(None, "update", "queued"), ("agent1001", "ring", None), ("agent1001", "answer", None),
                           ("agent1001", "update", "transcript")]
    assert rec.calls[-1][3] == {**TRANSCRIPT, "call_id": A.CALLER1.lid}


async def test_notify_for_a_call_not_seen_yet_is_kept(tracked):
    tracker, rec, store = tracked
    lid = A.CALLER1.lid
    assert await tracker.notify(lid, TRANSCRIPT) is None  # no such call yet: kept
    assert rec.calls == []
    feed(tracker, A.answered_call())
    await tracker.drain()
    # Applied once the call exists: before any agent had it, so to supervisors only.
    assert rec.kinds()[:2] == [(None, "update", "transcript"), (None, "update", "queued")]
    kinds = [e["kind"] for e in store.run_sync(repo.call_events, lid)]
    assert kinds[0] == "transcript" and kinds.count("transcript") == 1
    # After the hangup an update is still stored, but no console is told.
    assert await tracker.notify(lid, {"event": "transcript", "transcript": {"final": "谢谢"}}) is None
    await tracker.drain()
    assert [e["kind"] for e in store.run_sync(repo.call_events, lid)].count("transcript") == 2
    assert rec.kinds()[-1] == ("agent1001", "hangup", None)


async def test_writes_arriving_one_by_one_share_commits(db_store):
    """Jobs submitted a millisecond apart are committed together, with the result of running them in order."""
    t0 = dt.datetime(2026, 11, 21, 1, 30, tzinfo=UTC)
    jobs = 0
    for i in range(300):
        lid = f"trickle-{i % 5}"
        db_store.submit(repo.upsert_call, lid, {"line": f"line-{i}", "started_at": t0 + dt.timedelta(seconds=i)})
        db_store.submit(repo.record_event, lid, t0, "tick", {"i": i})
        jobs += 2
        await asyncio.sleep(0.001)
    assert await db_store.flush()
    stats = db_store.stats
    assert stats.jobs == jobs and stats.failures == 0
    assert stats.batches * 4 <= jobs, f"{stats.batches} commits for {jobs} trickled jobs"
    for k in range(5):
        call = db_store.run_sync(repo.get_call, f"trickle-{k}")
        last = 295 + k  # the last i with i % 5 == k: later fields win
        assert call["line"] == f"line-{last}"
        assert call["started_at"] == (t0 + dt.timedelta(seconds=last)).isoformat()
        ticks = [e["data"]["i"] for e in db_store.run_sync(repo.call_events, f"trickle-{k}")]
        assert ticks == list(range(k, 300, 5))


async def test_a_draft_saved_by_another_service_is_in_the_next_pop(tracked):
    """The speech service saves the ticket draft, then notify()s: the answer pop shows the saved draft."""
    tracker, rec, store = tracked
    events, lid = A.answered_call(), A.CALLER1.lid
    rung, answered = split(events, "AgentCalled"), split(events, "BridgeEnter", Channel=A.AGENT1001_1.name)
    feed(tracker, events[:rung])
    await tracker.drain()
    ring = rec.calls[-1][3]
    assert ring["ticket"]["id"] == A.TICKET1 and ring["ticket"]["summary"] is None

    store.submit(repo.save_ticket_draft, A.TICKET1, {"summary": "养老保险关系转移"}, "speech")
    note = {"event": "ticket", "ticket": {"id": A.TICKET1, "summary": "养老保险关系转移"}}
    assert await tracker.notify(lid, note) == "agent1001"
    feed(tracker, events[rung:answered])
    await tracker.drain()
    assert rec.kinds()[-2:] == [("agent1001", "update", "ticket"), ("agent1001", "answer", None)]
    answer = rec.calls[-1][3]
    assert answer["ticket"]["summary"] == "养老保险关系转移" and answer["ticket"]["updated_by"] == "speech"
