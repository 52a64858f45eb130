"""`hotline call` against the real center: the narration matches what the call
did, line by line and as it happens; --say reaches the far end; exit codes."""
from __future__ import annotations

import asyncio
import datetime as dt
import os
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml
from pydub import AudioSegment

from ivr.asterisk import embedded
from ivr.calltest import CallRequest, place_call
from ivr.config.loader import load_config
from tests.support.asterisk_harness import free_port
from tests.support.audio import contains

pytestmark = pytest.mark.asterisk

REPO = Path(__file__).resolve().parents[2]
SH = dt.timezone(dt.timedelta(hours=8))
IN_TRANSITION = dt.datetime(2026, 12, 20, 10, 0, tzinfo=SH)
CALLER = "13912345678"
MERGED = "您好，欢迎您的来电，此号码热线功能已并入12345，业务咨询及投诉，请拨打12345热线"


def center_config(center):
    """The shipped config, pointed at the test center."""
    return load_config(REPO / "config.yaml", overrides={
        "asterisk.instance": center.name, "asterisk.root": str(center.root),
        "asterisk.ami.port": center.ami_port, "asterisk.ami.username": center.ami_user,
        "asterisk.ami.secret": center.ami_secret,
    })


async def narrate(center, request: CallRequest) -> tuple[int, list[tuple[float, str]], list[str]]:
    """Run the call; (exit code, (seconds since start, line) as printed, error lines)."""
    config = center_config(center)
    start = time.monotonic()
    lines: list[tuple[float, str]] = []
    errors: list[str] = []
    code = await place_call(config, request, ami_secret=center.ami_secret, sounds=embedded.center(config).sounds,
                            out=lambda line: lines.append((time.monotonic() - start, line)), err=errors.append)
    return code, lines, errors


async def test_12312_in_transition_skipping_the_prompt(hotline_server, center):
    await hotline_server(at=IN_TRANSITION)  # FastAGI in its worker process, as in production
    code, timed, errors = await narrate(center, CallRequest("12312", CALLER, dtmf="1", hold=4))
    lines = [line for _, line in timed]
    assert code == 0, (lines, errors)
    assert lines[0].startswith("calling 12312 from 139******78 (test call ")
    assert lines[1].startswith("plan: 12312 全国统一商务领域举报投诉咨询服务电话 (市商务局) "
                               "full_merge/transition -> prompt_then_forward queue:general [ticket T")
    assert lines[2:5] == [f"caller hears: 「{MERGED}」 (hotline/merged-commerce-12312)",
                          "caller presses 1", "caller skipped the prompt (key 1)"]
    assert lines[5].startswith("waiting in queue hotline-general (position ")
    assert lines[-1].startswith("call ended (Normal Clearing) after ")
    assert not any(CALLER in line for line in lines), "the caller's number must be masked"
    # printed as it happened, not at the end: the decision came at once, the end after --hold
    when = {prefix: next(t for t, line in timed if line.startswith(prefix)) for prefix in ("plan", "call ended")}
    assert when["plan"] < 2.5 and when["call ended"] >= 4


async def test_say_reaches_the_outside_number(hotline_server, center, center_ami, tmp_path):
    await hotline_server(at=IN_TRANSITION)  # FastAGI in its worker process, as in production
    # the caller's voice: a 16 kHz stereo chirp (the command converts it to 8 kHz mono)
    t = np.arange(int(2.0 * 16000)) / 16000
    chirp = (8000 * np.sin(2 * np.pi * (300 * t + 400 * t ** 2))).astype("<i2")
    voice = tmp_path / "voice.wav"
    stereo = AudioSegment(np.repeat(chirp, 2).tobytes(), frame_rate=16000, sample_width=2, channels=2)
    stereo.export(voice, format="wav")

    since = len(center_ami.events)
    code, timed, errors = await narrate(center, CallRequest("12315", CALLER, say=voice, hold=2))
    lines = [line for _, line in timed]
    assert code == 0, (lines, errors)
    assert lines[1].startswith("plan: 12315 12315市场监管投诉举报热线 (市市场监管局) dual_number/active -> "
                               "forward trunk:pstn/09438212315")
    assert lines[2:] == [
        "forwarded to Local/09438212315@sim-outside", "Local/09438212315@sim-outside answered",
        "caller says: voice.wav", "reached outside number 09438212315 (simulated outside line)", lines[-1]]
    assert lines[-1].startswith("call ended (Normal Clearing)")
    assert not list(center.sounds.glob("testcall-say-*")), "the converted WAV must be removed after the call"

    # the far end really heard the caller: its recording holds the chirp
    tag = lines[0].rsplit(" ", 1)[1].rstrip(")")
    mine = [e for e in center_ami.events[since:] if e.get("UserEvent") == "TestCall" and e.get("Tag") == tag]
    outside = [e for e in center_ami.events[since:] if e.get("UserEvent") == "SimOutside"
               and e.get("Linkedid") == mine[0]["Linkedid"]]
    recording = center.host / "recordings" / f"outside-09438212315-{outside[0]['Uniqueid']}.wav"
    reference = tmp_path / "voice8k.wav"
    AudioSegment.from_file(voice).set_channels(1).set_frame_rate(8000).export(reference, format="wav")
    await asyncio.sleep(1)  # MixMonitor closes its file after the hangup
    assert contains(recording, reference, seconds=1.0, skip=0.5) >= 0.8


async def test_server_down_the_fail_safe_is_narrated(center):
    code, timed, _ = await narrate(center, CallRequest("12333", CALLER, hold=2))
    lines = [line for _, line in timed]
    assert code == 0, lines
    assert lines[1] == "plan: no usable answer from the hotline server (FastAGI): fail-safe -> queue:general"
    assert lines[2].startswith("waiting in queue hotline-general")


def cli_config(center, tmp_path: Path, ami_port: int) -> Path:
    data = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
    data["asterisk"] |= {"instance": center.name, "root": str(center.root)}
    data["asterisk"]["ami"] |= {"port": ami_port, "username": center.ami_user}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


async def run_cli(*args: str, secret: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ivr.cli", "call", *args, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, env={**os.environ, "HOTLINE_AMI_SECRET": secret})
    try:
        out, err = await asyncio.wait_for(proc.communicate(), 60)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    return proc.returncode, out.decode(), err.decode()


async def test_cli_call_and_exit_codes(hotline_server, center, tmp_path):
    await hotline_server(at=IN_TRANSITION)  # FastAGI in its worker process, as in production
    config = cli_config(center, tmp_path, center.ami_port)
    code, out, err = await run_cli("12328", "--from", "13800001111", "--hold", "2", "-c", str(config),
                                   secret=center.ami_secret)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("calling 12328 from 138******11")
    assert lines[1].startswith("plan: 12328 全国交通运输服务监督电话 (市交通运输局) dual_number/active -> queue queue:general")
    assert any(line.startswith("waiting in queue hotline-general") for line in lines)

    closed = cli_config(center, tmp_path, free_port())
    code, out, err = await run_cli("12328", "-c", str(closed), secret=center.ami_secret)
    assert code == 3 and "cannot log in to Asterisk AMI at 127.0.0.1:" in err and not out

    code, _, err = await run_cli("12;328", "-c", str(config), secret=center.ami_secret)
    assert code == 2 and "not a number to dial" in err
