"""Test-side helpers for the real embedded Asterisk: instances on free ports,
an AMI connection, and calls placed with AMI Originate of Local channels.
"""
from __future__ import annotations

import asyncio
import os
import socket
import uuid
from pathlib import Path

from panoramisk import Manager

from ivr.asterisk import rootfs
from ivr.asterisk.instance import Instance
from tests.support.measure import free_port

ROOT = Path(os.environ.get("HOTLINE_ASTERISK_ROOT", "/var/lib/hotline/asterisk-root"))
AMI_USER = "hotline"
AMI_SECRET = "test-" + uuid.uuid4().hex[:12]


def free_sip_port() -> int:
    """A port free for both UDP (SIP) and TCP."""
    for _ in range(50):
        port = free_port(socket.SOCK_DGRAM)
        try:
            with socket.socket() as s:
                s.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
    raise RuntimeError("no free SIP port")


def new_instance(name: str, agi_port: int = 4573) -> Instance:
    rootfs.ensure_root(ROOT)
    return Instance(
        name=f"test-{name}-{os.getpid()}-{uuid.uuid4().hex[:6]}", root=ROOT,
        sip_port=free_sip_port(), ami_port=free_port(), ami_user=AMI_USER, ami_secret=AMI_SECRET,
        agi_port=agi_port,
    )


class Ami:
    """A real AMI connection to a test instance, collecting every event it sees."""

    def __init__(self, inst: Instance):
        self.inst = inst
        self.events: list[dict] = []
        self._pending: list[asyncio.Future] = []
        self.manager = Manager(host="127.0.0.1", port=inst.ami_port, username=inst.ami_user,
                               secret=inst.ami_secret, ping_delay=0, reconnect_timeout=0.5)
        self.manager.register_event("*", self._on_event)

    def _on_event(self, manager, message) -> None:
        self.events.append(dict(message))

    async def connect(self) -> "Ami":
        await asyncio.wait_for(self.manager.connect(), 10)
        return self

    def close(self) -> None:
        for fut in self._pending:
            fut.cancel()
        self.manager.close()

    async def action(self, action: dict, **kw):
        return await asyncio.wait_for(self.manager.send_action(action, **kw), 15)

    async def getvar(self, channel: str, name: str) -> str | None:
        reply = await self.action({"Action": "Getvar", "Channel": channel, "Variable": name})
        return reply.get("Value")

    async def originate(self, exten: str, *, context: str = "hotline-inbound", caller_context: str = "test-caller",
                        caller_exten: str = "s", callerid: str = "13912345678", variables: dict | None = None,
                        timeout_ms: int = 30000) -> str:
        """Call `exten@context` from a Local channel whose other end runs `caller_exten@caller_context`.

        Returns the call tag (HOTLINE_TEST_TAG) that marks every event of this call.
        """
        tag = uuid.uuid4().hex[:10]
        vars_ = {"HOTLINE_TEST_TAG": tag, "__HOTLINE_TEST_TAG": tag, **(variables or {})}
        # Not awaited to the end: panoramisk waits for OriginateResponse, which
        # comes only once the called side answers (a queue may never answer).
        self._pending.append(asyncio.ensure_future(self.manager.send_action({
            "Action": "Originate", "Channel": f"Local/{exten}@{context}", "Context": caller_context,
            "Exten": caller_exten, "Priority": "1", "CallerID": f'"test" <{callerid}>', "Timeout": str(timeout_ms),
            "Async": "true", "Variable": ",".join(f"{k}={v}" for k, v in vars_.items()),
        })))
        return tag

    async def wait_for(self, predicate, timeout: float = 20.0, since: int = 0) -> dict:
        """The first event (from index `since`) matching predicate(event); fails after timeout."""
        deadline = asyncio.get_running_loop().time() + timeout
        seen = since
        while True:
            while seen < len(self.events):
                event = self.events[seen]
                seen += 1
                if predicate(event):
                    return event
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"no matching AMI event within {timeout}s; last events: "
                                     + "; ".join(e.get("Event", "?") for e in self.events[-15:]))
            await asyncio.sleep(0.05)

    def user_events(self, tag: str, name: str) -> list[dict]:
        return [e for e in self.events if e.get("Event") == "UserEvent" and e.get("UserEvent") == name
                and e.get("Tag") == tag]
