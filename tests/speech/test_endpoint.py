"""End of utterance by our own endpointer: final text within half a second of the caller stopping.

Pure tests on synthetic audio (noise, speech-level bursts), then the real
engine with the real Vosk test model on espeak-ng speech fed in real time:
the delay from the last speech frame to the final text, and the text against
the recognizer's own endpointing on the same audio (character error rate).
"""
from __future__ import annotations

import numpy as np
import pytest

from ivr.speech.endpoint import Endpointer
from ivr.speech.engine import SpeechEngine
from tests.support.speech_audio import FRAME, call, cer, model_dir  # noqa: F401 (fixtures)

RATE = 8000
TARGET_DELAY = 0.5  # s, issue 17: end of speech -> final text in the pop, p95
ENDPOINT = 0.35     # s of silence, as config.yaml ships it; espeak's pauses at full stops inside a sentence are 0.30-0.34 s


def _noise(seconds: float, level: float = 32.0, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).normal(0, level, int(seconds * RATE))


def _burst(seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return 3000 * np.sin(2 * np.pi * 220 * t) + _noise(seconds)


def _pcm(*parts: np.ndarray) -> bytes:
    return np.clip(np.concatenate(parts), -32768, 32767).astype("<i2").tobytes()


def test_cut_after_speech_then_silence_only():
    ep = Endpointer(RATE, silence=0.3)
    audio = _pcm(_noise(1.0), _burst(0.8), _noise(1.0), _burst(0.6), _noise(0.2))
    cuts = ep.push(audio)
    # one cut, 0.3 s into the silence after the first burst; the second is still open
    assert cuts == [int((1.0 + 0.8 + 0.3) * RATE) * 2]


def test_cut_offsets_hold_whatever_size_the_audio_arrives_in():
    audio = _pcm(_noise(0.5), _burst(0.5), _noise(0.5), _burst(0.5), _noise(0.5))
    whole = Endpointer(RATE).push(audio)
    ep, cuts, fed = Endpointer(RATE), [], 0
    for size in (77, 333, 1000, 4097) * 50:
        chunk = audio[fed:fed + size]
        if not chunk:
            break
        cuts += [fed + c for c in ep.push(chunk)]
        fed += len(chunk)
    assert len(whole) == 2 and [c // 320 for c in cuts] == [c // 320 for c in whole]


def test_a_noisy_line_or_a_click_is_no_utterance():
    assert Endpointer(RATE).push(_pcm(_noise(3.0, level=150))) == []          # hiss under the speech level
    assert Endpointer(RATE).push(_pcm(_noise(1.0), _burst(0.04), _noise(1.0))) == []  # a click


@pytest.fixture(scope="module")
def engines(model_dir):
    ours = SpeechEngine(model_dir, workers=1, backlog_seconds=120, endpoint_silence=ENDPOINT).start()
    theirs = SpeechEngine(model_dir, workers=1, backlog_seconds=120).start()
    yield ours, theirs
    ours.shutdown()
    theirs.shutdown()


def _speech_ends(audio: bytes) -> list[float]:
    """Seconds where each sentence's speech ends (last 20 ms frame above the line noise)."""
    frames = np.frombuffer(audio, dtype="<i2").astype(np.float64)
    frames = frames[: len(frames) // 160 * 160].reshape(-1, 160)
    loud = np.sqrt((frames ** 2).mean(axis=1)) > 200
    ends, quiet = [], 0
    for i, is_loud in enumerate(loud):
        quiet = 0 if is_loud else quiet + 1
        if quiet == 40 and i >= 40 and loud[:i - 39].any():  # 0.8 s quiet: a sentence ended
            ends.append((i - 39) * 0.02)
    return ends


def _decode(engine, audio: bytes) -> tuple[str, list[tuple[float, str]]]:
    """Feed the call as fast as it goes; each final with the audio time it was decoded at."""
    finals: list[tuple[float, str]] = []
    holder: list = []
    stream = engine.open_stream("ep", on_final=lambda t: finals.append((holder[0].decoded_seconds, t)))
    holder.append(stream)
    for i in range(0, len(audio), FRAME):
        stream.feed(audio[i:i + FRAME])
    return stream.close(), finals


def _delays(ends: list[float], finals: list[tuple[float, str]]) -> list[float | None]:
    out = []
    for k, end in enumerate(ends):
        nxt = ends[k + 1] if k + 1 < len(ends) else float("inf")
        after = [at for at, _ in finals if end <= at < nxt]
        out.append(round(after[0] - end, 3) if after else None)
    return out


def test_final_text_within_half_a_second_of_the_end_of_speech(engines, call):
    """Delay in audio time: how much audio after the end of speech the recognizer had
    to hear before the final text came. That is the wait issue 17 measured (1.45 s,
    nearly all Vosk's own endpoint rule); the decode time on top depends on load
    and capacity, which benchmarks/asr.py measures (docs/tickets.md).

    The text is printed against Vosk's own endpointing, not asserted: on this
    Korean model and synthetic speech the decode is chaotic (the dither alone
    changes ~30 % of it), and utterances cut at other points give other text
    (measured: first sentence identical, CER 0.43 over the call, because Vosk
    joined sentences 2 and 3 into one utterance). benchmarks/asr.py measures the
    text against the direct decode's own instability; on the city's Chinese model
    that must be measured again with real calls."""
    ours, theirs = engines
    _, audio, reference = call
    ends = _speech_ends(audio)
    assert len(ends) == 3
    text, finals = _decode(ours, audio)
    vosk_text, vosk_finals = _decode(theirs, audio)
    delays, vosk_delays = _delays(ends, finals), _delays(ends, vosk_finals)
    print(f"\nend of speech -> final text, audio time: ours {delays} s, Vosk's own endpoint {vosk_delays} s")
    print(f"ours  {text!r} (CER {cer(text, reference):.3f})\nvosk  {vosk_text!r} (CER {cer(vosk_text, reference):.3f})")
    assert None not in delays and max(delays) < TARGET_DELAY
    assert None in vosk_delays or max(vosk_delays) > TARGET_DELAY   # what it replaces
    assert text.split()[:3] == vosk_text.split()[:3]                 # same words where cut alike
