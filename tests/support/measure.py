"""Small measuring helpers the benchmarks and the tests share: free ports, CPU seconds, quantiles, load.

One definition each, so a benchmark's "p99" and a test's mean the same thing
(nearest rank: the value at index int(q * n) of the sorted sample).
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
from collections.abc import Awaitable
from pathlib import Path


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A port on 127.0.0.1 free at this moment (TCP by default; socket.SOCK_DGRAM for UDP)."""
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid: int, *, children: bool = False) -> float:
    """User + system CPU seconds of a process and its threads (and its live child processes if asked)."""
    total = 0.0
    for p in [pid, *(_children(pid) if children else [])]:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except (FileNotFoundError, ValueError):
        return []


def quantile(values: list[float], q: float) -> float | None:
    """The nearest-rank q-quantile (0 ≤ q ≤ 1) of `values`, None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def load_average() -> float:
    """The one-minute load average: a benchmark prints it before it runs (a figure from a busy machine is void)."""
    return os.getloadavg()[0]


def print_run(run: Awaitable[dict]) -> int:
    """A benchmark's end: run it (warnings-only logging), print one JSON line with the load average from
    before it, and return the exit status (0 when the figures pass)."""
    logging.basicConfig(level=logging.WARNING)
    load_before = load_average()
    result = {**asyncio.run(run), "load_average_before": round(load_before, 2)}
    print(json.dumps(result, ensure_ascii=False))
    return 0 if result["pass"] else 1
