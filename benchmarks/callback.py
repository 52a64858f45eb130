"""Outbound campaign: 1,000 survey tasks against a simulated outside world.

    python benchmarks/callback.py [--tasks 1000] [--channels 12] [--reserve 2] [--inbound 20]

Runs on the callback lab of the tests (tests/callbacks/outside.py): a real
12345 center, a second Asterisk as the outside world over a PJSIP trunk
(numbers ending 0-6 answer and press 1, 7-8 are busy, 9 ring until the
center gives up: 30 % busy or no answer), the real server with the outbound
engine (max 3 attempts, 1 s retry delay, 5 s ring timeout).

Measured, same run:
- completion time of the campaign against the minimum the cap allows (the
  sum of every attempt's time on the trunk divided by the cap);
- the cap: the most attempts open at once, from the attempt rows (start/end)
  and from the engine's own count sampled every 50 ms: never above the cap;
- attempts started outside the calling windows (a window is set around the
  run; must be 0);
- inbound: `--inbound` calls to 12345 answered by simulated agents, placed
  before the campaign and again during it: answer time (originate to the
  agent's answer) without and with the campaign; none may be lost, and the
  median during the campaign at most 1.5 × the quiet one + 250 ms.
- answered: at least 95 % of the tasks whose number answers (numbers
  ending 0-6), within their 3 attempts; none of the others.

Last line: one JSON object with the figures and "pass".
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select  # noqa: E402

from callbacks.models import CallbackAttempt, CallbackTask  # noqa: E402
from tests.callbacks.outside import CallbackLab  # noqa: E402
from tests.support.lab import scratch_lab  # noqa: E402
from tests.support.measure import print_run  # noqa: E402

AGENTS = 4


def _window(now: dt.datetime) -> list[str]:
    """Local windows around the run: from an hour ago to two hours on (capped at midnight)."""
    local = now.astimezone(ZoneInfo("Asia/Shanghai"))
    start = max(local - dt.timedelta(hours=1), local.replace(hour=0, minute=0))
    end = min(local + dt.timedelta(hours=2), local.replace(hour=23, minute=59))
    return [f"{start:%H:%M}-{end:%H:%M}"]


async def inbound_answer_times(lab: CallbackLab, calls: int) -> list[float | None]:
    """Answer time (s) of `calls` calls to 12345 placed 0.5 s apart; None if no agent answered in 30 s.

    A watcher stamps each agent answer (AgentConnect on the caller's Local
    channel, tied to the call's tag by the TestCall event of its other half)
    when it sees it (20 ms polling).
    """
    ami = lab.center_ami
    started: dict[str, float] = {}
    answered: dict[str, float] = {}

    async def watch():
        seen, tags = len(ami.events), {}
        while True:
            for e in ami.events[seen:]:
                base = str(e.get("Channel", ""))[:-2]
                if e.get("UserEvent") == "TestCall" and e.get("Tag") in started:
                    tags[base] = e["Tag"]
                elif e.get("Event") == "AgentConnect" and base in tags:
                    answered.setdefault(tags[base], time.monotonic())
            seen = len(ami.events)
            await asyncio.sleep(0.02)

    watcher = asyncio.create_task(watch())
    try:
        for _ in range(calls):
            tag = await ami.originate("12345", caller_context="hotline-testcall", callerid="13700000001",
                                      variables={"HOTLINE_TEST_HOLD": "3", "__HOTLINE_TEST_HOLD": "2"})
            started[tag] = time.monotonic()
            await asyncio.sleep(0.5)
        for _ in range(1500):  # at most 30 s more
            if len(answered) == calls:
                break
            await asyncio.sleep(0.02)
    finally:
        watcher.cancel()
    return [answered[t] - s if t in answered else None for t, s in started.items()]


async def run(args) -> dict:
    now = dt.datetime.now(dt.timezone.utc)
    window = _window(now)
    days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun", "makeup", "holiday")
    async with scratch_lab(lambda work: CallbackLab(work, overrides={
        "callbacks.channels": args.channels, "callbacks.reserve_inbound": args.reserve,
        "callbacks.max_attempts": 3, "callbacks.windows": {d: window for d in days}}), "cb-bench-") as lab:
        for i in range(AGENTS):
            await lab.center_ami.action({"Action": "QueueAdd", "Queue": "hotline-general",
                                         "Interface": f"Local/b{i}@sim-agents/n", "MemberName": f"b{i}"},
                                        as_list=False)
        quiet = await inbound_answer_times(lab, args.inbound)
        engine = lab.engine
        cap = engine.policy.cap
        t0 = time.monotonic()
        ids = [(await engine.add("survey", f"1391{i:07d}"))[0]["id"] for i in range(args.tasks)]
        sampled = 0

        async def sample():
            nonlocal sampled
            while True:
                sampled = max(sampled, len(engine.live))
                await asyncio.sleep(0.05)

        sampler = asyncio.create_task(sample())
        busy = await inbound_answer_times(lab, args.inbound)
        await lab.settled(ids, timeout=args.tasks * 3 + 120)
        elapsed = time.monotonic() - t0
        sampler.cancel()
        store = lab.server.services.store

        def figures(session):
            attempts = session.execute(select(CallbackAttempt.started_at, CallbackAttempt.ended_at,
                                              CallbackAttempt.cause)).all()
            results = session.execute(select(CallbackTask.result, CallbackTask.attempts)).all()
            return attempts, results

        attempts, results = await store.run(figures)
    edges = sorted([(a.started_at, 1) for a in attempts] + [(a.ended_at, -1) for a in attempts],
                   key=lambda e: (e[0], e[1]))
    open_now = most = 0
    for _, step in edges:
        open_now += step
        most = max(most, open_now)
    trunk_s = sum((a.ended_at - a.started_at).total_seconds() for a in attempts)
    minimum = trunk_s / cap
    calendar = engine.policy.calendar
    outside = sum(not calendar.is_open(a.started_at) for a in attempts)
    causes: dict[str, int] = {}
    for a in attempts:
        causes[a.cause] = causes.get(a.cause, 0) + 1
    answered = sum(r.result == "answered" for r in results)
    answerable = sum(1 for i in range(args.tasks) if i % 10 <= 6)
    q = [x for x in quiet if x is not None]
    b = [x for x in busy if x is not None]
    return {
        "tasks": args.tasks, "cap": cap, "attempts": len(attempts), "causes": causes, "answered_tasks": answered,
        "answerable_tasks": answerable,
        "completion_s": round(elapsed, 1), "minimum_s": round(minimum, 1),
        "completion_over_minimum": round(elapsed / minimum, 2) if minimum else None,
        "cap_max_from_rows": most, "cap_max_sampled": max(sampled, engine.peak),
        "cap_exceeded": int(most > cap) + int(max(sampled, engine.peak) > cap), "outside_windows": outside,
        "inbound_calls": args.inbound, "inbound_lost": (len(quiet) - len(q)) + (len(busy) - len(b)),
        "inbound_answer_ms_median_quiet": round(statistics.median(q) * 1000) if q else None,
        "inbound_answer_ms_median_campaign": round(statistics.median(b) * 1000) if b else None,
        # The outside world on a loaded machine sometimes gives no final answer within the 5 s ring
        # timeout (recorded as no_answer and retried): 95 % of the answerable tasks must get through.
        "pass": most <= cap and max(sampled, engine.peak) <= cap and outside == 0 and len(q) == len(quiet)
        and len(b) == len(busy) and answerable * 0.95 <= answered <= answerable
        and (not q or not b or statistics.median(b) <= statistics.median(q) * 1.5 + 0.25),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tasks", type=int, default=1000)
    ap.add_argument("--channels", type=int, default=12, help="trunk channels (cap = channels - reserve)")
    ap.add_argument("--reserve", type=int, default=2, help="channels kept for inbound")
    ap.add_argument("--inbound", type=int, default=20, help="inbound calls timed without and during the campaign")
    args = ap.parse_args()
    return print_run(run(args))


if __name__ == "__main__":
    sys.exit(main())
