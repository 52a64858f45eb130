"""`Store`: runs repo functions in one worker thread, off the asyncio loop.

The tracker handles AMI events on the loop; a commit on SQLite or a round trip
to PostgreSQL would stall every call and websocket if it ran there. So every
database job is queued to one thread, which drains the queue in batches and
commits each batch in one transaction. A steady trickle of writes would
otherwise be committed one job at a time (~0.5 ms each on SQLite, too slow for
100 calls/s x ~20 writes), so when nobody awaits a result the worker lingers a
few milliseconds to gather more, and runs of consecutive jobs whose function
has a `bulk` attribute (repo.upsert_call/record_event) are handed to it
together, to be written in a few executemany statements; reads marked
`deferrable` (the tracker's screen-pop reads) wait for the end of such a run
instead of splitting it.
Jobs run in submission order, so a read queued after a write sees it. A job
that fails is retried alone, so one bad event never loses its batch-mates.

Reads that only need what is already committed (`Store.read`: a caller's
earlier calls for the screen-pop) take a second lane: a reader thread with its
own connection (SQLite in WAL mode and PostgreSQL both let it read while the
writer writes), so a pop never waits behind a batch of hundreds of writes.

The queue is bounded (`max_queue`). A database that is stuck or slow must not
take the calls down with it, so when the queue fills, fire-and-forget writes
are shed, least important first, each class once the queue is fuller than its
threshold (`SHED_AT`, by the function's `shed_rank`; docs/security.md,
"Bounded under faults"): call events, then speech ticket drafts, then call
records and transfers, then ticket-id reservations. Audit entries and awaited
requests are never shed: they may use a reserve above `max_queue`; beyond it a
request fails at once (`StoreFull`) and a lost audit entry is logged at ERROR.
Every shed job is counted (`stats.shed`) and `/healthz` reports it.
"""
from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Engine

from ivr.storage import migrations
from ivr.storage.db import make_engine, session_factory

log = logging.getLogger(__name__)
T = TypeVar("T")

# shed_rank -> how full (fraction of max_queue) the queue may be before such a
# fire-and-forget job is shed. Unmarked functions count as call records (3).
SHED_AT = {1: 0.5, 2: 0.7, 3: 0.9, 4: 1.0}
NEVER_SHED = 5    # audit (repo.log_access): kept while the reserve lasts
RESERVE = 0.25    # room above max_queue for audit entries and awaited requests
DEGRADED_FOR = 60.0  # s /healthz says "degraded" after the last shed job


class StoreFull(RuntimeError):
    """The database queue is full even for awaited requests: the database is far behind."""


class Request(asyncio.Future):
    """The result of a job queued with `Store.request`.

    `started` turns true when the worker takes up the batch holding the job:
    from then on the database is working on it, it is no longer waiting in line.
    """

    started = False


@dataclass
class _Job:
    fn: Callable[..., Any]
    args: tuple
    kwargs: dict
    loop: asyncio.AbstractEventLoop | None = None
    future: Request | None = None


@dataclass
class StoreStats:
    jobs: int = 0
    batches: int = 0
    failures: int = 0
    largest_batch: int = 0
    errors: list[str] = field(default_factory=list)  # last few, for diagnostics
    shed: dict[str, int] = field(default_factory=dict)  # function name -> jobs shed (queue full)
    last_shed: float = 0.0                               # time.monotonic() of the last one


class Store:
    """The process's single gateway to the database."""

    def __init__(self, engine: Engine, *, max_batch: int = 500, linger: float = 0.02,
                 max_queue: int = 20000) -> None:
        self.engine = engine
        self.Session = session_factory(engine)
        self.max_batch = max_batch
        self.linger = linger  # s a write-only batch waits for company; a result awaited ends it
        self.max_queue = max_queue
        self.stats = StoreStats()
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._idle = threading.Condition()
        self._pending = 0
        self._thread = threading.Thread(target=self._work, name="hotline-db", daemon=True)
        self._thread.start()
        self._reads: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._reader = threading.Thread(target=self._read_work, name="hotline-db-read", daemon=True)
        self._reader.start()

    @classmethod
    def open(cls, url: str, *, upgrade: bool = True, **kw: Any) -> Store:
        """Connect to `url` and (by default) bring the schema up to date."""
        engine = make_engine(url)
        if upgrade:
            migrations.upgrade(engine)
        return cls(engine, **kw)

    # -- submitting work ---------------------------------------------------
    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> bool:
        """Queue `fn(session, *args)`; returns at once (fire and forget, ordered).

        False when the job was shed because the queue is full (counted, see module doc).
        """
        return self._put(_Job(fn, args, kwargs), self._jobs)

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Queue `fn(session, *args)` and await its result (after its batch commits)."""
        return await self.request(fn, *args, **kwargs)

    def request(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> Request:
        """Queue `fn(session, *args)` now; its result (after its batch commits) comes in the future returned."""
        return self._awaited(self._jobs, fn, args, kwargs)

    def read(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> Request:
        """Like `request`, for a read that needs only committed data: it does not wait
        for the writes queued before it (the reader lane)."""
        return self._awaited(self._reads, fn, args, kwargs)

    def _awaited(self, lane: queue.SimpleQueue, fn: Callable[..., T], args: tuple, kwargs: dict) -> Request:
        loop = asyncio.get_running_loop()
        job = _Job(fn, args, kwargs, loop, Request(loop=loop))
        if not self._put(job, lane):
            job.future.set_exception(StoreFull("the database is too far behind: try again shortly"))
        return job.future

    def run_sync(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run `fn(session, *args)` in the caller's thread (CLI, tests), committed."""
        with self.Session.begin() as session:
            return fn(session, *args, **kwargs)

    def _put(self, job: _Job, lane: queue.SimpleQueue) -> bool:
        rank = NEVER_SHED if job.future is not None else getattr(job.fn, "shed_rank", 3)
        limit = self.max_queue * (SHED_AT[rank] if rank in SHED_AT else 1 + RESERVE)
        with self._idle:
            if self._pending >= limit:
                name = getattr(job.fn, "__name__", "job")
                self.stats.shed[name] = self.stats.shed.get(name, 0) + 1
                self.stats.last_shed = time.monotonic()
                shed = self.stats.shed[name]
            else:
                self._pending += 1
                shed = 0
        if not shed:
            lane.put(job)
            return True
        if rank >= NEVER_SHED and job.future is None:
            log.error("database queue full: audit entry %s LOST (%d so far)", job.fn.__name__, shed)
        elif shed == 1 or shed % 1000 == 0:
            log.warning("database queue full (%d jobs): shedding %s (%d so far)", self._pending,
                        getattr(job.fn, "__name__", "job"), shed)
        return False

    def queue_health(self) -> dict[str, Any]:
        """For /healthz: how full the queue is, and what was shed (degraded for a while after)."""
        pending = self._pending
        recent = self.stats.last_shed and time.monotonic() - self.stats.last_shed < DEGRADED_FOR
        return {"queued": pending, "max": self.max_queue, "shed": dict(self.stats.shed),
                "shed_total": sum(self.stats.shed.values()),
                "degraded": bool(recent or pending >= self.max_queue * SHED_AT[1])}

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Block until every queued job has run (tests, benchmarks, shutdown)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    async def flush(self, timeout: float = 30.0) -> bool:
        return await asyncio.get_running_loop().run_in_executor(None, self.wait_idle, timeout)

    def close(self) -> None:
        """Finish queued jobs, stop the worker and release connections."""
        if self._thread.is_alive():
            self._jobs.put(None)
            self._thread.join(timeout=60)
        if self._reader.is_alive():
            self._reads.put(None)
            self._reader.join(timeout=60)
        self.engine.dispose()

    # -- the worker --------------------------------------------------------
    def _work(self) -> None:
        stop = False
        while not stop:
            first = self._jobs.get()
            if first is None:
                break
            batch, stop = self._gather(first)
            self._run_batch(batch)
            with self._idle:
                self._pending -= len(batch)
                self._idle.notify_all()

    def _read_work(self) -> None:
        """The reader lane: one read at a time, each in its own transaction."""
        while (job := self._reads.get()) is not None:
            job.future.started = True
            self._run_alone(job)
            with self._idle:
                self._pending -= 1
                self._idle.notify_all()

    def _gather(self, first: _Job) -> tuple[list[_Job], bool]:
        """The batch that starts with `first`, and whether close() was asked for.

        Takes what is queued; while nobody awaits a result, also waits up to
        `linger` for more, so writes arriving one by one share a commit.
        """
        batch = [first]
        awaited = first.future is not None
        deadline = time.monotonic() + self.linger
        while len(batch) < self.max_batch:
            wait = 0.0 if awaited else deadline - time.monotonic()
            try:
                nxt = self._jobs.get(timeout=wait) if wait > 0 else self._jobs.get_nowait()
            except queue.Empty:
                break
            if nxt is None:
                return batch, True
            batch.append(nxt)
            awaited = awaited or nxt.future is not None
        return batch, False

    def _run_batch(self, batch: list[_Job]) -> None:
        for job in batch:
            if job.future is not None:
                job.future.started = True
        self.stats.batches += 1
        self.stats.jobs += len(batch)
        self.stats.largest_batch = max(self.stats.largest_batch, len(batch))
        try:
            with self.Session.begin() as session:
                results = _run_jobs(session, batch)
        except Exception:
            # Something in the batch failed: redo each job in its own transaction
            # so only the faulty one is lost.
            for job in batch:
                self._run_alone(job)
            return
        for job, result in zip(batch, results):
            _resolve(job, result, None)

    def _run_alone(self, job: _Job) -> None:
        try:
            with self.Session.begin() as session:
                result = job.fn(session, *job.args, **job.kwargs)
        except Exception as exc:
            self.stats.failures += 1
            self.stats.errors = (self.stats.errors + [f"{job.fn.__name__}: {type(exc).__name__}"])[-10:]
            # No exc text: SQL errors may carry caller numbers despite hide_parameters.
            log.error("database job %s failed: %s", job.fn.__name__, type(exc).__name__)
            _resolve(job, None, exc)
            return
        _resolve(job, result, None)


def _run_jobs(session, batch: list[_Job]) -> list[Any]:
    """Run `batch` in order; a run of jobs sharing a `bulk` function goes to it at once.

    A job whose function is marked `deferrable` (a read that may as well see
    writes queued after it) does not break such a run: it runs right after it.
    """
    results: list[Any] = [None] * len(batch)
    i = 0
    while i < len(batch):
        bulk = getattr(batch[i].fn, "bulk", None)
        if bulk is None:
            results[i] = _call(session, batch[i])
            i += 1
            continue
        run, later = [i], []
        i += 1
        while i < len(batch):
            fn = batch[i].fn
            if getattr(fn, "bulk", None) is bulk:
                run.append(i)
            elif getattr(fn, "deferrable", False):
                later.append(i)
            else:
                break
            i += 1
        for k, result in zip(run, bulk(session, [(batch[k].fn, batch[k].args, batch[k].kwargs) for k in run])):
            results[k] = result
        for k in later:
            results[k] = _call(session, batch[k])
    return results


def _call(session, job: _Job) -> Any:
    return job.fn(session, *job.args, **job.kwargs)


def _resolve(job: _Job, result: Any, exc: BaseException | None) -> None:
    if job.future is None or job.loop is None:
        return

    def _set() -> None:
        if job.future.cancelled():
            return
        if exc is not None:
            job.future.set_exception(exc)
        else:
            job.future.set_result(result)

    try:
        job.loop.call_soon_threadsafe(_set)
    except RuntimeError:  # loop already closed: nobody is waiting any more
        pass

