"""agi_scripts/transcribe.py run the way Asterisk runs an EAGI script.

The script gets the AGI environment on stdin, answers to its commands on
stdin, and the call's audio on fd 3 (a pipe); it streams to a real
`LiveServer` with the real Vosk model. The point of most tests: whatever way
the call ends, the script exits promptly and never hangs on fd 3.
"""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from ivr.speech.engine import SpeechEngine
from ivr.speech.live import LiveServer
from tests.support.speech_audio import FRAME, MAX_CER, call, cer, model_dir  # noqa: F401 (fixtures)
from tests.support.asterisk_harness import free_port

SCRIPT = Path(__file__).resolve().parents[2] / "agi_scripts" / "transcribe.py"
CALLER = "13912345678"
PROMPT = 3.0  # seconds within which the script must notice the end of the call and exit (CI is loaded)
# Put the audio pipe on fd 3 and exec the script (what res_agi does before exec).
MOVE_TO_FD3 = ("import os, sys; fd = int(sys.argv[1])\n"
               "if fd != 3: os.dup2(fd, 3); os.close(fd)\n"
               "os.execv(sys.executable, [sys.executable] + sys.argv[2:])")  # seconds within which the script must notice the end of the call


class FakeAsterisk:
    """Starts transcribe.py like res_agi's EAGI: env + replies on stdin, audio pipe as fd 3."""

    def __init__(self, *args: str, dead_channel: bool = False) -> None:
        audio_r, self.audio_w = os.pipe()
        self.dead_channel = dead_channel
        self.commands: list[str] = []
        self._stdin_lock = threading.Lock()
        self.proc = subprocess.Popen(
            [sys.executable, "-c", MOVE_TO_FD3, str(audio_r), str(SCRIPT), *args],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, pass_fds=(audio_r,))
        os.close(audio_r)
        env = {"agi_request": "transcribe.py", "agi_channel": "Local/intake@test-0000001a;2",
               "agi_language": "zh", "agi_type": "Local", "agi_uniqueid": "1700000000.5",
               "agi_version": "22.0.0", "agi_callerid": CALLER, "agi_calleridname": "unknown",
               "agi_context": "test-eagi", "agi_extension": "s", "agi_priority": "2",
               "agi_enhanced": "1.0", "agi_accountcode": "", "agi_threadid": "140000000000"}
        env.update({f"agi_arg_{i}": a for i, a in enumerate(args, 1)})
        self.send("".join(f"{k}: {v}\n" for k, v in env.items()) + "\n")
        self._replier = threading.Thread(target=self._reply, daemon=True)
        self._replier.start()

    def send(self, text: str) -> None:
        with self._stdin_lock:
            try:
                self.proc.stdin.write(text.encode())
                self.proc.stdin.flush()
            except (BrokenPipeError, ValueError):
                pass  # the script is gone

    def _reply(self) -> None:
        for raw in self.proc.stdout:
            command = raw.decode().strip()
            self.commands.append(command)
            if command.startswith("GET VARIABLE") and "EAGI_AUDIO_FORMAT" in command:
                self.send("200 result=1 (slin)\n")
            elif command.startswith("GET FULL VARIABLE"):
                self.send("200 result=1 (1700000000.5)\n")
            elif command.startswith("CHANNEL STATUS"):
                self.send("511 Command Not Permitted on a dead channel or intercept routine\n"
                          if self.dead_channel else "200 result=6\n")
            elif command.startswith("VERBOSE"):
                self.send("200 result=1\n")
            else:
                self.send("510 Invalid or unknown command\n")

    def play(self, audio: bytes, realtime_factor: float = 0.0) -> None:
        """Write audio to fd 3 in 20 ms frames (0 = as fast as the script reads)."""
        for i in range(0, len(audio), FRAME):
            try:
                os.write(self.audio_w, audio[i:i + FRAME])
            except BrokenPipeError:
                return  # the script has gone: the test's wait() reports why
            if realtime_factor:
                time.sleep(0.02 / realtime_factor)

    def close_audio(self) -> None:
        os.close(self.audio_w)
        self.audio_w = -1

    def wait(self, timeout: float) -> tuple[int, float, str]:
        """(exit status, seconds it took, stderr)."""
        started = time.monotonic()
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()  # a hang: fail with what the script said
            rc = self.proc.wait(5)
            pytest.fail(f"script still running after {timeout} s: {self.proc.stderr.read()!r}")
        took = time.monotonic() - started
        return rc, took, self.proc.stderr.read().decode(errors="replace")

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        if self.audio_w >= 0:
            self.close_audio()
        for f in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                f.close()
            except (BrokenPipeError, ValueError):
                pass  # stdin flush to a dead process


@pytest.fixture(scope="module")
def engine(model_dir):
    eng = SpeechEngine(model_dir, workers=2, backlog_seconds=120).start()
    yield eng
    eng.shutdown()


@pytest.fixture
async def live(engine):
    got: list[tuple[str, str, str]] = []
    server = await LiveServer(engine, lambda *a: got.append(a), port=0).start()
    server.got = got
    yield server
    await server.stop()


async def finals_for(server, call_id: str, timeout: float = 60.0) -> str:
    """The call's final text once the server closed its stream."""
    deadline = time.monotonic() + timeout
    while server.engine.active_streams or server.connections:
        assert time.monotonic() < deadline, "live stream never closed"
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.1)  # last callbacks hop from the worker to the loop
    return " ".join(t for c, k, t in server.got if c == call_id and k == "final")


async def test_streams_the_call_and_exits_at_end_of_audio(live, call):
    _, audio, reference = call
    ast = FakeAsterisk(f"127.0.0.1:{live.port}", "1700000000.5")
    try:
        await asyncio.to_thread(ast.play, audio)
        ast.close_audio()
        rc, took, err = await asyncio.to_thread(ast.wait, 10)
    finally:
        ast.kill()
    assert rc == 0 and took < PROMPT, (rc, took, err)
    assert "stopped (audio EOF)" in err
    assert CALLER not in err  # pyst2's debug dump of the AGI env (caller number) is silenced
    assert any(c.startswith("GET VARIABLE") and "EAGI_AUDIO_FORMAT" in c for c in ast.commands)
    text = await finals_for(live, "1700000000.5")
    assert cer(text, reference) <= MAX_CER, f"via EAGI {text!r}\nfile     {reference!r}"
    assert any(k == "partial" for c, k, _ in live.got if c == "1700000000.5")


async def test_exits_promptly_when_fd3_closes_mid_stream(live, call):
    _, audio, _ = call
    ast = FakeAsterisk(f"127.0.0.1:{live.port}")  # no call id argument: the linkedid is asked for
    try:
        await asyncio.to_thread(ast.play, audio[:16000], 4)  # 1 s of the call, then the line drops
        ast.close_audio()
        rc, took, err = await asyncio.to_thread(ast.wait, 10)
    finally:
        ast.kill()
    assert rc == 0 and took < PROMPT, (rc, took, err)
    assert any(c.startswith("GET FULL VARIABLE") for c in ast.commands)
    await finals_for(live, "1700000000.5")  # the server closed the stream of the cut call


@pytest.mark.parametrize("how", ["HANGUP line", "SIGHUP"])
async def test_exits_on_hangup_while_fd3_stays_open(live, call, how):
    _, audio, _ = call
    ast = FakeAsterisk(f"127.0.0.1:{live.port}", "1700000000.6")
    try:
        await asyncio.to_thread(ast.play, audio[:8000])
        await asyncio.sleep(0.3)
        if how == "SIGHUP":
            ast.proc.send_signal(signal.SIGHUP)
        else:
            ast.send("HANGUP\n")
        rc, took, err = await asyncio.to_thread(ast.wait, 10)  # fd 3 is still open here
    finally:
        ast.kill()
    assert rc == 0 and took < PROMPT, (rc, took, err)
    assert ("stopped (SIGHUP)" if how == "SIGHUP" else "stopped (hangup)") in err
    await finals_for(live, "1700000000.6")


async def test_exits_when_a_silent_channel_is_gone(live):
    ast = FakeAsterisk(f"127.0.0.1:{live.port}", "1700000000.7", dead_channel=True)
    try:  # no audio, fd 3 open, no HANGUP: only asking Asterisk reveals the hangup
        rc, took, err = await asyncio.to_thread(ast.wait, 15)
    finally:
        ast.kill()
    assert rc == 0 and took < 5.0 + PROMPT, (rc, took, err)
    assert any(c.startswith("CHANNEL STATUS") for c in ast.commands)


async def test_unreachable_server_never_holds_the_call():
    ast = FakeAsterisk(f"127.0.0.1:{free_port()}", "1700000000.8")
    try:
        rc, took, err = await asyncio.to_thread(ast.wait, 10)
    finally:
        ast.kill()
    assert rc == 0 and took < 4.0, (rc, took, err)
    assert "unavailable" in err
    assert any(c.startswith("VERBOSE") for c in ast.commands)
