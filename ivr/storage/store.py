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


class Store:
    """The process's single gateway to the database."""

    def __init__(self, engine: Engine, *, max_batch: int = 500, linger: float = 0.02) -> None:
        self.engine = engine
        self.Session = session_factory(engine)
        self.max_batch = max_batch
        self.linger = linger  # s a write-only batch waits for company; a result awaited ends it
        self.stats = StoreStats()
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._idle = threading.Condition()
        self._pending = 0
        self._thread = threading.Thread(target=self._work, name="hotline-db", daemon=True)
        self._thread.start()

    @classmethod
    def open(cls, url: str, *, upgrade: bool = True, **kw: Any) -> Store:
        """Connect to `url` and (by default) bring the schema up to date."""
        engine = make_engine(url)
        if upgrade:
            migrations.upgrade(engine)
        return cls(engine, **kw)

    # -- submitting work ---------------------------------------------------
    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Queue `fn(session, *args)`; returns at once (fire and forget, ordered)."""
        self._put(_Job(fn, args, kwargs))

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Queue `fn(session, *args)` and await its result (after its batch commits)."""
        return await self.request(fn, *args, **kwargs)

    def request(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> Request:
        """Queue `fn(session, *args)` now; its result (after its batch commits) comes in the future returned."""
        loop = asyncio.get_running_loop()
        job = _Job(fn, args, kwargs, loop, Request(loop=loop))
        self._put(job)
        return job.future

    def run_sync(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run `fn(session, *args)` in the caller's thread (CLI, tests), committed."""
        with self.Session.begin() as session:
            return fn(session, *args, **kwargs)

    def _put(self, job: _Job) -> None:
        with self._idle:
            self._pending += 1
        self._jobs.put(job)

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

