"""Turn prompts into what Asterisk plays: `<id>.wav` (8 kHz) and `<id>.wav16` (16 kHz).

Operator recordings (wav/mp3, any rate or channels) are converted with
pydub: mono, leading/trailing silence trimmed, loudness normalised. A prompt
with no recording gets a placeholder spoken by espeak-ng from its text, and
is marked as such in the build index. Only what changed is rebuilt: each
output's inputs are hashed into `index.json`.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from pydub import AudioSegment
from pydub.silence import detect_leading_silence

from ivr.prompts.manifest import Prompt
from ivr.safefile import write_atomic

TARGET_DBFS = -18.0          # speech level that sits well on a phone line
SILENCE_THRESHOLD_DBFS = -45.0
EDGE_MS = 60                 # keep a little air at each end after trimming
RATES = {".wav": 8000, ".wav16": 16000}
BUILD_VERSION = "1"          # bump when the processing changes: everything rebuilds
ESPEAK_VOICE = "cmn"         # Mandarin
ESPEAK_SPEED = "230"         # words per minute: placeholders need not be slow


class PromptError(RuntimeError):
    pass


@dataclass
class BuildResult:
    built: list[str]
    unchanged: list[str]
    placeholders: list[str]


def _digest(prompt: Prompt) -> str:
    h = hashlib.sha256(f"{BUILD_VERSION}\0{prompt.id}\0{prompt.text}\0".encode())
    if prompt.source:
        h.update(prompt.source.read_bytes())
    else:
        h.update(f"{ESPEAK_VOICE}:{ESPEAK_SPEED}".encode())
    return h.hexdigest()


def synthesize(text: str, out: Path) -> None:
    """A placeholder recording of `text` (espeak-ng, Mandarin)."""
    if not shutil.which("espeak-ng"):
        raise PromptError("espeak-ng is not installed (apt-get install espeak-ng) and a prompt has no recording")
    proc = subprocess.run(["espeak-ng", "-v", ESPEAK_VOICE, "-s", ESPEAK_SPEED, "-w", str(out), text],
                          capture_output=True, text=True)
    if proc.returncode != 0 or not out.exists():
        raise PromptError(f"espeak-ng failed: {proc.stderr.strip()}")


def process(audio: AudioSegment) -> AudioSegment:
    """Mono, trimmed, normalised: what every prompt goes through."""
    audio = audio.set_channels(1).set_sample_width(2)
    start = max(0, detect_leading_silence(audio, SILENCE_THRESHOLD_DBFS) - EDGE_MS)
    end = max(0, detect_leading_silence(audio.reverse(), SILENCE_THRESHOLD_DBFS) - EDGE_MS)
    trimmed = audio[start:len(audio) - end]
    if len(trimmed) == 0 or trimmed.dBFS == float("-inf"):
        raise PromptError("the recording is silent")
    return trimmed.apply_gain(TARGET_DBFS - trimmed.dBFS)


def _load(prompt: Prompt, tmp: Path) -> AudioSegment:
    if prompt.source is None:
        if not prompt.text.strip():
            raise PromptError(f"prompt {prompt.id}: no recording and no text")
        wav = tmp / f"{prompt.id}.tts.wav"
        synthesize(prompt.text, wav)
        return AudioSegment.from_wav(wav)
    try:
        return AudioSegment.from_file(prompt.source)
    except Exception as exc:  # pydub/ffmpeg raise many kinds
        raise PromptError(f"prompt {prompt.id}: cannot read {prompt.source}: {exc}") from exc


def build(prompts: list[Prompt], out_dir: Path, progress: Callable[[str], None] = lambda _m: None) -> BuildResult:
    """Build what changed; two builds into one folder (an operator's and a service's) take turns,
    and a reader (`install`, Asterisk) sees each file whole, old or new."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / ".build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _build(prompts, out_dir, progress)


def _build(prompts: list[Prompt], out_dir: Path, progress: Callable[[str], None]) -> BuildResult:
    index_path = out_dir / "index.json"
    index = json.loads(index_path.read_text()) if index_path.is_file() else {}
    result = BuildResult([], [], [])
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".staging-") as tmp:
        for n, prompt in enumerate(prompts, 1):
            digest = _digest(prompt)
            outputs = [out_dir / f"{prompt.id}{ext}" for ext in RATES]
            if prompt.source is None:
                result.placeholders.append(prompt.id)
            if index.get(prompt.id, {}).get("digest") == digest and all(p.exists() for p in outputs):
                result.unchanged.append(prompt.id)
                continue
            progress(f"[{n}/{len(prompts)}] {prompt.id}" + (" (placeholder from text)" if prompt.source is None else ""))
            audio = process(_load(prompt, Path(tmp)))
            for ext, rate in RATES.items():
                staged = Path(tmp) / f"{prompt.id}{ext}"
                audio.set_frame_rate(rate).export(staged, format="wav")
                shutil.move(staged, out_dir / staged.name)  # same file system: a rename
            index[prompt.id] = {
                "digest": digest, "text": prompt.text, "placeholder": prompt.source is None,
                "source": str(prompt.source) if prompt.source else None, "ms": len(audio),
            }
            result.built.append(prompt.id)
    stale = set(index) - {p.id for p in prompts}
    for pid in stale:
        index.pop(pid)
        for ext in RATES:
            (out_dir / f"{pid}{ext}").unlink(missing_ok=True)
    write_atomic(index_path, json.dumps(index, ensure_ascii=False, indent=1, sort_keys=True), mode=0o644)
    return result


def install(out_dir: Path, sounds_dir: Path) -> int:
    """Copy built prompts into an Asterisk sounds folder (e.g. an instance's sounds/)."""
    sounds_dir.mkdir(parents=True, exist_ok=True)
    count = 0
    with open(out_dir / ".build.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_SH)  # not while a build prunes or replaces
        for path in out_dir.iterdir():
            if path.suffix in RATES:
                shutil.copy2(path, sounds_dir / path.name)
                count += 1
    return count
