"""Does call tracking keep database I/O off the event loop? Store worker vs. commits on the loop.

    python benchmarks/tracker_store.py [--calls 200] [--rate 500] [--rounds 2] [--url URL]

The same tracker (ivr.calls.tracker) is fed the same AMI events — `--calls`
queue calls answered by an agent, each the 22-event Asterisk 22 sequence of
tests/ami_events.answered_call() with its own ids — twice, on fresh databases:

  baseline  every storage job runs on the event loop, one commit per job
            (what calling the repo functions directly from a handler does)
  store     `ivr.storage.store.Store`: jobs go to one worker thread that
            commits them in batches

A heartbeat task wakes every 2 ms and records how late it woke: that lateness
is what every other call, AGI request and websocket in the server would feel.
Events are fed at a steady `--rate` per second (500/s is some 15 new calls a
second, far above a city's peak hour), then the run waits for everything to be
written. Runs alternate (baseline, store, store, baseline ...) and the figures
are medians, so a busy neighbour on the machine hits both alike; the 1-minute
load average is printed because on a shared 2-core machine it explains most
of the spread between runs.

Last line: one JSON object with the figures, the targets and "pass".
"""
from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ivr.calls.tracker import CallTracker  # noqa: E402
from ivr.storage.store import Store  # noqa: E402
from tests.support import ami_events as A  # noqa: E402

TARGET_P99_LAG_MS = 10.0        # the loop may be late by at most this, 99% of the time
# The worst single lateness is printed but not a target: on a shared machine it
# measures the OS scheduler (other processes), not this code.


class OnLoopStore(Store):
    """The baseline: the same jobs, run synchronously on the caller's (the loop's) thread."""

    def submit(self, fn, *args, **kwargs) -> None:
        self.run_sync(fn, *args, **kwargs)

    async def run(self, fn, *args, **kwargs):
        return self.run_sync(fn, *args, **kwargs)


def call_events(n: int) -> list[dict]:
    """`n` answered calls, each with its own linkedid/uniqueids, interleaved 10 at a time."""
    template = A.answered_call()
    ids = {A.CALLER1.uid, A.AGENT1001_1.uid}
    calls = []
    for i in range(n):
        def rename(v: str, i=i) -> str:
            return f"{v}{i:05d}" if v in ids else v
        calls.append([{k: rename(v) for k, v in e.items()} for e in template])
    out = []
    for start in range(0, n, 10):  # ten calls in progress at once
        group = calls[start:start + 10]
        for step in range(len(template)):
            out += [c[step] for c in group]
    return out


async def run(store: Store, events: list[dict], rate: float) -> dict:
    async def publish(agent, kind, payload):
        pass

    tracker = CallTracker(store, publish, agents={"agent1001"})
    await tracker.start()
    lags: list[float] = []
    stop = asyncio.Event()

    async def heartbeat() -> None:
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            t = loop.time()
            await asyncio.sleep(0.002)
            lags.append((loop.time() - t - 0.002) * 1000)

    hb = asyncio.create_task(heartbeat())
    t0 = time.perf_counter()
    per_tick = max(1, int(rate / 100))
    for i in range(0, len(events), per_tick):
        for e in events[i:i + per_tick]:
            tracker.feed(e)
        await asyncio.sleep(0.01)
    await tracker.drain(timeout=300)
    elapsed = time.perf_counter() - t0
    stop.set()
    await hb
    await tracker.stop()
    lags.sort()
    return {
        "events": len(events), "seconds": round(elapsed, 2),
        "events_per_s": round(len(events) / elapsed),
        "lag_p50_ms": round(statistics.median(lags), 2),
        "lag_p99_ms": round(lags[int(len(lags) * 0.99)], 2),
        "lag_max_ms": round(lags[-1], 2),
        "errors": tracker.stats["errors"],
    }


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("--rate", type=float, default=500, help="AMI events fed per second")
    ap.add_argument("--rounds", type=int, default=2, help="baseline/store pairs, alternated")
    ap.add_argument("--url", help="database URL (emptied per run is up to you); default: SQLite in a temp dir")
    args = ap.parse_args()
    events = call_events(args.calls)
    runs: dict[str, list[dict]] = {"baseline": [], "store": []}
    order = []
    for r in range(args.rounds):  # b s s b ...: a busy neighbour hits both alike
        order += [("baseline", OnLoopStore), ("store", Store)][:: 1 if r % 2 == 0 else -1]
    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, cls) in enumerate(order):
            store = cls.open(args.url or f"sqlite:///{tmp}/{name}-{i}.db")
            result = await run(store, events, args.rate)
            if cls is Store:
                result["batches"] = store.stats.batches
            store.close()
            runs[name].append(result)
            print(name, result, flush=True)

    def med(name: str, key: str) -> float:
        return round(statistics.median(r[key] for r in runs[name]), 2)

    ours_p99, base_p99 = med("store", "lag_p99_ms"), med("baseline", "lag_p99_ms")
    ours_max = med("store", "lag_max_ms")
    errors = sum(r["errors"] for rs in runs.values() for r in rs)
    passed = ours_p99 <= TARGET_P99_LAG_MS and ours_p99 < base_p99 and errors == 0
    with open("/proc/loadavg") as f:
        load = float(f.read().split()[0])
    print(json.dumps({
        "benchmark": "tracker_store", "calls": args.calls, "events": len(events), "rate": args.rate,
        "rounds": args.rounds, "load_avg_1m": load,
        "store_lag_p99_ms": ours_p99, "store_lag_max_ms": ours_max,
        "baseline_lag_p99_ms": base_p99, "baseline_lag_max_ms": med("baseline", "lag_max_ms"),
        "store_events_per_s": med("store", "events_per_s"), "baseline_events_per_s": med("baseline", "events_per_s"),
        "targets": {"store_lag_p99_ms": f"<= {TARGET_P99_LAG_MS} and < baseline"},
        "pass": passed,
    }))


if __name__ == "__main__":
    asyncio.run(main())
