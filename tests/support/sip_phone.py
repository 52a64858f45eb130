"""A real SIP phone for end-to-end tests: baresip, headless, on 127.0.0.1.

baresip (Debian package baresip-core) places one call: it sends the INVITE,
negotiates G.711 in SDP, sends RTP from a WAV file (`aufile`: the caller's
voice, silence by default) and records the audio it receives after decoding
(`sndfile` writes `dump-<time>-dec.wav`): exactly what the caller heard.
`-t SECONDS` makes it hang up (BYE) and exit; the process is killed in any
case when the `dial()` context ends.
"""
from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import AsyncIterator

from tests.support.asterisk_harness import free_port
from tests.support.audio import write_wav

BARESIP = "baresip"
MODULES = "/usr/lib/baresip/modules"
RATE = 8000


@dataclass
class PhoneCall:
    """A finished call: baresip's exit code and log, and what the caller heard."""
    returncode: int | None
    log: str
    heard: Path | None

    @property
    def established(self) -> bool:
        return "Call established" in self.log


def free_phone_port() -> int:
    """A port p with UDP p, TCP p and TCP p+1 free: baresip listens on all three (SIP over UDP, TCP, TLS)."""
    for _ in range(50):
        port = free_port(socket.SOCK_DGRAM)
        try:
            with socket.socket() as tcp, socket.socket() as tls:
                tcp.bind(("127.0.0.1", port))
                tls.bind(("127.0.0.1", port + 1))
            return port
        except OSError:
            continue
    raise RuntimeError("no free port for the SIP phone")


def write_voice(path: Path, seconds: float, say: Path | None = None) -> Path:
    """The caller's voice: `say` (8 kHz mono 16-bit WAV) padded with silence to `seconds`.

    aufile ends the call when its file runs out, so the file outlasts the call.
    """
    frames = b""
    if say is not None:
        with wave.open(str(say), "rb") as w:
            shape = (w.getframerate(), w.getnchannels(), w.getsampwidth())
            assert shape == (RATE, 1, 2), f"{say}: not 8 kHz mono 16-bit"
            frames = w.readframes(w.getnframes())
    frames += b"\0\0" * max(0, int(seconds * RATE) - len(frames) // 2)
    return write_wav(path, frames, RATE)


def base_config(voice: Path) -> str:
    """What every test phone's baresip config has: loopback only, G.711, a file for a voice, no sound card."""
    return f"""poll_method epoll
sip_listen 127.0.0.1:{free_phone_port()}
net_interface 127.0.0.1
audio_source aufile,{voice}
audio_player aubridge,nowhere
audio_alert aubridge,nowhere
module_path {MODULES}
module account.so
module menu.so
module g711.so
module aufile.so
module aubridge.so
"""


def write_config(folder: Path, caller: str, voice: Path) -> None:
    (folder / "dump").mkdir(parents=True, exist_ok=True)
    (folder / "config").write_text(base_config(voice) + f"""module sndfile.so
snd_path {folder / "dump"}
""")
    # regint=0: no REGISTER, the phone just calls (Asterisk's `anonymous` endpoint takes it)
    (folder / "accounts").write_text(f"<sip:{caller}@127.0.0.1>;regint=0\n")


@contextlib.asynccontextmanager
async def dial(folder: Path, uri: str, *, caller: str, seconds: int, say: Path | None = None
               ) -> AsyncIterator[asyncio.Future]:
    """Start baresip calling `uri` for `seconds`; yields a future of the `PhoneCall`.

    Leaving the context kills baresip (its whole process group) if it is still running.
    """
    folder.mkdir(parents=True, exist_ok=True)
    voice = write_voice(folder / "voice.wav", seconds + 10, say)
    write_config(folder, caller, voice)
    log_path = folder / "baresip.log"
    with log_path.open("wb") as log:
        proc = await asyncio.create_subprocess_exec(
            BARESIP, "-f", str(folder), "-e", f"/dial {uri}", "-t", str(seconds),
            stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=asyncio.subprocess.STDOUT,
            start_new_session=True)

    async def finished() -> PhoneCall:
        try:
            await asyncio.wait_for(proc.wait(), seconds + 15)
        except asyncio.TimeoutError:
            pass
        dumps = sorted((folder / "dump").glob("dump-*-dec.wav"))
        return PhoneCall(proc.returncode, log_path.read_text(errors="replace"), dumps[-1] if dumps else None)

    task = asyncio.ensure_future(finished())
    try:
        yield task
    finally:
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
        await proc.wait()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
