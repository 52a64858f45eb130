"""Call recording: Asterisk CPU per call with recording against without, disk use, QA throughput.

    python benchmarks/recording.py [--calls 10] [--rounds 3] [--window 6]

Runs on the recording lab of the tests (tests/recordings/lab.py): a real 12345
center (embedded Asterisk on loopback ports) with recording on, the real
server (FastAGI plan, AMI, SQLite store, the recordings plugin), callers that
speak a 1 kHz tone and simulated agents that speak a 1.5 kHz tone pattern.

1. CPU: in each round, N concurrent calls to 12345 (recorded: MixMonitor
   writes both sides) and N concurrent calls to 12399 (its queue is opted out:
   the same dialplan, queue and agents, no MixMonitor), in alternating order.
   While all N calls of a batch are connected, Asterisk's CPU time (from
   /proc) is read over a fixed window: CPU seconds per call-second. The ratio
   recorded / unrecorded (medians over the rounds, same run, same instance)
   must stay at or below 1.3.
2. Disk: bytes per minute of call of the finished stereo files (from the
   metadata rows the server wrote, which are also checked against the files).
3. QA throughput: every recorded call is transcribed (both sides) and scored
   by the real recognizer on `--qa-workers` threads while a batch of live
   (unrecorded) calls runs; recorded minutes processed per wall-clock minute.
   Live calls must all still be answered while it runs.

Last line: one JSON object with the figures, the targets and "pass".
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recordings.files import sha256_of  # noqa: E402
from tests.recordings.lab import RecLab  # noqa: E402
from tests.support.lab import scratch_lab  # noqa: E402
from tests.support.measure import cpu_seconds, print_run  # noqa: E402

TARGET_RATIO = 1.3


async def batch(lab: RecLab, number: str, calls: int, window: float) -> tuple[float, list[str]]:
    """N concurrent calls to `number`, held; Asterisk CPU seconds per call-second over `window`; the call ids."""
    hold = int(window + 4)
    placed = await asyncio.gather(*(lab.call(number, hold=hold) for _ in range(calls)))
    pid = lab.inst.pid()
    cpu0, t0 = cpu_seconds(pid), time.monotonic()
    await asyncio.sleep(window)
    cpu, wall = cpu_seconds(pid) - cpu0, time.monotonic() - t0
    ids = [cid for cid, _agent in placed]
    for cid in ids:
        await lab.ended(cid, timeout=hold + 30)
    return cpu / (calls * wall), ids


async def qa_throughput(lab: RecLab, rows: list[dict], workers: int, live_calls: int) -> dict:
    from ivr.speech.engine import SpeechEngine
    from recordings.qa_worker import model_path, transcribe_and_score

    engine = await asyncio.to_thread(SpeechEngine(model_path(lab.config), workers=workers).start)
    try:
        live = asyncio.ensure_future(batch(lab, "12399", live_calls, 4.0)) if live_calls else None
        t0 = time.monotonic()

        async def one(row: dict) -> None:
            await asyncio.to_thread(transcribe_and_score, engine, lab.recordings.folder, row, lab.config.recordings.qa)

        sem = asyncio.Semaphore(workers)

        async def bounded(row: dict) -> None:
            async with sem:
                await one(row)

        await asyncio.gather(*(bounded(r) for r in rows))
        wall = time.monotonic() - t0
        live_ok = True
        if live is not None:
            try:
                await live
            except AssertionError:
                live_ok = False
    finally:
        await asyncio.to_thread(engine.shutdown)
    audio = sum(r["duration"] for r in rows)
    return {"recorded_minutes": round(audio / 60, 2), "wall_minutes": round(wall / 60, 2),
            "minutes_per_minute": round(audio / wall, 2) if wall else None, "live_calls_answered": live_ok}


async def run(args: argparse.Namespace) -> dict:
    async with scratch_lab(lambda work: RecLab(work, agents=args.calls, qa=False), "bench-recording-") as lab:
        rec, plain, recorded_ids = [], [], []
        for i in range(args.rounds):
            order = (("12345", rec), ("12399", plain)) if i % 2 == 0 else (("12399", plain), ("12345", rec))
            for number, sink in order:
                per_call, ids = await batch(lab, number, args.calls, args.window)
                sink.append(per_call)
                if number == "12345":
                    recorded_ids += ids
            print(f"round {i + 1}: recorded {rec[-1] * 1000:.2f} ms CPU/call-s, "
                  f"unrecorded {plain[-1] * 1000:.2f} ms CPU/call-s", file=sys.stderr)
        rows = [await lab.row_for(cid, timeout=60) for cid in recorded_ids]
        ok = [r for r in rows if r["status"] == "ok"]
        matches = all(sha256_of(lab.folder / r["file"]) == r["sha256"] for r in ok)
        size, minutes = sum(r["size"] for r in ok), sum(r["duration"] for r in ok) / 60
        qa = await qa_throughput(lab, ok[: args.qa_calls], args.qa_workers, args.live_calls) if args.qa_calls else {}
    ratio = statistics.median(rec) / statistics.median(plain) if statistics.median(plain) > 0 else float("inf")
    result = {
        "calls_per_batch": args.calls, "rounds": args.rounds, "window_s": args.window,
        "cpu_ms_per_call_second": {"recorded": round(statistics.median(rec) * 1000, 3),
                                   "unrecorded": round(statistics.median(plain) * 1000, 3)},
        "cpu_ratio": round(ratio, 3), "target_ratio": TARGET_RATIO,
        "recordings": len(rows), "recordings_ok": len(ok), "sha256_match": matches,
        "disk_bytes_per_minute": round(size / minutes) if minutes else None,
        "qa": qa, "cores": os.cpu_count(),
    }
    result["pass"] = bool(ratio <= TARGET_RATIO and len(ok) == len(rows) == len(recorded_ids) and matches
                          and qa.get("live_calls_answered", True))
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=10, help="concurrent calls per batch")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--window", type=float, default=6.0, help="seconds of CPU measurement per batch")
    parser.add_argument("--qa-calls", type=int, default=6, help="recordings transcribed for QA throughput (0: skip)")
    parser.add_argument("--qa-workers", type=int, default=1)
    parser.add_argument("--live-calls", type=int, default=4, help="live calls during the QA run")
    args = parser.parse_args()
    return print_run(run(args))


if __name__ == "__main__":
    raise SystemExit(main())
