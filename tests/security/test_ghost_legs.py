"""A caller leg that vanishes without a BYE is hung up and leaves the queue (issue 11, rtp_timeout).

sipp calls an old number over SIP/RTP on loopback, sends RTP (a low tone)
through the merged prompt into the 12345 general queue, and is then killed:
no BYE, no more RTP. Asterisk (endpoint rtp_timeout, here 3 s) hangs the leg
up within rtp_timeout + 5 s, and the queue lets it go. Before rtp_timeout the
dead leg stayed in hotline-general for good.
"""
from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import math
import struct
import subprocess
from pathlib import Path

import pytest

from ivr.asterisk.embedded import install_agi_scripts
from ivr.config.loader import load_config
from ivr.dialplan.build import instance_files
from ivr.prompts import BUILD_DIR, build_for
from ivr.prompts.build import install
from tests.support.asterisk_harness import Ami, free_port, new_instance
from tests.security.sipp import INVITE
from tests.support.private_center import Clock

pytestmark = pytest.mark.asterisk

REPO = Path(__file__).resolve().parents[2]
SH = dt.timezone(dt.timedelta(hours=8))
IN_TRANSITION = dt.datetime(2026, 12, 20, 10, 0, tzinfo=SH)  # 12312: merged prompt, then 12345
RTP_TIMEOUT = 3
CALLER = "13912340000"

SCENARIO = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="vanishing caller">
{invite}  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rtd="true"/>
  <send><![CDATA[
ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: "{user}" <sip:{user}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 1 ACK
Contact: sip:{user}@[local_ip]:[local_port]
Max-Forwards: 70
Content-Length: 0

]]></send>
  <nop><action><exec rtp_stream="{wav},-1,0"/></action></nop>
  <pause milliseconds="120000"/>
</scenario>
"""


def ulaw_tone(path: Path, seconds: float = 2.0) -> Path:
    """A quiet 400 Hz tone as an 8 kHz mu-law WAV (what sipp's rtp_stream sends)."""
    import audioop

    pcm = b"".join(struct.pack("<h", int(2000 * math.sin(2 * math.pi * 400 * i / 8000)))
                   for i in range(int(8000 * seconds)))
    data = audioop.lin2ulaw(pcm, 2)
    fmt = struct.pack("<HHIIHH", 7, 1, 8000, 8000, 1, 8)
    path.write_bytes(b"RIFF" + struct.pack("<I", 4 + 8 + len(fmt) + 8 + len(data)) + b"WAVE"
                     + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data)
    return path


def rtp_sockets(pid: int | None) -> list[str]:
    """Local addresses of Asterisk's UDP sockets in the RTP range (rtp.conf: 20000-30000)."""
    out = subprocess.run(["ss", "-Hunap"], capture_output=True, text=True, timeout=10).stdout
    found = []
    for row in out.splitlines():
        cols = row.split()
        if len(cols) >= 4 and f"pid={pid}," in row:
            port = cols[3].rpartition(":")[2]
            if port.isdigit() and 20000 <= int(port) <= 30000:
                found.append(cols[3])
    return found


@pytest.fixture(scope="module")
async def ghost_center(tmp_path_factory):
    """An embedded center with rtp_timeout 3 s and its real server (FastAGI + AMI)."""
    from ivr.server import HotlineServer

    tmp = tmp_path_factory.mktemp("ghost")
    agi_port = free_port()
    inst = new_instance("ghost", agi_port)
    config = load_config(REPO / "config.yaml", env={}, overrides={
        "asterisk.ami.port": inst.ami_port, "asterisk.ami.username": inst.ami_user,
        "asterisk.rtp_timeout": RTP_TIMEOUT, "asterisk.rtp_timeout_hold": RTP_TIMEOUT,
        "fastagi.port": agi_port, "web.port": 0, "database.url": f"sqlite:///{tmp}/hotline.db"})
    inst.write_config(instance_files(config, "center"))
    install_agi_scripts(inst)
    build_for(config)
    install(BUILD_DIR, inst.sounds)
    inst.start()
    ami = await Ami(inst).connect()
    clock = Clock(IN_TRANSITION)
    server = HotlineServer(config, ami_secret=inst.ami_secret, clock=clock)
    await server.start()
    try:
        yield inst, ami, tmp
    finally:
        await server.stop()
        ami.close()
        inst.remove()


async def test_vanished_caller_is_hung_up_and_leaves_the_queue(ghost_center):
    inst, ami, tmp = ghost_center
    scenario = tmp / "ghost.xml"
    text = SCENARIO.replace("{invite}", INVITE).replace("{user}", CALLER)
    scenario.write_text(text.replace("{wav}", str(ulaw_tone(tmp / "tone.wav"))), encoding="utf-8")
    since = len(ami.events)
    proc = await asyncio.create_subprocess_exec(
        "sipp", f"127.0.0.1:{inst.sip_port}", "-s", "12312", "-i", "127.0.0.1", "-p", str(free_port(2)),
        "-mp", str(free_port(2)), "-m", "1", "-sf", str(scenario), "-nostdin", "-timeout", "120s",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL, start_new_session=True)
    try:
        joined = await ami.wait_for(lambda e: e.get("Event") == "QueueCallerJoin" and e.get("Queue") == "hotline-general"
                                    and e.get("Channel", "").startswith("PJSIP/anonymous-"), timeout=40, since=since)
        channel = joined["Channel"]
        await asyncio.sleep(1)
        assert not [e for e in ami.events[since:] if e.get("Event") == "Hangup" and e.get("Channel") == channel], \
            "the caller was hung up while RTP still flowed"
        assert rtp_sockets(inst.pid()) and all(a.startswith("127.0.0.1:") for a in rtp_sockets(inst.pid())), \
            f"embedded RTP must listen on 127.0.0.1 only: {rtp_sockets(inst.pid())}"
        proc.kill()  # the caller vanishes: no BYE, no more RTP
        await proc.wait()
        gone = asyncio.get_running_loop().time()
        left = len(ami.events)
        await ami.wait_for(lambda e: e.get("Event") == "Hangup" and e.get("Channel") == channel,
                           timeout=RTP_TIMEOUT + 5, since=left)
        assert asyncio.get_running_loop().time() - gone <= RTP_TIMEOUT + 5
        await ami.wait_for(lambda e: e.get("Event") == "QueueCallerLeave" and e.get("Channel") == channel,
                           timeout=2, since=since)
        status = await ami.action({"Action": "QueueStatus", "Queue": "hotline-general"}, as_list=True)
        assert not [m for m in status if m.get("Event") == "QueueEntry" and m.get("Channel") == channel]
    finally:
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
