"""Run benchmarks three times each on a quiet machine and report min/median/max.

The project's rule for a reported figure: measured with the one-minute load
average under 1 before the run, three runs, min/median/max with the load. This
waits (bounded) for the machine to be quiet before each run, runs
`benchmarks/NAME.py`, keeps its whole output in --out, and reads the JSON object
on its last line. A run that started on a busy machine anyway is marked
"loaded" and does not count as a pass.

    .venv/bin/python benchmarks/runs.py fastagi routing screenpop
    .venv/bin/python benchmarks/runs.py seat -- --calls 20     (arguments after -- go to every benchmark)
    .venv/bin/python benchmarks/runs.py seat:--seconds,60 asr  (NAME:ARG,ARG… for one benchmark's own)

The last line is one JSON object: per benchmark the headline figures as
[min, median, max], each run's load and pass, and "pass" (every run quiet and passing).
"""
from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.support.measure import load_average  # noqa: E402

HERE = Path(__file__).resolve().parent
# The figures each benchmark's targets are about (dotted paths into its JSON line).
HEADLINES = {
    "fastagi": ["ratio_ours_over_bare.1", "ratio_ours_over_bare.20", "ratio_ours_over_bare.100",
                "ours_p99_ms_at_100_busy"],
    "routing": ["ratio_routed_over_static", "ratio_routed_over_floor", "ratio_floor_over_static"],
    "screenpop": ["pop_p50_ms", "pop_p99_ms"],
    "seat": ["ring_pop_ms.p99", "answer_audio_ms.p99"],
    "recording": ["cpu_ratio", "disk_bytes_per_minute"],
    "callback": ["completion_over_minimum", "answered_tasks", "answerable_tasks", "inbound_lost"],
    "asr": ["live_capacity_streams", "engine_added_delay_p95_s", "final_delay_p95_s", "cer_vs_direct_decode",
            "engine_overhead_vs_bare_1_stream"],
    "transfers": ["transfer_to_heard_ms.median", "transfer_to_heard_ms.p95", "concurrent_threeway_calls_held"],
}


def dig(obj, path: str):
    for part in path.split("."):
        if not isinstance(obj, dict) or part not in obj:
            return None
        obj = obj[part]
    return obj


def wait_quiet(max_load: float, limit_s: float) -> float:
    """Poll the load average until it is under `max_load` or `limit_s` passes; the load when done."""
    deadline = time.monotonic() + limit_s
    load = load_average()
    while load >= max_load and time.monotonic() < deadline:
        time.sleep(5)
        load = load_average()
    return load


def one_run(name: str, extra: list[str], log: Path) -> dict | None:
    with log.open("w") as out:
        proc = subprocess.run([sys.executable, str(HERE / f"{name}.py"), *extra], stdout=subprocess.PIPE,
                              stderr=out, text=True, cwd=HERE.parent)
        out.write(proc.stdout)
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    try:
        return json.loads(lines[-1]) if lines else None
    except json.JSONDecodeError:
        return None


def spread(values: list) -> list | None:
    nums = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if len(nums) != len(values) or not nums:
        return None
    return [min(nums), statistics.median(nums), max(nums)]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="+", metavar="NAME[:ARG,ARG…]",
                    help="benchmarks: " + ", ".join(sorted(HEADLINES)))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--max-load", type=float, default=1.0, help="one-minute load average a run must start under")
    ap.add_argument("--wait", type=float, default=600, help="longest wait for a quiet machine before a run (s)")
    ap.add_argument("--out", type=Path, default=Path("benchmark-runs"), help="folder for each run's output")
    argv = sys.argv[1:]
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    args = ap.parse_args(argv[: argv.index("--")] if "--" in argv else argv)
    args.out.mkdir(parents=True, exist_ok=True)
    # (spec as given, benchmark, its own args): one benchmark may be asked twice with other arguments
    wanted = [(n, n.partition(":")[0], [a for a in n.partition(":")[2].split(",") if a]) for n in args.names]
    unknown = [n for _, n, _ in wanted if n not in HEADLINES]
    if unknown:
        ap.error(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(sorted(HEADLINES))}")

    report: dict = {}
    for spec, name, own in wanted:
        runs = []
        stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", spec).strip("_")
        for i in range(1, args.runs + 1):
            load = wait_quiet(args.max_load, args.wait)
            started = time.monotonic()
            result = one_run(name, [*own, *extra], args.out / f"{stem}-{i}.log")
            run = {"load_before": round(load, 2), "loaded": load >= args.max_load,
                   "seconds": round(time.monotonic() - started), "pass": bool(result and result.get("pass")),
                   "figures": {h: dig(result, h) for h in HEADLINES[name]} if result else None}
            runs.append(run)
            print(f"{spec} run {i}: load {run['load_before']:.2f}, {run['seconds']} s, pass={run['pass']}, "
                  f"{run['figures']}", file=sys.stderr, flush=True)
        figures = {h: spread([(r["figures"] or {}).get(h) for r in runs]) for h in HEADLINES[name]}
        report[spec] = {"figures_min_median_max": figures, "runs": runs,
                        "pass": all(r["pass"] and not r["loaded"] for r in runs)}
    for name, rep in report.items():
        print(f"\n{name}: pass {sum(r['pass'] for r in rep['runs'])}/{len(rep['runs'])}, load before "
              + " / ".join(f"{r['load_before']:.2f}" for r in rep["runs"]), file=sys.stderr)
        for h, v in rep["figures_min_median_max"].items():
            print(f"  {h}: " + ("/".join(f"{x:g}" for x in v) if v else "missing in a run"), file=sys.stderr)
    print(json.dumps({"benchmark": "runs", "results": report, "targets": {"max_load_before": args.max_load,
                      "runs": args.runs}, "pass": all(r["pass"] for r in report.values())}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
