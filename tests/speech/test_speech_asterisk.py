"""Live transcription end to end through the real embedded Asterisk.

A Local channel call: one half runs EAGI(transcribe.py) — Asterisk's own
python3 in its root, pyst2, audio on fd 3 — the other half plays the espeak-ng
test call from the instance's sounds folder. The live server must produce the
text that the same WAV gives when decoded straight from the file.
"""
from __future__ import annotations

import asyncio
import shutil
import time

import pytest

from ivr.speech.engine import SpeechEngine
from ivr.speech.live import LiveServer
from tests.support.speech_audio import MAX_CER, call, cer, model_dir  # noqa: F401 (fixtures)

pytestmark = pytest.mark.asterisk


async def test_eagi_call_audio_is_transcribed_live(center, center_ami, model_dir, call):
    wav, audio, reference = call
    sound = center.sounds / "speech-test.wav"
    shutil.copy(wav, sound)
    got: list[tuple[str, str, str]] = []
    engine = SpeechEngine(model_dir, workers=2, backlog_seconds=120).start()
    server = await LiveServer(engine, lambda *a: got.append((time.monotonic(), *a)), port=0).start()
    try:
        since = len(center_ami.events)
        tag = await center_ami.originate(
            "s", context="test-speech-eagi", caller_context="test-speech-say",
            variables={"__HOTLINE_LIVE_ADDR": f"127.0.0.1:{server.port}", "__HOTLINE_TEST_SOUND": "speech-test"})
        done = await center_ami.wait_for(
            lambda e: e.get("UserEvent") == "EagiDone" and e.get("Tag") == tag,
            timeout=len(audio) / 16000 + 30, since=since)
        deadline = time.monotonic() + 30
        while server.connections and time.monotonic() < deadline:  # the script hung up: the stream closes
            await asyncio.sleep(0.05)
        assert not server.connections, "the live connection outlived the call"
    finally:
        await server.stop()
        engine.shutdown()
        sound.unlink(missing_ok=True)
    assert done.get("Status") == "HANGUP"  # the script ran until the caller side hung up
    mine = [(kind, text) for _, call_id, kind, text in got if call_id == tag]
    kinds = [k for k, _ in mine]
    assert "partial" in kinds and kinds.index("partial") < kinds.index("final"), mine
    text = " ".join(t for k, t in mine if k == "final")
    assert cer(text, reference) <= MAX_CER, f"through Asterisk {text!r}\nfrom the file    {reference!r}"
