"""Decoding whole recordings (quality inspection, spooled audio after a call).

A `FileJob` runs on the engine's workers at batch priority, one slice of the
file per turn, so a long recording never holds a core while live calls wait.
Its `Transcript` keeps per-utterance times (from Vosk's word times) so a
reviewer can jump to the place in the recording; `write_sidecar` stores it as
JSON next to the recording.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
import wave
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol

import numpy as np

from ivr.safefile import SECRET_MODE, write_atomic
from ivr.speech.decoder import Decoder
from ivr.speech.errors import BadAudio

log = logging.getLogger(__name__)


class Recognizer(Protocol):
    """The loaded model a file job decodes with (ivr.speech.engine.SpeechEngine is one)."""

    model: Any
    info: Any  # ivr.speech.model.ModelInfo once loaded


def call_safely(callback: Callable[..., Any] | None, *args: Any) -> None:
    """Hand a result to a consumer; a consumer's bug must not stop decoding."""
    if callback is None:
        return
    try:
        callback(*args)
    except Exception:
        log.exception("speech callback %r failed", callback)

SIDECAR_SUFFIX = ".asr.json"
SLICE_SECONDS = 1.0  # audio decoded per turn: bounds how long live streams wait behind a file


@dataclass
class Utterance:
    start: float
    end: float
    text: str


@dataclass
class Transcript:
    path: str
    text: str
    utterances: list[Utterance] = field(default_factory=list)
    duration: float = 0.0       # seconds of audio
    elapsed: float = 0.0        # seconds spent decoding (wall clock, including queueing)
    model: str = ""
    sample_rate: int = 0        # the recording's rate
    transcribed_at: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def sidecar_path(recording: str | Path) -> Path:
    recording = Path(recording)
    return recording.with_name(recording.name + SIDECAR_SUFFIX)


def write_sidecar(result: Transcript) -> Path:
    path = sidecar_path(result.path)
    # what a caller said: 0600 like the audio; readers never see half a file
    write_atomic(path, json.dumps(result.to_json(), ensure_ascii=False, indent=1), SECRET_MODE)
    return path


def to_mono(frames: bytes, channels: int) -> bytes:
    if channels == 1:
        return frames
    samples = np.frombuffer(frames, dtype="<i2").reshape(-1, channels)
    return samples.mean(axis=1).round().astype("<i2").tobytes()


def open_wav(path: Path) -> wave.Wave_read:
    """Open a 16-bit PCM WAV or raise BadAudio saying what is wrong."""
    try:
        w = wave.open(str(path), "rb")
    except (OSError, EOFError, wave.Error) as exc:
        raise BadAudio(f"{path}: cannot read as WAV ({str(exc) or 'file too short'})") from exc
    if w.getsampwidth() != 2 or w.getcomptype() != "NONE":
        w.close()
        raise BadAudio(f"{path}: only 16-bit PCM WAV is supported "
                       f"(convert with: sox {path.name} -b 16 -e signed-integer out.wav)")
    return w


class FileJob:
    """Decode one recording on the engine's workers; wait with `result()`."""

    def __init__(self, path: Path, engine: Recognizer, on_done: Callable[[Transcript], None] | None,
                 progress: Callable[[float], None] | None, grammar: list[str] | None = None) -> None:
        self.path, self.engine, self.grammar = path, engine, grammar
        self.call_id = str(path)  # for the worker's log lines
        self._on_done, self._progress = on_done, progress
        self._wav: wave.Wave_read | None = None
        self._decoder: Decoder | None = None
        self._utterances: list[Utterance] = []
        self._read = 0
        self._started = time.monotonic()
        self._done = threading.Event()
        self._result: Transcript | None = None
        self._error: Exception | None = None

    def result(self, timeout: float | None = None) -> Transcript:
        if not self._done.wait(timeout):
            raise TimeoutError(f"{self.path}: transcription not finished after {timeout} s")
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result

    def _step(self) -> bool:
        try:
            if self._wav is None:
                self._open()
            w = self._wav
            frames = w.readframes(int(SLICE_SECONDS * w.getframerate()))
        except BadAudio as exc:
            self._fail(exc)
            return False
        except (OSError, EOFError, wave.Error) as exc:
            self._fail(BadAudio(f"{self.path}: read failed ({exc})"))
            return False
        if frames:
            self._read += len(frames) // (2 * w.getnchannels())
            for result in self._decoder.accept(to_mono(frames, w.getnchannels())):
                self._utterance(result)
            if self._progress and w.getnframes():
                call_safely(self._progress, min(1.0, self._read / w.getnframes()))
            return True
        for result in self._decoder.finish():
            self._utterance(result)
        self._finish()
        return False

    def _open(self) -> None:
        self._wav = open_wav(self.path)
        self._decoder = Decoder(self.engine.model, self.engine.info, self._wav.getframerate(), words=True,
                                grammar=self.grammar)

    def _utterance(self, res: dict) -> None:
        text = res["text"]
        words = res.get("result") or []
        start = words[0]["start"] if words else 0.0
        end = words[-1]["end"] if words else 0.0
        self._utterances.append(Utterance(round(start, 2), round(end, 2), text))

    def _finish(self) -> None:
        w = self._wav
        self._result = Transcript(
            path=str(self.path),
            text=" ".join(u.text for u in self._utterances),
            utterances=self._utterances,
            duration=round(self._read / w.getframerate(), 3),
            elapsed=round(time.monotonic() - self._started, 3),
            model=str(self.engine.info.path),
            sample_rate=w.getframerate(),
            transcribed_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        )
        w.close()
        self._decoder = None
        self._done.set()
        call_safely(self._on_done, self._result)

    def _fail(self, exc: Exception | None = None) -> None:
        self._error = exc or BadAudio(f"{self.path}: transcription failed (see log)")
        if self._wav is not None:
            self._wav.close()
        self._decoder = None
        self._done.set()
