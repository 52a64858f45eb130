"""A seeded fuzz run of 10,000 websocket frames against the real web app (issue 11).

Random text, garbage, deep and huge JSON, wrong types, binary frames: the
server stays up, no exception escapes a connection (nothing logged at ERROR),
every bad frame gets an error message on a connection that stays open, and a
normal console still works afterwards. Prints the counts.
"""
from __future__ import annotations

import json
import logging
import random

import aiohttp

from tests.support.web_support import connect, pop_payload, recv, serve, services

FRAMES = 10_000
SEED = 20261204
CONNECTIONS = 4
BATCH = 50


def _value(rng: random.Random, depth: int = 0):
    pick = rng.randrange(8 if depth < 3 else 5)
    if pick == 0:
        return None
    if pick == 1:
        return rng.choice([True, False])
    if pick == 2:
        return rng.choice([0, -1, 2**63, 2**53, 1e308, -0.0, rng.randrange(-10**9, 10**9)])
    if pick == 3:
        return "".join(rng.choice("ab\u4e2d\u6587\x00\x1f\"\\/ \u2028{}[]") for _ in range(rng.randrange(0, 20)))
    if pick == 4:
        return rng.choice(["", "ping", "resume", "RESUME", "²", "9" * 40, "-1"])
    if pick == 5:
        return [_value(rng, depth + 1) for _ in range(rng.randrange(0, 4))]
    return {rng.choice(["type", "last_event_id", "x", ""]): _value(rng, depth + 1) for _ in range(rng.randrange(0, 4))}


def frame(rng: random.Random) -> tuple[str, str | bytes]:
    """(kind, frame): every kind except "ping" must be answered with an error."""
    kind = rng.choices(["garbage", "json", "wrong_type", "deep", "huge", "binary", "ping"],
                       weights=[20, 25, 20, 10, 2, 8, 15])[0]
    if kind == "garbage":
        alphabet = "{}[]\":,\\0123456789eE+-.tfnul \t\n\u4e2d\ufffd\x00\x7f"
        return kind, "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 200)))
    if kind == "json":
        value = _value(rng)
        if isinstance(value, dict) and value.get("type") == "ping":
            value["type"] = 7
        return kind, json.dumps(value)
    if kind == "wrong_type":
        msg = {"type": rng.choice(["resume", "pong", "event", "hello", "x" * 300, "\u0000"]),
               "last_event_id": _value(rng)}
        return kind, json.dumps(msg)
    if kind == "deep":
        n = rng.randrange(9, 6000)
        opener, closer = rng.choice([("[", "]"), ('{"a":', "}")])
        return kind, opener * n + "1" + closer * n
    if kind == "huge":
        return kind, json.dumps({"type": "ping", "pad": "x" * rng.randrange(17_000, 200_000)})
    if kind == "binary":
        return kind, rng.randbytes(rng.randrange(0, 64))
    return kind, json.dumps({"type": "ping", "junk": _value(rng)})


async def test_ten_thousand_websocket_frames(caplog):
    caplog.set_level(logging.WARNING)
    rng = random.Random(SEED)
    sent: dict[str, int] = {}
    answers = {"error": 0, "pong": 0}
    svc = services()
    async with serve(svc) as base, aiohttp.ClientSession() as http:
        sockets = []
        for i in range(CONNECTIONS):
            ws, _ = await connect(http, base, "agent1001" if i % 2 else "super01")
            assert (await recv(ws))["type"] == "resync"
            sockets.append(ws)
        done = 0
        while done < FRAMES:
            for ws in sockets:
                batch = [frame(rng) for _ in range(min(BATCH, FRAMES - done))]
                for kind, data in batch:
                    sent[kind] = sent.get(kind, 0) + 1
                    if isinstance(data, bytes):
                        await ws.send_bytes(data)
                    else:
                        await ws.send_str(data)
                for kind, _ in batch:
                    reply = await recv(ws, timeout=10)
                    expected = "pong" if kind == "ping" else "error"
                    assert reply["type"] == expected, (kind, reply)
                    answers[expected] += 1
                done += len(batch)
                if done >= FRAMES:
                    break
        for ws in sockets:
            assert not ws.closed
            await ws.close()

        # afterwards: a normal console still works, the server is healthy
        assert (await http.get(f"{base}/healthz")).status == 200
        ws, hello = await connect(http, base, "agent1001")
        assert hello["type"] == "hello" and (await recv(ws))["type"] == "resync"
        await svc.hub.publish("agent1001", "ring", pop_payload())
        ev = await recv(ws)
        assert ev["kind"] == "ring" and ev["payload"]["call_id"] == "1700000000.1"
        await ws.close()

    total = sum(sent.values())
    print(f"\nwebsocket fuzz: {total} frames on {CONNECTIONS} connections, seed {SEED}: "
          + ", ".join(f"{k} {v}" for k, v in sorted(sent.items()))
          + f"; answered: {answers['error']} errors, {answers['pong']} pongs; 0 connections lost")
    assert total >= FRAMES and answers["error"] + answers["pong"] == total
    escaped = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not escaped, [r.getMessage() for r in escaped]
