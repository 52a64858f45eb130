"""One transfer's state, and what the service asks Asterisk to do for it.

`LegActions` holds every AMI action of a transfer: originate the transfer leg
(Local/<agent>@hotline-xfer-leg, its halves given known uniqueids
`<id>-1`/`<id>-2` so their events are recognised), send a lone caller
straight to a line, set or clear the caller's guard variable, mute the caller
(attended: on hold), hang a channel up. An error answer raises
`AmiActionError`, except for clean-up actions on channels that may be gone.
"""
from __future__ import annotations

import asyncio
import logging
import re
import time
from dataclasses import dataclass, field
from typing import Any

from ivr.ami.client import AmiActionError, AmiError
from ivr.dialplan import variables as V
from transfer.dialplan import DIRECT_CONTEXT, JOIN_CONTEXT, LEG_CONTEXT
from transfer.targets import Target

log = logging.getLogger(__name__)

LEG_ORIGINATE_TIMEOUT_MS = 10000
# The leg's exten is the transferring agent's id, so the call tracker counts the
# leg as that agent's own call (not a second citizen call).
_EXTEN_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_.+-]+$")


class TransferError(RuntimeError):
    """Asterisk would not start the transfer (the caller is untouched)."""


@dataclass(eq=False)
class Transfer:
    id: str
    call_id: str
    target: Target
    mode: str
    by: str | None                 # who asked (agent, supervisor; None: the speech layer)
    agent: str | None              # the call's agent, who is told about each step
    caller: str                    # the caller's channel
    agent_channel: str | None
    direct: bool = False
    state: str = "starting"        # starting ringing consulting connected | completed failed cancelled
    far_channel: str | None = None
    muted: bool = False
    joined: bool = False
    reason: str = ""
    rescued: bool = False
    record: Any = None             # future of the `transfers` row id
    extra: dict[str, Any] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)
    answered_after: float | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def leg1(self) -> str:
        return f"{self.id}-1"

    @property
    def leg2(self) -> str:
        return f"{self.id}-2"

    def summary(self) -> dict[str, Any]:
        return {"id": self.id, "call_id": self.call_id, "kind": self.target.kind, "target": self.target.target,
                "label": self.target.label, "mode": self.mode, "status": self.state, "reason": self.reason,
                "rescued": self.rescued}


class LegActions:
    def __init__(self, ami: Any) -> None:
        self.ami = ami

    async def originate(self, xfer: Transfer) -> None:
        exten = xfer.agent if xfer.agent and _EXTEN_RE.match(xfer.agent) else "hotline-xfer"
        variables = {
            V.XFER_ID: xfer.id, V.XFER_CALLER: xfer.caller,
            V.XFER_AGENT: xfer.agent_channel or "", V.XFER_DIAL: xfer.target.dial or "",
            V.XFER_QUEUE: xfer.target.queue or "", V.XFER_TIMEOUT: str(xfer.target.timeout),
            # ringback while the far end rings, except in a three-way (caller and agent talk on)
            V.XFER_RING: "" if xfer.mode == "threeway" else "r",
        }
        await self.checked({
            "Action": "Originate", "Channel": f"Local/{exten}@{LEG_CONTEXT}", "Context": JOIN_CONTEXT,
            "Exten": "s", "Priority": "1", "Async": "true", "Timeout": str(LEG_ORIGINATE_TIMEOUT_MS),
            "ChannelId": xfer.leg1, "OtherChannelId": xfer.leg2,
            "Variable": [f"{k}={v}" for k, v in variables.items()],
        })

    async def send_direct(self, xfer: Transfer) -> None:
        for name, value in ((V.inherited(V.XFER_ID), xfer.id), (V.XFER_DIAL, xfer.target.dial or ""),
                            (V.XFER_TIMEOUT, str(xfer.target.timeout))):
            await self.checked({"Action": "Setvar", "Channel": xfer.caller, "Variable": name, "Value": value})
        await self.checked({"Action": "Redirect", "Channel": xfer.caller, "Context": DIRECT_CONTEXT,
                            "Exten": "s", "Priority": "1"})

    async def guard(self, xfer: Transfer, on: bool) -> None:
        await self.checked({"Action": "Setvar", "Channel": xfer.caller, "Variable": V.XFER_GUARD,
                            "Value": xfer.id if on else ""}, quiet=not on)

    async def mute(self, xfer: Transfer, on: bool) -> None:
        await self.checked({"Action": "MuteAudio", "Channel": xfer.caller, "Direction": "all",
                            "State": "on" if on else "off"}, quiet=not on)
        xfer.muted = on

    async def hangup(self, channel: str) -> None:
        await self.checked({"Action": "Hangup", "Channel": channel, "Cause": "16"}, quiet=True)

    async def checked(self, action: dict[str, Any], quiet: bool = False) -> None:
        """Send an action; an error answer raises (or, quiet, is only logged: the channel may be gone)."""
        try:
            resp = await self.ami.action(action, as_list=False)
        except AmiError:
            if quiet:
                log.warning("AMI %s failed", action["Action"])
                return
            raise
        if str(resp.get("Response", "")).lower() == "error":
            if quiet:
                log.info("AMI %s: %s", action["Action"], resp.get("Message"))
                return
            raise AmiActionError(action["Action"], resp)
