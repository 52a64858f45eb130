"""sipp for the security tests: one scripted SIP call from a chosen loopback address.

`refused.xml` sends an INVITE and passes only on 401 or 403; `call()` runs a
scenario (built-in `uac` by default) and returns sipp's exit code and output.
The process is always waited for or killed: no sipp outlives its test.
"""
from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from pathlib import Path

from tests.support.asterisk_harness import free_port

HERE = Path(__file__).parent

# The INVITE (with a G.711 offer) both scenarios open with; {user} is the From/Contact user.
INVITE = """  <send retrans="500"><![CDATA[
INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: "{user}" <sip:{user}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: sip:{user}@[local_ip]:[local_port]
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

v=0
o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0
a=rtpmap:0 PCMU/8000

]]></send>
"""

REFUSED = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="refused">
{invite}  <recv response="100" optional="true"/>
  <recv response="401" optional="true" next="done"/>
  <recv response="403"/>
  <label id="done"/>
</scenario>
"""


@dataclass
class SippResult:
    returncode: int | None
    output: str


async def call(target: str, number: str, *, source: str = "127.0.0.1", scenario: Path | None = None,
               builtin: str = "uac", timeout: float = 20, extra: tuple[str, ...] = ()) -> SippResult:
    """Run one sipp call from `source` to `target` (host:port) dialing `number`."""
    args = ["sipp", target, "-s", number, "-i", source, "-p", str(free_port(2)), "-m", "1", "-l", "1",
            "-timeout", f"{int(timeout)}s", "-timeout_error", "-nostdin", "-mp", str(free_port(2)), *extra]
    args += ["-sf", str(scenario)] if scenario else ["-sn", builtin]
    proc = await asyncio.create_subprocess_exec(*args, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.STDOUT, start_new_session=True)
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), timeout + 10)
    finally:
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
    return SippResult(proc.returncode, out.decode(errors="replace"))


def refused_scenario(folder: Path, user: str) -> Path:
    path = folder / f"refused-{user}.xml"
    path.write_text(REFUSED.replace("{invite}", INVITE).replace("{user}", user), encoding="utf-8")
    return path
