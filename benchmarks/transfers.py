"""Sub-center three-way transfer: how fast the sub-center hears the caller, and
how many three-way calls one center instance holds.

    python benchmarks/transfers.py [--transfers 60] [--max-calls 200]

Runs on the transfer lab of the tests (tests/transfer/support.py): a real
12345 center and a real sub-center (two embedded Asterisk instances on
loopback, joined by a PJSIP trunk) and the real server parts (FastAGI plan,
AMI tracker, SQLite store, hub, transfer service). Callers play a 1 kHz tone
pattern; agents are silent Local-channel agents; the simulated sub-center
agent answers at once and raises ChannelTalkingStart (TALK_DETECT) when the
caller's audio reaches it.

1. latency: for each of N calls answered by a 12345 agent, the time from
   `TransferService.transfer()` being called to the sub-center's
   ChannelTalkingStart (its agent hears the caller). Baseline, same run: a
   caller dialing the sub-center directly over the same trunk, from Originate
   to ChannelTalkingStart; the transfer's own cost is the difference.
2. capacity: calls are added in steps (10, 25, 50, 100, 150, 200), each
   answered by an agent and turned into a three-way call (caller, agent and
   sub-center on one mixing bridge, the agent staying on). After each step
   the calls are held for a few seconds: a step passes when every transfer
   connected, no call dropped and no sub-center agent stopped hearing its
   caller (no ChannelTalkingStop). The center's CPU use is reported per step.

Last line: one JSON object with the figures, the targets and "pass".
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.lab import scratch_lab  # noqa: E402
from tests.support.measure import cpu_seconds, print_run, quantile  # noqa: E402
from tests.transfer.support import Lab  # noqa: E402

TARGET_MEDIAN_MS = 500.0
TARGET_P95_MS = 1000.0
TARGET_CONCURRENT = 50
STEPS = (10, 25, 50, 100, 150, 200)
HOLD_S = 6.0


def _talk_start(lab: Lab, since: int, exclude: set[str]) -> dict | None:
    for e in lab.sub_ami.events[since:]:
        if e.get("Event") == "ChannelTalkingStart" and e.get("Channel") not in exclude:
            return e
    return None


async def _wait_talk(lab: Lab, since: int, timeout: float = 10.0) -> float:
    """Monotonic time at which the first new ChannelTalkingStart arrived."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _talk_start(lab, since, set()) is not None:
            return time.monotonic()
        await asyncio.sleep(0.002)
    raise TimeoutError("the sub-center never heard the caller")


async def _answered_call(lab: Lab) -> str:
    since = len(lab.ami.events)
    tag = await lab.ami.originate("12345", caller_context="xfer-bench-caller", timeout_ms=30000)
    ev = await lab.ami.wait_for(lambda e: e.get("Event") == "VarSet" and e.get("Variable") == "HOTLINE_TEST_TAG"
                                and e.get("Value") == tag, since=since)
    call_id = ev["Linkedid"]
    for _ in range(400):
        legs = lab.transfers.calls.legs(call_id)
        if legs is not None and legs.agent:
            return call_id
        await asyncio.sleep(0.025)
    raise TimeoutError(f"call {call_id} was not answered by an agent")


async def _hangup_call(lab: Lab, call_id: str) -> None:
    legs = lab.transfers.calls.legs(call_id)
    if legs and legs.caller:
        await lab.ami.action({"Action": "Hangup", "Channel": legs.caller})


async def measure_latency(lab: Lab, n: int) -> list[float]:
    out = []
    for _ in range(n):
        call_id = await _answered_call(lab)
        since = len(lab.sub_ami.events)
        t0 = time.monotonic()
        await lab.transfers.transfer(call_id, "subcenter", "tax", "threeway", agent=None)
        out.append((await _wait_talk(lab, since) - t0) * 1000)
        await _hangup_call(lab, call_id)
        await asyncio.sleep(0.2)
    return out


async def measure_baseline(lab: Lab, n: int) -> list[float]:
    out = []
    for i in range(n + 1):  # the first call warms the trunk up and is not counted
        since = len(lab.sub_ami.events)
        t0 = time.monotonic()
        await lab.ami.originate("12366", context="xfer-bench-direct", caller_context="xfer-bench-caller")
        heard = (await _wait_talk(lab, since) - t0) * 1000
        if i:
            out.append(heard)
        await lab.hangup_all()
    return out


async def _one_threeway(lab: Lab) -> tuple[str, str]:
    """(call id, "connected" or why not)."""
    try:
        call_id = await _answered_call(lab)
    except Exception as exc:
        return "", f"not answered: {type(exc).__name__}"
    try:
        result = await lab.transfers.transfer(call_id, "subcenter", "tax", "threeway", agent=None)
        for _ in range(600):
            xfer = lab.transfers.find(result["id"])
            if xfer.state == "connected":
                return call_id, "connected"
            if xfer.state in ("failed", "cancelled"):
                return call_id, f"{xfer.state} {xfer.reason}"
            await asyncio.sleep(0.025)
        return call_id, "not connected within 15 s"
    except Exception as exc:
        return call_id, f"transfer error: {type(exc).__name__}"


async def measure_capacity(lab: Lab, max_calls: int) -> tuple[int, list[dict]]:
    held, steps, calls = 0, [], []
    pid = lab.center.pid()
    for level in [s for s in STEPS if s <= max_calls]:
        started = time.monotonic()
        results = []
        while len(calls) + len(results) < level:
            batch = min(10, level - len(calls) - len(results))
            results += await asyncio.gather(*(_one_threeway(lab) for _ in range(batch)))
        calls += [c for c, _ in results if c]
        connected = sum(why == "connected" for _, why in results)
        problems = Counter(why for _, why in results if why != "connected")
        setup_s = time.monotonic() - started
        stop_since = len(lab.sub_ami.events)
        cpu0, t0 = cpu_seconds(pid), time.monotonic()
        await asyncio.sleep(HOLD_S)
        cpu = (cpu_seconds(pid) - cpu0) / (time.monotonic() - t0) * 100
        live = {c["Channel"] for c in await lab.channels()}
        alive = sum(1 for cid in calls if (lab.transfers.calls.legs(cid) or None) and
                    lab.transfers.calls.legs(cid).caller in live)
        sub_channels = len(await lab.channels(lab.sub_ami))
        stops = sum(1 for e in lab.sub_ami.events[stop_since:] if e.get("Event") == "ChannelTalkingStop")
        ok = connected == len(results) and alive == len(calls) == level and sub_channels >= level and stops == 0
        steps.append({"calls": level, "ok": ok, "transfers_connected": connected, "transfers_tried": len(results),
                      "calls_alive": alive, "subcenter_channels": sub_channels, "audio_breaks": stops,
                      "center_cpu_pct": round(cpu, 1), "setup_s": round(setup_s, 1), "problems": dict(problems)})
        print(f"  {level:4d} three-way calls: {'ok' if ok else 'FAILED'}  center CPU {cpu:5.1f}%  "
              f"connected {connected}/{len(results)}  alive {alive}  audio breaks {stops}  {dict(problems) or ''}",
              flush=True)
        if not ok:
            break
        held = level
    return held, steps



async def run(args) -> dict:
    async with scratch_lab(lambda work: Lab(work, answer_timeout=10), "xfer-bench-") as lab:
        await lab.set_subcenter(SIM_MODE="answer", SIM_SAY="", SIM_HOLD="600", SIM_RECORD="0", SIM_DELAY="")
        for i in range(max(args.max_calls, 1)):
            await lab.login(f"b{i}", context="xfer-bench-agents")
        print(f"baseline: {args.baseline} direct calls to the sub-center", flush=True)
        baseline = await measure_baseline(lab, args.baseline)
        print(f"latency: {args.transfers} three-way transfers", flush=True)
        latency = await measure_latency(lab, args.transfers)
        await lab.hangup_all()
        print("capacity: concurrent three-way calls", flush=True)
        held, steps = await measure_capacity(lab, args.max_calls)
    med, p95, base = statistics.median(latency), quantile(latency, 0.95), statistics.median(baseline)
    return {
        "transfer_to_heard_ms": {"median": round(med, 1), "p95": round(p95, 1), "max": round(max(latency), 1),
                                 "n": len(latency)},
        "baseline_direct_call_ms": {"median": round(base, 1), "p95": round(quantile(baseline, 0.95), 1),
                                    "max": round(max(baseline), 1), "n": len(baseline)},
        "transfer_overhead_median_ms": round(med - base, 1),
        "concurrent_threeway_calls_held": held, "bound": args.max_calls, "ramp": steps,
        "targets": {"median_ms": TARGET_MEDIAN_MS, "p95_ms": TARGET_P95_MS, "concurrent_min": TARGET_CONCURRENT},
        "pass": med <= TARGET_MEDIAN_MS and p95 <= TARGET_P95_MS and held >= TARGET_CONCURRENT,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--transfers", type=int, default=60, help="transfers timed (at least 50 for the figure)")
    ap.add_argument("--baseline", type=int, default=20, help="direct calls timed for the baseline")
    ap.add_argument("--max-calls", type=int, default=200, help="upper bound of the capacity ramp")
    args = ap.parse_args()
    return print_run(run(args))


if __name__ == "__main__":
    sys.exit(main())
