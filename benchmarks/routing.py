"""Calls per second Asterisk completes through the FastAGI-routed inbound context
vs. the same calls through a static dialplan with the same outcome.

    .venv/bin/python benchmarks/routing.py [--calls 8000] [--concurrency 30]

One run, one Asterisk: the benchmark starts its own embedded center instance
(ports chosen free, 127.0.0.1 only) and its own HotlineServer exactly as
`hotline serve` runs it (AMI, tracker, web and SQLite in one process, FastAGI
in its worker process; in a child process so the load driver does not share
its event loop). Server CPU is both processes' (and the floor responder's).

routed  `Local/<n>@hotline-inbound`: the generated plan, `AGI(route)` asks the
        server (decision, a ticket id handed out from memory, the HOTLINE_* channel
        variables), then `hotline-act-<action>` carries it out.
static  `Local/<n>@bench-static`: generated here from the same decisions: the
        same Set()s with the same values (a fixed ticket id: a static plan has
        no database), then the same `hotline-act-<action>` context.
floor   the routed calls again, with Asterisk's HOTLINE_AGI pointed at
        benchmarks/floor_agi.py: a bare responder sending each number's MSet
        computed in advance (no tracker, no ticket ids, no logging). Not the
        target: the best any FastAGI server could do on this machine, so what
        is Asterisk's own AGI cost and what is ours can be told apart.

The outcome must end quickly and identically on all paths: the shipped plan's
full-merge lines, set to end the call after the prompt (`during: hangup`), with
their dates moved so that today is inside their transition (the server runs
on the real clock, as in production): Answer, Playback of the merged prompt,
Hangup.
The prompt sounds are replaced by 20 ms of silence: what is measured is
routing, not playback. Before the timed run one call per number and path is
followed event by event: HOTLINE_* variables and the steps run after the
decision must be identical on all paths (ticket ids aside).

Load: AMI Originate of Local channels (the caller half just waits), at most
`--concurrency` in flight, completions counted from the caller halves' Hangup
events. Static, routed and floor slices take turns so background load hits all
alike; after each slice the server may finish its AMI backlog, which counts as that
slice's CPU (read from /proc for Asterisk and the server).

Last line: one JSON object with the figures, the target and "pass".
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import logging
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the shared helpers in tests/support
import yaml  # noqa: E402
from pydub import AudioSegment  # noqa: E402

from ivr.ami.client import AmiClient, AmiError  # noqa: E402
from ivr.asterisk import rootfs  # noqa: E402
from ivr.asterisk.embedded import install_agi_scripts  # noqa: E402
from ivr.asterisk.instance import Instance  # noqa: E402
from ivr.config.loader import load_config  # noqa: E402
from ivr.config.model import Config  # noqa: E402
from ivr.dialplan.build import instance_files  # noqa: E402
from ivr.paths import REPO  # noqa: E402
from ivr.plan.decide import Plan  # noqa: E402
from tests.support.measure import cpu_seconds, free_port, load_average, quantile  # noqa: E402

TARGET_RATIO = 0.9
MOMENT = dt.datetime.now(dt.timezone(dt.timedelta(hours=8)))  # the run's day: inside the transition
ROOT = Path(os.environ.get("HOTLINE_ASTERISK_ROOT", "/var/lib/hotline/asterisk-root"))
STATIC_CONTEXT = "bench-static"
STATIC_TICKET = "T00000000-0000"
CALLER_WAIT = 10  # the caller half's Wait(): bounds a call that would not end
SLICES = 16       # per path, taking turns (500 calls each by default)
PHASE_LIMIT = 60  # seconds: a slice that has not finished by then is cut short


# -- the configuration under test ------------------------------------------------
def bench_config(folder: Path, ami_port: int, agi_port: int, sip_port: int) -> Path:
    """The shipped config.yaml, full-merge lines ending the call after the prompt, our ports."""
    data = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
    for line in data["lines"]:
        if line.get("mode") == "full_merge":
            line["during"] = "hangup"
            line["effective"] = MOMENT.date() - dt.timedelta(days=30)
            line["transition_end"] = MOMENT.date() + dt.timedelta(days=60)
    data["asterisk"] |= {"sip_port": sip_port, "root": str(ROOT)}
    data["asterisk"]["ami"] |= {"port": ami_port}
    data["fastagi"] |= {"port": agi_port}
    data["web"] |= {"port": 0}
    data["database"] = {"url": f"sqlite:///{folder}/bench.db"}
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def bench_numbers(config: Config) -> list[str]:
    return [n for line in config.lines if line.mode.value == "full_merge" for n in line.numbers + line.aliases]


def static_dialplan(config: Config, numbers: list[str]) -> str:
    """Each number does exactly what the plan decides at MOMENT, with no server."""
    plan = Plan(config)
    out = [f"; Generated by benchmarks/routing.py: the plan's decisions at {MOMENT.isoformat()}, static.\n"
           f"[{STATIC_CONTEXT}]\n"]
    for number in numbers:
        variables = plan.decide(number, MOMENT).channel_vars()
        action = variables.pop("HOTLINE_ACTION")
        variables.pop("HOTLINE_DIALED")
        variables["HOTLINE_TICKET"] = STATIC_TICKET
        steps = ["Set(__HOTLINE_DIALED=${EXTEN})"] + [f"Set(__{k}={v})" for k, v in variables.items()]
        steps += [f"Set(__HOTLINE_ACTION={action})", f"Goto(hotline-act-{action},s,1)"]
        out.append(f"exten => {number},1,{steps[0]}\n" + "".join(f" same => n,{s}\n" for s in steps[1:]))
    return "".join(out)


def start_center(config: Config, numbers: list[str], ami_port: int, agi_port: int, sip_port: int,
                 secret: str) -> Instance:
    rootfs.ensure_root(ROOT)
    inst = Instance(name=f"bench-routing-{os.getpid()}-{uuid.uuid4().hex[:6]}", root=ROOT, sip_port=sip_port,
                    ami_port=ami_port, ami_user=config.asterisk.ami.username, ami_secret=secret, agi_port=agi_port)
    inst.write_config(instance_files(config, "center") | {"extensions_bench.conf": static_dialplan(config, numbers)})
    install_agi_scripts(inst)
    plan = Plan(config)
    for number in numbers:
        AudioSegment.silent(20, frame_rate=8000).export(inst.sounds / f"{plan.decide(number, MOMENT).prompt_id}.wav",
                                                        format="wav")
    inst.start()
    return inst


# -- the server, in its own process -------------------------------------------------
async def serve(config_path: Path) -> None:
    from ivr.server import HotlineServer

    config = load_config(config_path)
    server = HotlineServer(config, ami_secret=os.environ["HOTLINE_AMI_SECRET"])
    await server.start()
    if not await server.services.ami.wait_connected(10):
        raise SystemExit("server: no AMI login")
    print("ready", flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_reader(sys.stdin.fileno(), stop.set)  # parent done or gone: stdin closes
    await stop.wait()
    await server.stop()


def start_server(config_path: Path, secret: str, log: Path) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, __file__, "--serve", str(config_path)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=log.open("ab"), text=True,
                            env={**os.environ, "HOTLINE_AMI_SECRET": secret})
    if proc.stdout.readline().strip() != "ready":  # type: ignore[union-attr]
        proc.kill()
        raise SystemExit(f"the server did not start; see {log}")
    return proc


def start_floor(config_path: Path, log: Path) -> tuple[subprocess.Popen, int]:
    proc = subprocess.Popen([sys.executable, str(Path(__file__).with_name("floor_agi.py")), str(config_path)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log.open("ab"), text=True)
    port = proc.stdout.readline().strip()  # type: ignore[union-attr]
    if not port.isdigit():
        proc.kill()
        raise SystemExit(f"the floor responder did not start; see {log}")
    return proc, int(port)


async def settle(pids: dict[str, int], limit: float = 20.0) -> None:
    """Wait until Asterisk and the server are idle again (under 10% CPU over 200 ms)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        before = {k: cpu_seconds(pid, children=True) for k, pid in pids.items()}
        await asyncio.sleep(0.2)
        if all(cpu_seconds(pid, children=True) - before[k] < 0.02 for k, pid in pids.items()):
            return


# -- load --------------------------------------------------------------------------
class Driver:
    """Originates calls with bounded concurrency; a caller half's Hangup is a completed call."""

    def __init__(self, ami: AmiClient, concurrency: int) -> None:
        self.ami = ami
        self.slots = asyncio.Semaphore(concurrency)
        self.sent: dict[str, float] = {}
        self.latencies: list[float] = []
        self.fallbacks = 0
        self.failed = 0
        self.all_done = asyncio.Event()
        ami.on("Hangup", self._hangup)
        ami.on("VarSet", self._varset)
        ami.on("OriginateResponse", self._response)

    def _hangup(self, e) -> None:
        caller = e.get("CallerIDNum", "")
        if e.get("Channel", "").endswith(";1") and caller in self.sent:
            self.latencies.append(time.perf_counter() - self.sent.pop(caller))
            self.slots.release()
            if not self.sent:
                self.all_done.set()

    def _varset(self, e) -> None:
        if e.get("Variable", "").lstrip("_") == "HOTLINE_FALLBACK" and e.get("Value") == "1":
            self.fallbacks += 1

    def _response(self, e) -> None:
        if e.get("Response") != "Success":
            self.failed += 1

    async def run(self, context: str, numbers: list[str], calls: int, serial: int) -> tuple[int, float, list[float]]:
        """Place `calls` calls into `context`; (completed, elapsed s, latencies)."""
        self.latencies = []
        start = time.perf_counter()
        pending = []
        for i in range(calls):
            await self.slots.acquire()
            # not awaited one by one: the driver must never be what limits the rate
            pending.append(asyncio.ensure_future(self._originate(context, numbers[i % len(numbers)],
                                                                 f"139{serial + i:08d}")))
        await asyncio.gather(*pending)
        self.all_done.clear()
        if self.sent:
            try:
                await asyncio.wait_for(self.all_done.wait(), PHASE_LIMIT)
            except asyncio.TimeoutError:
                for _ in self.sent:
                    self.slots.release()
                self.sent.clear()
        return len(self.latencies), time.perf_counter() - start, self.latencies

    async def _originate(self, context: str, number: str, caller: str) -> None:
        self.sent[caller] = time.perf_counter()  # the caller number is unique per call: matches its Hangup
        try:
            await self.ami.action({
                "Action": "Originate", "Channel": f"Local/{number}@{context}", "Application": "Wait",
                "Data": str(CALLER_WAIT), "Async": "true", "Timeout": "10000", "CallerID": f'"bench" <{caller}>'})
        except AmiError:
            self.failed += 1
            if self.sent.pop(caller, None) is not None:
                self.slots.release()


async def filter_events(ami: AmiClient) -> None:
    """Only what the driver needs crosses its AMI connection (the server's sees everything)."""
    for rule in ("Event: Hangup", "Event: OriginateResponse", "Variable: __HOTLINE_FALLBACK"):
        await ami.action({"Action": "Filter", "Operation": "Add", "Filter": rule})


# -- the outcome check: both paths do the same thing ---------------------------------
async def outcome(ami: AmiClient, events: list[dict], context: str, number: str) -> tuple[dict, list[str]]:
    """One call with every event: its HOTLINE_* variables and the steps run after the decision."""
    since = len(events)
    caller = f"138{secrets.randbelow(10**8):08d}"
    await ami.action({"Action": "Originate", "Channel": f"Local/{number}@{context}", "Application": "Wait",
                      "Data": str(CALLER_WAIT), "Async": "true", "CallerID": f'"check" <{caller}>'})

    def ended() -> bool:
        return any(e.get("Event") == "Hangup" and e.get("CallerIDNum") == caller and e.get("Channel", "").endswith(";1")
                   for e in events[since:])

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not ended():
        await asyncio.sleep(0.05)
    linked = next((e["Linkedid"] for e in events[since:] if e.get("CallerIDNum") == caller and "Linkedid" in e), "")
    mine = [e for e in events[since:] if e.get("Linkedid") == linked]
    variables = {e["Variable"].lstrip("_"): e.get("Value") or "" for e in mine
                 if e.get("Event") == "VarSet" and e.get("Variable", "").lstrip("_").startswith("HOTLINE_")}
    variables.pop("HOTLINE_TICKET", None)
    steps = [f"{e['Context']}:{e['Application']}({e.get('AppData') or ''})" for e in mine
             if e.get("Event") == "Newexten" and e.get("Context", "").startswith("hotline-act-")]
    return variables, steps


async def use_agi(ami: AmiClient, url: str) -> None:
    """Point the inbound context's AGI() at `url` (the global HOTLINE_AGI): our server or the floor."""
    await ami.action({"Action": "Setvar", "Variable": "HOTLINE_AGI", "Value": url})


async def same_outcome(ami: AmiClient, numbers: list[str], agi: dict[str, str]) -> list[str]:
    """Differences between each AGI path and the static one, number by number (empty: identical)."""
    events: list[dict] = []
    ami.on("*", lambda e: events.append(dict(e)))
    problems = []
    for path, url in agi.items():
        await use_agi(ami, url)
        for number in numbers:
            routed = await outcome(ami, events, "hotline-inbound", number)
            static = await outcome(ami, events, STATIC_CONTEXT, number)
            if routed != static or not routed[1] or not routed[1][-1].endswith("Hangup()"):
                problems.append(f"{number}: {path} {routed} vs static {static}")
    return problems


# -- the run -------------------------------------------------------------------------
def summary(name: str, completed: int, elapsed: float, lat: list[float], cpu: dict[str, float]) -> dict:
    def pct(q: float) -> float:
        v = quantile(lat, q)
        return round(v * 1e3, 1) if v is not None else float("nan")

    return {"path": name, "calls": completed, "seconds": round(elapsed, 2),
            "calls_per_s": round(completed / elapsed, 1) if elapsed else 0.0, "p50_ms": pct(0.5), "p99_ms": pct(0.99),
            "asterisk_cpu_ms_per_call": round(cpu["asterisk"] / max(1, completed) * 1e3, 2),
            "server_cpu_ms_per_call": round(cpu["server"] / max(1, completed) * 1e3, 2)}


async def measure(config: Config, inst: Instance, procs: dict[str, subprocess.Popen], floor_port: int, calls: int,
                  concurrency: int) -> tuple[dict, list[str], dict[str, list[float]], Driver]:
    a = config.asterisk.ami
    check = AmiClient(a.host, a.port, a.username, inst.ami_secret)
    driver_ami = AmiClient(a.host, a.port, a.username, inst.ami_secret)
    try:
        if not (await check.connect(10) and await driver_ami.connect(10)):
            raise SystemExit("no AMI login to the benchmark's Asterisk")
        numbers = bench_numbers(config)
        agi = {"routed": f"agi://{config.fastagi.host}:{config.fastagi.port}", "floor": f"agi://127.0.0.1:{floor_port}"}
        problems = await same_outcome(check, numbers, agi)
        await check.close()
        await filter_events(driver_ami)
        driver = Driver(driver_ami, concurrency)
        # Server CPU: ours (server and worker) plus the floor responder, idle outside its own slices.
        pids = {"asterisk": inst.pid() or 0, **{name: p.pid for name, p in procs.items()}}
        paths = ("static", "routed", "floor")
        acc = {p: {"completed": 0, "elapsed": 0.0, "lat": [], "cpu": defaultdict(float)} for p in paths}
        await use_agi(driver_ami, agi["routed"])
        await driver.run("hotline-inbound", numbers, 2 * concurrency, 0)  # warm-up: threads, DB, caches
        await driver.run(STATIC_CONTEXT, numbers, 2 * concurrency, 10**6)
        slice_ratios: dict[str, list[float]] = {"routed": [], "floor": []}
        serial = 2 * 10**6
        per_slice = max(1, calls // SLICES)
        for i in range(SLICES):
            rates = {}
            for path in paths[i % 3:] + paths[:i % 3]:
                if path in agi:
                    await use_agi(driver_ami, agi[path])
                cpu0 = {k: cpu_seconds(pid, children=True) for k, pid in pids.items()}
                context = STATIC_CONTEXT if path == "static" else "hotline-inbound"
                completed, elapsed, lat = await driver.run(context, numbers, per_slice, serial)
                serial += per_slice
                await settle(pids)  # the server's AMI backlog of this slice is this slice's cost, not the next one's
                r = acc[path]
                for k, pid in pids.items():
                    r["cpu"]["asterisk" if k == "asterisk" else "server"] += cpu_seconds(pid, children=True) - cpu0[k]
                r["completed"] += completed
                r["elapsed"] += elapsed
                r["lat"] += lat
                rates[path] = completed / elapsed
            for path in slice_ratios:
                slice_ratios[path].append(rates[path] / max(rates["static"], 1e-9))
        results = {p: summary(p, r["completed"], r["elapsed"], r["lat"], r["cpu"]) for p, r in acc.items()}
        return results, problems, slice_ratios, driver
    finally:
        await check.close()
        await driver_ami.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--serve", metavar="CONFIG", help=argparse.SUPPRESS)
    ap.add_argument("--calls", type=int, default=8000, help="calls per path (default 8000)")
    ap.add_argument("--concurrency", type=int, default=30, help="calls in flight at most (default 30)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.serve:
        logging.getLogger().setLevel(logging.INFO)  # as `hotline serve` runs: per-call log lines included
        asyncio.run(serve(Path(args.serve)))
        return 0

    started = time.monotonic()
    load_before = load_average()
    secret = "bench-" + secrets.token_hex(8)
    with tempfile.TemporaryDirectory(prefix="bench-routing-") as tmp:
        folder = Path(tmp)
        ports = {"ami_port": free_port(), "agi_port": free_port(), "sip_port": free_port(socket.SOCK_DGRAM)}
        config_path = bench_config(folder, **ports)
        config = load_config(config_path, env={})
        numbers = bench_numbers(config)
        inst = start_center(config, numbers, secret=secret, **ports)
        procs: dict[str, subprocess.Popen] = {}
        try:
            procs["server"] = start_server(config_path, secret, folder / "server.log")
            procs["floor"], floor_port = start_floor(config_path, folder / "floor.log")
            results, problems, slice_ratios, driver = asyncio.run(measure(config, inst, procs, floor_port,
                                                                          args.calls, args.concurrency))
        finally:
            for proc in procs.values():
                proc.stdin.close()  # type: ignore[union-attr]
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    proc.send_signal(signal.SIGKILL)
                    proc.wait()
            inst.remove()

    static, routed, floor = results["static"], results["routed"], results["floor"]
    ratio = routed["calls_per_s"] / max(static["calls_per_s"], 1e-9)
    floor_ratio = floor["calls_per_s"] / max(static["calls_per_s"], 1e-9)
    load = load_average()
    print(f"{len(numbers)} numbers ({', '.join(numbers)}) at {MOMENT.isoformat()}: prompt_then_hangup; "
          f"{args.concurrency} calls in flight; {SLICES} slices per path, taking turns")
    print("outcome check (variables and steps, routed and floor vs static): "
          + ("identical" if not problems else "DIFFERENT"))
    for p in problems:
        print(f"  {p}")
    print(f"{'path':<8} {'calls':>6} {'seconds':>8} {'calls/s':>8} {'p50 ms':>7} {'p99 ms':>7} "
          f"{'asterisk cpu ms/call':>21} {'server cpu ms/call':>19}")
    for r in (static, routed, floor):
        print(f"{r['path']:<8} {r['calls']:>6} {r['seconds']:>8.2f} {r['calls_per_s']:>8.1f} {r['p50_ms']:>7.1f} "
              f"{r['p99_ms']:>7.1f} {r['asterisk_cpu_ms_per_call']:>21.2f} {r['server_cpu_ms_per_call']:>19.2f}")
    ast_ratio = {r["path"]: static["asterisk_cpu_ms_per_call"] / max(r["asterisk_cpu_ms_per_call"], 1e-9)
                 for r in (routed, floor)}
    print(f"Asterisk alone, CPU per call static/routed {ast_ratio['routed']:.2f}, static/floor "
          f"{ast_ratio['floor']:.2f}: its own cost of the AGI (connect, one write per header line, reading the "
          "command, AGIExec events); with the server on cores of its own, Asterisk-bound calls/s could not exceed it")
    print(f"floor/static calls/s: {floor_ratio:.3f}: the best any FastAGI server could do here, on "
          f"{os.cpu_count()} cores shared by Asterisk, server and load; per slice: "
          + ", ".join(f"{r:.2f}" for r in slice_ratios["floor"]))
    print(f"ratio routed/static calls/s: {ratio:.3f} (target >= {TARGET_RATIO}); routed/floor "
          f"{ratio / max(floor_ratio, 1e-9):.3f}; per slice: " + ", ".join(f"{r:.2f}" for r in slice_ratios["routed"])
          + f"; fail-safe calls: {driver.fallbacks}, originate failures: {driver.failed}; "
          f"load average {load:.2f}; run {time.monotonic() - started:.0f} s")
    expected = SLICES * max(1, args.calls // SLICES)
    ok = (ratio >= TARGET_RATIO and not problems and driver.fallbacks == 0 and driver.failed == 0
          and static["calls"] == routed["calls"] == floor["calls"] == expected)
    print(json.dumps({
        "benchmark": "routing", "ratio_routed_over_static": round(ratio, 3),
        "ratio_median_of_slices": round(statistics.median(slice_ratios["routed"]), 3),
        "ratio_floor_over_static": round(floor_ratio, 3),
        "ratio_routed_over_floor": round(ratio / max(floor_ratio, 1e-9), 3),
        "asterisk_cpu_per_call_ratio_static_over_routed": round(ast_ratio["routed"], 3),
        "asterisk_cpu_per_call_ratio_static_over_floor": round(ast_ratio["floor"], 3),
        "routed": routed, "static": static, "floor": floor, "concurrency": args.concurrency, "numbers": numbers,
        "cpu_count": os.cpu_count(), "outcome_identical": not problems, "fallbacks": driver.fallbacks,
        "originate_failures": driver.failed, "load_average_before": round(load_before, 2), "loadavg_1min_after": round(load, 2),
        "targets": {"ratio_min": TARGET_RATIO, "outcome_identical": True, "fallbacks": 0,
                    "calls_per_path": expected},
        "pass": ok,
    }, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
