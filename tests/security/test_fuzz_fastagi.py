"""A bounded, seeded fuzz run against the real FastAGI worker, then a real call.

10,000 connections at full fuzz scale (tests/support/fuzz.py; a quarter in the suite): garbage, truncated and oversized headers,
control characters, missing agi_ fields, random routes and arguments, and
random replies to the route's commands. The worker process must stay up
(same pid), log no traceback (its stderr is captured: no exception escaped a
connection), answer a clean request, and route a real call from Asterisk
correctly afterwards. Seeded: a failure replays with the same cases.
"""
from __future__ import annotations

import asyncio
import os
import collections
import random
import time

import pytest

from ivr.agi.worker import AgiWorker
from ivr.config.loader import load_config
from ivr.paths import REPO
from tests.support.fuzz import cases
from tests.support.routing_calls import collect, place
from tests.agi.test_fastagi_protocol import header

pytestmark = pytest.mark.asterisk

SEED = 20261204
CASES = cases(10_000)
PARALLEL = 128
REPLIES = [b"200 result=1\n", b"200 result=0\n", b"200 result=-1\n", b"510 Invalid or unknown command\n",
           b"511 Command Not Permitted on a dead channel\n", b"520-Invalid command syntax.\nUsage: x\n520 End\n",
           b"HANGUP\n", b"200 result=1 (\xff\xfe)\n", b"\n", b"\r\n", b"200\n", b"garbage\x00\x01\n",
           b"200 result=99999999999999999999 (" + b"x" * 3000 + b")\n"]
ROUTES = ["route", "diag", "nope", "", "route/../x", "路由", "route?x=1", "route%00"]
CONTROL = "".join(chr(c) for c in range(32) if c not in (10,)) + "\x7f\u2028\ufeff"


def _text(rng: random.Random, n: int) -> str:
    alphabet = "0123456789abc,|()[]\"'\\$%{}-_ 市人社局" + CONTROL
    return "".join(rng.choice(alphabet) for _ in range(n))


def _valid(rng: random.Random) -> bytes:
    args = [_text(rng, rng.randint(0, 40)) for _ in range(rng.randint(0, 5))]
    if rng.random() < 0.5:  # a plausible dialed number and linkedid
        args = [rng.choice(["12345", "12333", "12328", "110", "", "9" * 30])] + args[:1]
    return header(rng.choice(ROUTES), *[a.replace("\n", " ") for a in args],
                  uniqueid=f"{rng.randint(0, 2**40)}.{rng.randint(0, 999)}")


def case(rng: random.Random) -> tuple[str, bytes, bool]:
    """(kind, bytes to send, whether to stay and answer the server's commands)."""
    kind = rng.choice(["garbage", "truncated", "control", "missing", "args", "commands", "huge"]
                      if rng.random() < 0.02 else ["garbage", "truncated", "control", "missing", "args", "commands"])
    if kind == "garbage":
        return kind, rng.randbytes(rng.randint(0, 600)), False
    if kind == "truncated":
        data = _valid(rng)
        return kind, data[:rng.randint(0, len(data) - 1)], False
    if kind == "huge":
        return kind, b"agi_network_script: route\nagi_arg_1: " + b"9" * 70_000 + b"\n\n", True
    if kind == "control":
        lines = _valid(rng).decode().split("\n")
        i = rng.randrange(len(lines) - 2)
        cut = rng.randint(0, len(lines[i]))
        lines[i] = lines[i][:cut] + _text(rng, rng.randint(1, 8)).replace("\n", "") + lines[i][cut:]
        return kind, "\n".join(lines).encode("utf-8", "surrogatepass"), True
    if kind == "missing":
        lines = [ln for ln in _valid(rng).decode().split("\n")[:-2] if rng.random() < 0.5]
        return kind, ("\n".join(lines) + "\n\n").encode(), True
    return kind, _valid(rng), True  # args, commands: a whole header with random content


async def run_case(port: int, rng: random.Random, counts: collections.Counter) -> None:
    kind, data, stay = case(rng)
    counts[kind] += 1
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        counts["connect_failed"] += 1
        return
    try:
        writer.write(data)
        if stay:
            for _ in range(6):
                line = await asyncio.wait_for(reader.readline(), 2)
                if not line:
                    counts["closed_by_server"] += 1
                    break
                counts["commands_answered"] += 1
                writer.write(rng.choice(REPLIES) if kind == "commands" else b"200 result=1\n")
            else:
                counts["left_open"] += 1
    except (TimeoutError, asyncio.TimeoutError):
        counts["no_answer_in_2s"] += 1
    except (ConnectionError, asyncio.IncompleteReadError, ValueError):
        counts["reset_by_server"] += 1
    finally:
        writer.transport.abort()


@pytest.fixture
async def worker(center, agi_port, tmp_path):
    """The real FastAGI worker process on the center's AGI port (what `hotline serve` runs).

    Its stderr (its log) goes to a file the test reads: `agi.log_path`."""
    config = load_config(REPO / "config.yaml", overrides={
        "fastagi.port": agi_port, "fastagi.process": True, "database.url": f"sqlite:///{tmp_path}/fuzz.db"})
    agi = AgiWorker(config)
    agi.log_path = tmp_path / "worker.log"
    saved = os.dup(2)
    with open(agi.log_path, "wb") as log:
        os.dup2(log.fileno(), 2)  # the spawned worker inherits fd 2
        try:
            await agi.start()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
    yield agi
    await agi.stop()


async def test_fuzzed_fastagi_leaves_the_worker_serving_calls(worker, center_ami):
    assert worker.listening
    pid, port = worker._proc.pid, worker.port
    rng = random.Random(SEED)
    counts: collections.Counter = collections.Counter()
    started = time.monotonic()
    gate = asyncio.Semaphore(PARALLEL)

    async def one(seed: int) -> None:
        async with gate:
            await run_case(port, random.Random(seed), counts)

    await asyncio.gather(*(one(rng.getrandbits(64)) for _ in range(CASES)))
    took = time.monotonic() - started
    report = (f"FastAGI fuzz: {CASES} cases in {took:.1f} s, seed {SEED}: {dict(sorted(counts.items()))}")
    assert sum(counts[k] for k in ("garbage", "truncated", "control", "missing", "args", "commands", "huge")) == CASES
    # no_answer_in_2s: a fuzzed reply the server cannot take as one (an empty line, a 520- never
    # ended) leaves it waiting for Asterisk's answer until its command timeout: that call only.
    assert counts["huge"] > 0 and counts["connect_failed"] == 0
    assert took < 60

    assert worker.listening and worker._proc.pid == pid, "the FastAGI worker died under fuzzing"
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(header("route", "12345", "1700000000.1"))
    assert (await asyncio.wait_for(reader.readline(), 5)).startswith(b"EXEC MSet ")
    writer.close()
    since = len(center_ami.events)
    call = await place(center_ami, "12345", hold=2)
    await collect(center_ami, [call], settle=2, since=since)
    got = call.variables()
    assert got.get("HOTLINE_MODE") == "main" and "HOTLINE_FALLBACK" not in got, got
    # The worker's log (its stderr): the only tracebacks are a route handler's command refused by the
    # fuzzed "Asterisk" (AgiCommandError: logged, the fallback tried, that connection closed).
    err = worker.log_path.read_text(errors="replace")
    assert "unknown AGI route" in err, "the worker's log was not captured"
    assert "AGI call failed" not in err and "Exception in callback" not in err and "never retrieved" not in err
    refused = err.count("\nivr.agi.call.AgiCommandError: ")
    assert err.count("Traceback (most recent call last)") == refused, err[-3000:]
    print(f"\n{report}\nFastAGI fuzz: {refused} route handlers stopped by a command the fuzzed "
          "Asterisk refused (logged, fallback tried)")  # the counts, for the record (pytest -s)
