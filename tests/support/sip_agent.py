"""A real agent desk phone for end-to-end tests: baresip registered to Asterisk, answering by itself.

Unlike tests/support/sip_phone.py (a caller that dials once), this phone
REGISTERs as an agent endpoint the product generated (transfer/dialplan.py,
password from pjsip_agents_auth.conf), answers every call (`answermode=auto`)
and is driven over baresip's `ctrl_tcp` socket (netstring JSON commands):
`hold()` / `resume()` send the re-INVITE a desk phone's 保持 key sends
(a=sendonly / a=sendrecv), so Asterisk sees a real SIP hold.
The process (its whole group) is killed when the context ends.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import AsyncIterator

from tests.support.asterisk_harness import free_port
from tests.support.sip_phone import BARESIP, base_config, write_voice


@dataclass
class DeskPhone:
    folder: Path
    ctrl_port: int

    @property
    def log(self) -> str:
        return (self.folder / "baresip.log").read_text(errors="replace")

    async def command(self, command: str, params: str = "") -> dict:
        """Send one ctrl_tcp command; returns baresip's response (netstring-framed JSON)."""
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", self.ctrl_port), 5)
        try:
            body = json.dumps({"command": command, "params": params, "token": command}).encode()
            writer.write(b"%d:%s," % (len(body), body))
            await writer.drain()
            while True:  # events may come first; the response carries "response": true
                length = int((await asyncio.wait_for(reader.readuntil(b":"), 5))[:-1])
                msg = json.loads((await reader.readexactly(length + 1))[:-1])
                if msg.get("response"):
                    return msg
        finally:
            writer.close()

    async def hold(self) -> dict:
        return await self.command("hold")

    async def resume(self) -> dict:
        return await self.command("resume")


@contextlib.asynccontextmanager
async def desk_phone(folder: Path, *, user: str, password: str, registrar: str,
                     seconds: int = 120) -> AsyncIterator[DeskPhone]:
    """baresip registered as `user` at `registrar` (host:port), answering every call, silent voice."""
    folder.mkdir(parents=True, exist_ok=True)
    voice = write_voice(folder / "voice.wav", seconds)
    ctrl = free_port()
    (folder / "config").write_text(base_config(voice) + f"""module ctrl_tcp.so
ctrl_tcp_listen 127.0.0.1:{ctrl}
""")
    (folder / "accounts").write_text(
        f"<sip:{user}@{registrar}>;auth_pass={password};answermode=auto;regint=60\n")
    with (folder / "baresip.log").open("wb") as log:
        proc = await asyncio.create_subprocess_exec(
            BARESIP, "-f", str(folder), stdin=asyncio.subprocess.DEVNULL, stdout=log,
            stderr=asyncio.subprocess.STDOUT, start_new_session=True)
    try:
        yield DeskPhone(folder, ctrl)
    finally:
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
        await proc.wait()
