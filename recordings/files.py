"""The recording files: names, waiting for Asterisk to close them, the stereo file, checksums.

MixMonitor (recordings/dialplan.py) writes two mono 16-bit WAVs per recorded
channel, `<id>.caller.wav` and `<id>.agent.wav`, and finishes writing them a
moment *after* the channel hangs up (its own thread flushes and rewrites the
WAV header on close). `wait_closed` polls, within a bounded time, until each
header's data length equals the bytes on disk and the size stops changing.
`finish` then interleaves both into one stereo WAV, `<id>.wav` (left: the
caller, right: the agent side), mode 0600, removes the two mono files and
returns size, sha256 and duration of what it wrote: one file per recorded
channel, playable in a browser (HTTP Range), each side still separable for
transcription (`split`).
"""
from __future__ import annotations

import asyncio
import hashlib
import os
import re
import time
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ivr.safefile import SECRET_MODE

ID_RE = re.compile(r"^[0-9A-Za-z._-]{1,120}$")
HEADER = 44  # Asterisk's format_wav header


class BadId(ValueError):
    pass


def checked_id(rec_id: str) -> str:
    """A recording id fit for a file name (what the dialplan also checked), else BadId."""
    if not isinstance(rec_id, str) or not ID_RE.match(rec_id) or rec_id.startswith("."):
        raise BadId(f"malformed recording id {rec_id!r}")
    return rec_id


@dataclass(frozen=True)
class Parts:
    caller: Path
    agent: Path
    stereo: Path


def parts(folder: Path, rec_id: str) -> Parts:
    base = Path(folder) / checked_id(rec_id)
    return Parts(base.with_name(base.name + ".caller.wav"), base.with_name(base.name + ".agent.wav"),
                 base.with_name(base.name + ".wav"))


def closed(path: Path) -> bool:
    """True when the WAV header's data length matches the file (Asterisk rewrites it on close)."""
    try:
        with open(path, "rb") as f:
            head = f.read(HEADER)
            size = os.fstat(f.fileno()).st_size
    except OSError:
        return False
    return len(head) == HEADER and int.from_bytes(head[40:44], "little") == size - HEADER


async def wait_closed(paths: list[Path], timeout: float, poll: float = 0.05) -> bool:
    """Until every existing file is closed and none grows (or none exists yet) for two polls; False on timeout."""
    deadline = time.monotonic() + timeout
    last: tuple | None = None
    while True:
        sizes = tuple(p.stat().st_size if p.exists() else -1 for p in paths)
        done = any(s >= 0 for s in sizes) and all(s < 0 or closed(p) for p, s in zip(paths, sizes))
        if done and sizes == last:
            return True
        last = sizes if done else None
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(poll)


def _samples(path: Path) -> tuple[np.ndarray, int]:
    """Samples and rate; the raw bytes after the header count, even if Asterisk never closed the file."""
    if not path.exists():
        return np.zeros(0, dtype="<i2"), 0
    raw = path.read_bytes()
    rate = int.from_bytes(raw[24:28], "little") if len(raw) >= HEADER else 0
    body = raw[HEADER:]
    return np.frombuffer(body[: len(body) // 2 * 2], dtype="<i2"), rate


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@dataclass(frozen=True)
class Written:
    size: int
    sha256: str
    duration: float


def finish(p: Parts, rate_default: int = 8000) -> Written | None:
    """The two mono files -> one stereo WAV (0600); None when there was no audio at all."""
    caller, r1 = _samples(p.caller)
    agent, r2 = _samples(p.agent)
    if not len(caller) and not len(agent):
        for f in (p.caller, p.agent):
            f.unlink(missing_ok=True)
        return None
    rate = r1 or r2 or rate_default
    n = max(len(caller), len(agent))
    both = np.zeros((n, 2), dtype="<i2")
    both[: len(caller), 0] = caller
    both[: len(agent), 1] = agent
    tmp = p.stereo.with_name("." + p.stereo.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, SECRET_MODE)
    os.fchmod(fd, SECRET_MODE)  # whatever the umask: only the service reads a recording
    with os.fdopen(fd, "wb") as f, wave.open(f, "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(both.tobytes())
    os.replace(tmp, p.stereo)
    for f in (p.caller, p.agent):
        f.unlink(missing_ok=True)
    return Written(p.stereo.stat().st_size, sha256_of(p.stereo), round(n / rate, 3))


def split(stereo: Path, out_dir: Path) -> tuple[Path, Path]:
    """The caller's and the agent's side of a stereo recording as two mono WAVs in `out_dir` (for the recognizer)."""
    with wave.open(str(stereo), "rb") as w:
        rate, channels = w.getframerate(), w.getnchannels()
        data = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").reshape(-1, channels)
    out = []
    for i, side in enumerate(("caller", "agent")):
        path = Path(out_dir) / f"{side}.wav"
        with wave.open(str(path), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(rate)
            w.writeframes(np.ascontiguousarray(data[:, min(i, channels - 1)]).tobytes())
        out.append(path)
    return out[0], out[1]
