"""Only trusted peers talk to FastAGI and live transcription; a route result
only ever lands on the call whose own channel asked.

Before: any peer that could reach port 4573 or 4574 was served, and a FastAGI
`route` request naming another call's linkedid (agi_arg_2) overwrote that
call's line, department and ticket id in the tracker. 127.0.0.2 plays the
"other host" (outside `fastagi.allow` = 127.0.0.1 here).
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
import socket

import pytest
from panoramisk.message import Message

from ivr.agi.context import OffsetClock, RouteContext
from ivr.agi.server import FastAgiServer
from ivr.agi.worker import AgiWorker
from ivr.calls.tracker import CallTracker
from ivr.config.loader import ConfigError, load_config
from ivr.paths import REPO
from ivr.speech.engine import SpeechEngine
from ivr.speech.live import LiveServer
from ivr.storage import repo
from ivr.storage.store import Store
from ivr.storage.ticket_ids import TicketIds
from tests.support import ami_events as A
from tests.support.speech_audio import model_dir  # noqa: F401 (fixture)
from tests.agi.test_fastagi_protocol import header

VICTIM = A.Chan("PJSIP/gateway-00000070", "1795225400.70", "1795225400.70", cid="13700137000", exten="12333")


async def open_from(source: str, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A TCP connection to 127.0.0.1:port from the local address `source`."""
    sock = socket.socket()
    sock.bind((source, 0))
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
    return await asyncio.open_connection(sock=sock)


async def answer_of(reader: asyncio.StreamReader) -> bytes:
    """What the server says first ("" if it closed without a word)."""
    try:
        return await asyncio.wait_for(reader.readline(), 5)
    except ConnectionResetError:
        return b""


def test_allow_list_config():
    config = load_config(REPO / "config.yaml")
    assert config.fastagi.allow == ["127.0.0.0/8", "::1"]  # default: loopback only
    assert load_config(REPO / "config.yaml", overrides={"fastagi.allow": ["10.1.2.0/24", "192.0.2.7"]}
                       ).fastagi.allow == ["10.1.2.0/24", "192.0.2.7/32"]
    with pytest.raises(ConfigError, match="allow"):
        load_config(REPO / "config.yaml", overrides={"fastagi.allow": ["asterisk.example"]})


async def test_worker_refuses_a_peer_outside_the_allow_list(tmp_path, caplog):
    """The real FastAGI worker process: 127.0.0.2 is cut before a byte is read; 127.0.0.1 is routed."""
    config = load_config(REPO / "config.yaml", overrides={
        "fastagi.port": 0, "fastagi.allow": ["127.0.0.1"], "database.url": f"sqlite:///{tmp_path}/w.db"})
    worker = AgiWorker(config)
    await worker.start()
    try:
        reader, writer = await open_from("127.0.0.2", worker.port)
        writer.write(header("route", "12345", "1700000000.1"))
        assert await answer_of(reader) == b""  # no MSet: never routed
        writer.close()
        reader, writer = await open_from("127.0.0.1", worker.port)
        writer.write(header("route", "12345", "1700000000.2", uniqueid="1700000000.2"))
        first = await answer_of(reader)
        assert first.startswith(b"EXEC MSet ") and b"__HOTLINE_ACTION=queue" in first, first
        writer.close()
    finally:
        await worker.stop()


async def test_in_process_server_counts_and_masks_refused_peers(caplog):
    caplog.set_level(logging.WARNING)
    async with FastAgiServer("127.0.0.1", 0, allow=["127.0.0.1"]) as server:
        reader, writer = await open_from("127.0.0.2", server.port)
        writer.write(header("diag"))
        assert await answer_of(reader) == b""
        writer.close()
        assert server.peers.refused == 1 and server.calls_served == 0
    assert "FastAGI: connection from 127.0.0.x refused" in caplog.text and "127.0.0.2" not in caplog.text


async def test_live_port_refuses_a_peer_outside_the_allow_list(model_dir):  # noqa: F811
    engine = SpeechEngine(model_dir, workers=1, backlog_seconds=10)
    live = await LiveServer(engine, lambda *a: None, port=0, allow=["127.0.0.1"]).start()
    try:
        reader, writer = await open_from("127.0.0.2", live.port)
        writer.write(b'{"call_id": "1700000000.1", "rate": 8000}\n')
        assert await answer_of(reader) == b""  # not even an ERR line
        writer.close()
        assert live.peers.refused == 1
        reader, writer = await open_from("127.0.0.1", live.port)
        writer.write(b'{"call_id": "1700000000.1", "rate": 8000}\n')
        assert await answer_of(reader) == b"OK\n"
        writer.close()
    finally:
        await live.stop()
        engine.shutdown()


@pytest.fixture
async def routed_center(tmp_path):
    """The real route handler in a FastAGI server whose tracker follows one live call."""
    config = load_config(REPO / "config.yaml")
    store = Store.open(f"sqlite:///{tmp_path}/route.db")

    async def publish(agent, kind, payload):
        pass

    tracker = CallTracker(store, publish)
    await tracker.start()
    async def no_ticket_yet(prefix: str) -> int:
        return 0

    ticket_ids = TicketIds(config.hotline.timezone, no_ticket_yet, lambda ticket_id: None)
    on_4_december = OffsetClock.at(dt.datetime(2026, 12, 4, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))))
    services = RouteContext(config, sink=tracker, ticket_ids=ticket_ids, clock=on_4_december)
    tracker.feed(Message(A.ev("Newchannel", 100.0, VICTIM.snap(state="Ring"))))
    server = await FastAgiServer("127.0.0.1", 0, context=services).__aenter__()
    yield server, tracker, store
    await server.stop()
    await tracker.stop()
    store.close()


async def raw_route(port: int, dialed: str, linkedid: str, uniqueid: str) -> None:
    """A raw FastAGI client asking `route`; acknowledges every command until the server closes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(header("route", dialed, linkedid, uniqueid=uniqueid))
    for _ in range(10):
        line = await asyncio.wait_for(reader.readline(), 5)
        if not line:
            break
        writer.write(b"200 result=0\n")
    writer.close()


async def test_route_naming_another_calls_linkedid_changes_nothing(routed_center):
    server, tracker, store = routed_center
    await raw_route(server.port, "12333", VICTIM.lid, VICTIM.uid)  # the victim's own route
    await tracker.drain()
    before = dict(tracker.calls[VICTIM.lid].fields)
    assert before["line"] == "hrss-12333" and before["ticket_id"] == "T20261204-0001"

    await raw_route(server.port, "12315", VICTIM.lid, "1795225499.99")  # another channel names the victim
    await raw_route(server.port, "12315", VICTIM.lid, VICTIM.uid)       # a replay of the victim's channel
    await tracker.drain()
    assert tracker.calls[VICTIM.lid].fields == before
    assert await store.flush()
    record = store.run_sync(repo.get_call, VICTIM.lid)
    assert (record["dialed"], record["ticket_id"]) == ("12333", "T20261204-0001")
    assert [e["kind"] for e in store.run_sync(repo.call_events, VICTIM.lid)] == ["route"]
    assert tracker.stats["routes_refused"] == 1  # the replay; the other is held for a channel that never comes
    assert list(tracker.calls[VICTIM.lid].pending_routes) == ["1795225499.99"]
