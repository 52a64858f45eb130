"""The websocket as a console sees it: a real server on 127.0.0.1 and real clients."""
from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import time

import aiohttp
import pytest

from ivr.web.ws import CLOSE_OVERFLOW, WsSettings
from tests.support.web_support import (CALLER, CALLER_MASKED, TOKEN, connect, no_message, pop_payload, recv, serve,
                               services)

CALL = "1700000000.1"


def event(msg_id: int, kind: str, payload: dict, agent: str = "agent1001", ts: float | None = None) -> dict:
    return {"type": "event", "id": msg_id, "kind": kind, "call_id": payload["call_id"], "agent": agent,
            "ts": ts, "payload": payload}


def strip_ts(msg: dict) -> dict:
    assert isinstance(msg.get("ts"), float)
    return {**msg, "ts": None}


async def test_bad_or_missing_token_is_refused():
    async with serve(services()) as base, aiohttp.ClientSession() as s:
        for url, headers in [(f"{base}/ws", {}), (f"{base}/ws?token=nope", {}),
                             (f"{base}/ws", {"Authorization": "Bearer nope"}),
                             (f"{base}/api/calls/mine", {}),
                             (f"{base}/api/calls/mine", {"Authorization": "Bearer nope"}),
                             # the query token is for /ws only
                             (f"{base}/api/calls/mine?token={TOKEN['agent1001']}", {})]:
            async with s.get(url, headers=headers) as r:
                assert r.status == 401, url
                assert (await r.json())["error"] == "unauthorized"
                assert r.headers["WWW-Authenticate"].startswith("Bearer")
        with pytest.raises(aiohttp.WSServerHandshakeError) as err:
            await s.ws_connect(f"{base}/ws?token=wrong-token")
        assert err.value.status == 401
        async with s.get(f"{base}/api/calls/mine", headers={"Authorization": f"Bearer {TOKEN['agent1001']}"}) as r:
            assert r.status == 200 and (await r.json()) == {"agent": "agent1001", "role": "agent", "calls": []}


async def test_healthz_needs_no_token_and_reflects_checks():
    state = {"ami": True, "fastagi": True, "db": True}

    async def health() -> dict:
        return dict(state)

    async with serve(services(health=health)) as base, aiohttp.ClientSession() as s:
        async with s.get(f"{base}/healthz") as r:
            assert r.status == 200 and await r.json() == {"ami": True, "fastagi": True, "db": True, "ok": True}
        state["ami"] = False
        async with s.get(f"{base}/healthz") as r:
            assert r.status == 503 and await r.json() == {"ami": False, "fastagi": True, "db": True, "ok": False}


async def test_pop_reaches_its_agent_only_and_supervisor_masked():
    svc = services()
    hub = svc.hub
    async with serve(svc) as base, aiohttp.ClientSession() as s:
        a1, hello = await connect(s, base, "agent1001")
        assert hello == {"type": "hello", "agent": "agent1001", "role": "agent", "heartbeat": 20.0,
                         "server_time": hello["server_time"]}
        assert await recv(a1) == {"type": "resync", "reason": "fresh", "last_event_id": 0, "calls": []}
        a2, _ = await connect(s, base, "agent1002")
        await recv(a2)  # its resync
        sup, hello = await connect(s, base, "super01")
        assert hello["role"] == "supervisor"
        await recv(sup)

        await hub.publish("agent1001", "ring", pop_payload())
        assert strip_ts(await recv(a1)) == event(1, "ring", pop_payload())
        masked = await recv(sup)
        assert masked["payload"]["caller"] == CALLER_MASKED and masked["id"] == 1

        # agent1002's next message is its own event: nothing of agent1001's call came first
        await hub.publish("agent1002", "ring", pop_payload("1700000000.2", "agent1002"))
        assert strip_ts(await recv(a2)) == event(2, "ring", pop_payload("1700000000.2", "agent1002"), "agent1002")
        await no_message(a2)
        await no_message(a1, 0.1)
        for ws in (a1, a2, sup):
            await ws.close()


async def test_disconnect_mid_call_and_resume_gets_missed_updates_once_in_order():
    svc = services()
    hub = svc.hub
    async with serve(svc) as base, aiohttp.ClientSession() as s:
        ws, _ = await connect(s, base, "agent1001")
        await recv(ws)
        await hub.publish("agent1001", "ring", pop_payload())
        await hub.publish("agent1001", "answer", pop_payload())
        seen = [await recv(ws), await recv(ws)]
        last = seen[-1]["id"]
        await ws.close()
        for _ in range(100):  # the server notices the close
            if hub.subscriber_count() == 0:
                break
            await asyncio.sleep(0.01)

        missed = [{"call_id": CALL, "transcript": {"final": "您好，我想咨询养老保险转移"}},
                  {"call_id": CALL, "transcript": {"partial": "从外地"}},
                  {"call_id": CALL, "ticket": {"id": "T20261121-0001", "summary": "养老保险转移"}}]
        for p in missed:
            await hub.publish("agent1001", "update", p)

        # resume by query parameter
        ws, _ = await connect(s, base, "agent1001", f"last_event_id={last}")
        got = [strip_ts(await recv(ws)) for _ in missed]
        assert got == [event(3 + i, "update", p) for i, p in enumerate(missed)]
        await hub.publish("agent1001", "hangup", {"call_id": CALL})
        assert strip_ts(await recv(ws)) == event(6, "hangup", {"call_id": CALL})
        await no_message(ws)
        await ws.close()

        # resume by first message, from the middle
        ws, _ = await connect(s, base, "agent1001", first={"type": "resume", "last_event_id": 4})
        assert [(await recv(ws))["id"] for _ in range(2)] == [5, 6]
        await no_message(ws)
        await ws.close()


async def test_resume_too_old_gets_resync_with_the_call_state():
    svc = services()
    svc.hub = type(svc.hub)(first_id=1, buffer_per_agent=2)
    async with serve(svc) as base, aiohttp.ClientSession() as s:
        await svc.hub.publish("agent1001", "answer", pop_payload())
        for text in ("第一句", "第二句", "第三句"):
            await svc.hub.publish("agent1001", "update", {"call_id": CALL, "transcript": {"final": text}})
        ws, _ = await connect(s, base, "agent1001", "last_event_id=1")
        msg = await recv(ws)
        assert msg == {"type": "resync", "reason": "too_old", "last_event_id": 4, "calls": [
            {**pop_payload(), "status": "answered", "last_event_id": 4,
             "transcript": {"final": ["第一句", "第二句", "第三句"], "partial": ""}}]}
        await no_message(ws)
        await ws.close()


async def test_malformed_client_messages_get_an_error_and_keep_the_connection():
    svc = services()
    async with serve(svc) as base, aiohttp.ClientSession() as s:
        ws, _ = await connect(s, base, "agent1001")
        await recv(ws)
        await ws.send_str("{not json")
        assert await recv(ws) == {"type": "error", "error": "bad_message", "detail": "not JSON"}
        await ws.send_str("[1, 2]")
        assert (await recv(ws))["detail"] == 'expected a JSON object with a "type"'
        await ws.send_json({"type": "launch"})
        assert (await recv(ws))["detail"] == "unknown message type 'launch'"
        await ws.send_bytes(b"\x00\x01")
        assert (await recv(ws))["detail"] == "binary messages are not accepted"
        await ws.send_json({"type": "resume", "last_event_id": 3})
        assert (await recv(ws))["error"] == "bad_message"  # already subscribed
        await ws.send_json({"type": "ping"})
        assert (await recv(ws))["type"] == "pong"
        await svc.hub.publish("agent1001", "ring", pop_payload())
        assert (await recv(ws))["kind"] == "ring"  # still live
        await ws.close()

        ws, _ = await connect(s, base, "agent1001", first={"type": "resume", "last_event_id": "abc"})
        msgs = [await recv(ws), await recv(ws)]  # a fresh start plus the complaint
        assert sorted(m["type"] for m in msgs) == ["error", "resync"]
        await ws.close()
        for bad in ("-5", "²", "9" * 5000, "1e3"):
            async with s.get(f"{base}/ws?token={TOKEN['agent1001']}&last_event_id={bad}") as r:
                assert r.status == 400
        ws, _ = await connect(s, base, "agent1001", first={"type": "resume", "last_event_id": "²"})
        assert sorted([(await recv(ws))["type"], (await recv(ws))["type"]]) == ["error", "resync"]
        await ws.close()


async def test_no_resume_message_starts_fresh_after_the_wait():
    async with serve(services(), settings=WsSettings(resume_wait=0.2)) as base, aiohttp.ClientSession() as s:
        t0 = time.monotonic()
        ws, _ = await connect(s, base, "agent1001", first=None)
        assert (await recv(ws))["reason"] == "fresh"
        assert 0.15 < time.monotonic() - t0 < 2.0
        await ws.close()


async def test_heartbeat_closes_a_dead_connection(caplog):
    """A peer that completed the handshake and then went silent (no pong) is closed."""
    caplog.set_level(logging.INFO, "ivr.web.ws")
    svc = services()
    async with serve(svc, settings=WsSettings(heartbeat=0.4)) as base:
        port = int(base.rsplit(":", 1)[1])
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write((f"GET /ws?token={TOKEN['agent1001']}&last_event_id=0 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                      "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 101")
        await asyncio.sleep(0.05)
        assert svc.hub.subscriber_count() == 1
        started = time.monotonic()
        # read (and ignore) everything, pings included, never answering: EOF must come
        while await asyncio.wait_for(reader.read(4096), 5.0):
            pass
        elapsed = time.monotonic() - started
        writer.close()
        assert elapsed < 3.0
        for _ in range(100):
            if svc.hub.subscriber_count() == 0:
                break
            await asyncio.sleep(0.01)
        assert svc.hub.subscriber_count() == 0
        assert "console disconnected: agent1001 (no pong: heartbeat timeout)" in caplog.text


async def test_overflowing_console_is_dropped_with_4008_and_resumes_while_others_flow():
    svc = services()
    hub = svc.hub
    async with serve(svc, settings=WsSettings(send_queue=8)) as base, aiohttp.ClientSession() as s:
        slow, _ = await connect(s, base, "agent1001")
        other, _ = await connect(s, base, "agent1002")
        await recv(slow), await recv(other)
        for i in range(20):  # one burst, published faster than any socket drains
            await hub.publish("agent1001", "update", {"call_id": CALL, "n": i})
        await hub.publish("agent1002", "ring", pop_payload("1700000000.2", "agent1002"))
        assert (await recv(other))["kind"] == "ring"

        got = []
        while True:
            msg = await slow.receive(timeout=3)
            if msg.type != aiohttp.WSMsgType.TEXT:
                break
            got.append(json.loads(msg.data))
        assert msg.type == aiohttp.WSMsgType.CLOSE and msg.data == CLOSE_OVERFLOW
        assert [m["payload"]["n"] for m in got] == list(range(len(got))) and len(got) <= 8
        last = got[-1]["id"] if got else 0
        slow, _ = await connect(s, base, "agent1001", f"last_event_id={last}")
        rest = [await recv(slow) for _ in range(20 - len(got))]
        assert [m["payload"]["n"] for m in got + rest] == list(range(20))
        await no_message(slow)
        for ws in (slow, other):
            await ws.close()


async def test_a_console_that_stops_reading_does_not_delay_another():
    """A real stalled reader: its socket buffers fill, its queue overflows, it is cut off."""
    svc = services()
    hub = svc.hub
    async with serve(svc, settings=WsSettings(send_queue=16)) as base, aiohttp.ClientSession() as s:
        port = int(base.rsplit(":", 1)[1])
        reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=2**16)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write((f"GET /ws?token={TOKEN['agent1001']}&last_event_id=0 HTTP/1.1\r\nHost: x\r\n"
                      f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                      "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        await reader.readuntil(b"\r\n\r\n")  # and never read again
        other, _ = await connect(s, base, "agent1002")
        await recv(other)
        blob = "x" * 8000
        worst = 0.0
        for i in range(4000):
            await hub.publish("agent1001", "update", {"call_id": CALL, "n": i, "blob": blob})
            if i % 100 == 0:
                t0 = time.monotonic()
                await hub.publish("agent1002", "update", {"call_id": "1700000000.2", "n": i})
                assert (await recv(other))["payload"]["n"] == i
                worst = max(worst, time.monotonic() - t0)
            await asyncio.sleep(0)
            if hub.stats["overflows"]:
                break
        assert hub.stats["overflows"] == 1, "the stalled console was never cut off"
        assert worst < 0.5
        writer.transport.abort()
        await other.close()


async def test_logs_hold_neither_tokens_nor_full_caller_numbers(caplog):
    caplog.set_level(logging.DEBUG)
    svc = services()
    async with serve(svc) as base, aiohttp.ClientSession() as s:
        ws, _ = await connect(s, base, "agent1001")
        await recv(ws)
        await svc.hub.publish("agent1001", "ring", pop_payload())
        await recv(ws)
        await ws.send_str(f"not json {CALLER}")
        await recv(ws)
        await ws.close()
        async with s.get(f"{base}/ws?token=guess-{TOKEN['agent1002']}") as r:
            assert r.status == 401
    text = caplog.text
    assert "/ws?token=***" in text  # the access log line is there, redacted
    for secret in list(TOKEN.values()) + [CALLER]:
        assert secret not in text


async def test_server_shutdown_tells_consoles_to_come_back():
    async with aiohttp.ClientSession() as s:
        async with serve(services()) as base:
            ws, _ = await connect(s, base, "agent1001")
            await recv(ws)
        msg = await ws.receive(timeout=3)
        assert msg.type == aiohttp.WSMsgType.CLOSE and msg.data == aiohttp.WSCloseCode.GOING_AWAY


async def test_too_many_consoles_for_one_agent():
    async with serve(services(), settings=WsSettings(max_per_agent=2)) as base, aiohttp.ClientSession() as s:
        socks = [(await connect(s, base, "agent1001"))[0] for _ in range(2)]
        with pytest.raises(aiohttp.WSServerHandshakeError) as err:
            await s.ws_connect(f"{base}/ws?token={TOKEN['agent1001']}")
        assert err.value.status == 429
        other, _ = await connect(s, base, "agent1002")  # others are not affected
        for ws in socks + [other]:
            await ws.close()
