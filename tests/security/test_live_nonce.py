"""The live-transcription port takes a call's audio only with that call's intake nonce.

Before: any local process could open a stream naming a victim's linkedid and
push text to that agent's pop, rewrite the ticket draft, and (with 着火了 in
it) have the call transferred to 119. Now the route puts an unguessable nonce
in HOTLINE_INTAKE; the tracker hands it to the live server once, while the
call is in intake. Real parts: the real CallTracker (SQLite), the real
LiveServer with the real Vosk model, a raw TCP client and the real
agi_scripts/transcribe.py as Asterisk runs it.
"""
from __future__ import annotations

import asyncio
import json

import pytest
from panoramisk.message import Message

from ivr.calls.tracker import CallTracker
from ivr.speech.engine import SpeechEngine
from ivr.speech.live import LiveServer
from ivr.storage import repo
from ivr.storage.store import Store
from tests.support import ami_events as A
from tests.support.speech_audio import model_dir  # noqa: F401 (fixture)
from tests.agi_scripts.test_agi_transcribe_script import FakeAsterisk

NONCE = "Qm9ndXMtbm9uY2UtZm9yLXRlc3Rz"
VICTIM = A.Chan("PJSIP/gateway-00000060", "1795225300.60", "1795225300.60", cid="13700137000", exten="12345")
SILENCE = b"\x00\x00" * 8000  # one second at 8 kHz


@pytest.fixture(scope="module")
def engine(model_dir):  # noqa: F811
    eng = SpeechEngine(model_dir, workers=1, backlog_seconds=60).start()
    yield eng
    eng.shutdown()


@pytest.fixture
async def setup(engine, tmp_path):
    store = Store.open(f"sqlite:///{tmp_path}/live.db")
    told: list = []

    async def publish(agent, kind, payload):
        told.append((agent, kind, payload))

    tracker = CallTracker(store, publish, agents={"agent1001"})
    await tracker.start()
    got: list[tuple[str, str, str]] = []
    live = await LiveServer(engine, lambda *a: got.append(a), port=0, authorize=tracker.claim_intake).start()
    live.authorize_wait = 0.5  # each refused stream waits this long for a route that never comes
    tracker.feed(Message(A.ev("Newchannel", 100.0, VICTIM.snap(state="Up"))))
    await tracker.drain()
    yield tracker, live, got, store
    await live.stop()
    await tracker.stop()
    store.close()


async def route(tracker: CallTracker, uniqueid: str, nonce: str, linkedid: str = VICTIM.lid) -> None:
    tracker.routed(linkedid, {"__HOTLINE_DIALED": "12345", "__HOTLINE_ACTION": "queue",
                              "__HOTLINE_INTAKE": f"127.0.0.1:4574,20,{nonce}"}, uniqueid)
    await tracker.drain()


async def stream(port: int, header: dict) -> bytes:
    """Open a stream, send one second of audio whatever the answer; the server's first line."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(json.dumps(header).encode() + b"\n")
    answer = await asyncio.wait_for(reader.readline(), 5)
    try:
        writer.write(SILENCE)
        await writer.drain()
    except ConnectionError:
        pass
    writer.close()
    return answer


async def test_stream_needs_the_calls_nonce_once(setup):
    tracker, live, got, store = setup
    await route(tracker, VICTIM.uid, NONCE)
    victim = {"call_id": VICTIM.lid, "channel": "PJSIP/x", "rate": 8000}
    assert await stream(live.port, victim) == b"ERR not authorised\n"                      # no nonce
    assert await stream(live.port, {**victim, "nonce": "A" * 22}) == b"ERR not authorised\n"  # a guess
    assert await stream(live.port, {**victim, "nonce": "短"}) == b"ERR nonce malformed\n"
    assert await stream(live.port, {**victim, "nonce": NONCE}) == b"OK\n"                  # the call's own
    assert await stream(live.port, {**victim, "nonce": NONCE}) == b"ERR not authorised\n"  # once only
    assert live.refused == 3
    # the nonce is never stored nor shown: the route event keeps only `<server>,<seconds>`
    await tracker.drain()
    assert await store.flush()
    events = store.run_sync(repo.call_events, VICTIM.lid)
    assert NONCE not in json.dumps(events, ensure_ascii=False)
    assert [e["data"]["variables"]["HOTLINE_INTAKE"] for e in events if e["kind"] == "route"] == ["127.0.0.1:4574,20"]


async def test_forged_route_cannot_plant_a_nonce_and_intake_end_clears_it(setup):
    tracker, live, got, store = setup
    victim = {"call_id": VICTIM.lid, "channel": "PJSIP/x", "rate": 8000}
    await route(tracker, "1795225399.99", NONCE)  # a FastAGI peer naming the victim's linkedid
    assert await stream(live.port, {**victim, "nonce": NONCE}) == b"ERR not authorised\n"
    await route(tracker, VICTIM.uid, "R" * 22)  # the real route
    await route(tracker, VICTIM.uid, NONCE)     # a replay of the victim's own channel: refused
    assert await stream(live.port, {**victim, "nonce": NONCE}) == b"ERR not authorised\n"
    # the dialplan ends the intake (Set(HOTLINE_INTAKE=)): the unused nonce is void
    tracker.feed(Message(A.ev("VarSet", 130.0, VICTIM.snap(), Variable="HOTLINE_INTAKE", Value="")))
    await tracker.drain()
    assert await stream(live.port, {**victim, "nonce": "R" * 22}) == b"ERR not authorised\n"
    await asyncio.sleep(0.5)
    assert [c for c, _, _ in got] == []  # no transcript of anything refused


async def test_transcribe_script_sends_the_nonce_from_hotline_intake(setup):
    tracker, live, got, store = setup
    await route(tracker, VICTIM.uid, NONCE)

    class Asterisk(FakeAsterisk):
        def send(self, text: str) -> None:  # HOTLINE_INTAKE as the route set it
            if text.startswith("510") and self.commands and "HOTLINE_INTAKE" in self.commands[-1]:
                text = f"200 result=1 (127.0.0.1:{live.port},20,{NONCE})\n"
            super().send(text)

    ast = Asterisk(f"127.0.0.1:{live.port}", VICTIM.lid, "20")
    try:
        for _ in range(50):
            if live.connections:
                break
            await asyncio.sleep(0.1)
        assert live.connections == 1 and live.refused == 0, ast.commands
        assert any("HOTLINE_INTAKE" in c for c in ast.commands)
    finally:
        ast.kill()
