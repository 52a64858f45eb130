"""Place calls into the real center and read back what happened to each one."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

from tests.asterisk_harness import Ami


@dataclass
class CallResult:
    number: str
    tag: str
    linkedid: str = ""
    events: list[dict] = field(default_factory=list)

    def variables(self) -> dict[str, str]:
        """HOTLINE_* as Asterisk reported them (VarSet), inheritance prefix stripped."""
        out = {}
        for e in self.events:
            if e.get("Event") == "VarSet" and e.get("Variable", "").lstrip("_").startswith("HOTLINE_"):
                out[e["Variable"].lstrip("_")] = e.get("Value", "")
        return out

    def apps(self, app: str) -> list[str]:
        return [e.get("AppData", "") for e in self.events if e.get("Event") == "Newexten" and e.get("Application") == app]

    def queues_joined(self) -> list[str]:
        return [e["Queue"] for e in self.events if e.get("Event") == "QueueCallerJoin"]

    def user_events(self, name: str) -> list[dict]:
        return [e for e in self.events if e.get("Event") == "UserEvent" and e.get("UserEvent") == name]

    def hung_up(self) -> bool:
        return any(e.get("Event") == "Hangup" and e.get("Channel", "").endswith(";1") for e in self.events)


async def place(ami: Ami, number: str, *, hold: int = 12, dtmf: str = "", dtmf_after: float = 1,
                say: str = "", callerid: str = "13912345678") -> CallResult:
    variables = {"HOTLINE_TEST_HOLD": str(hold)}
    if dtmf:
        variables |= {"HOTLINE_TEST_DTMF": dtmf, "HOTLINE_TEST_DTMF_AFTER": str(dtmf_after)}
    if say:
        variables["HOTLINE_TEST_SAY"] = say
    tag = await ami.originate(number, caller_context="hotline-testcall", variables=variables,
                              callerid=callerid, timeout_ms=(hold + 10) * 1000)
    return CallResult(number, tag)


async def collect(ami: Ami, calls: list[CallResult], settle: float, since: int = 0) -> None:
    """Wait `settle` seconds, then attach each call's events (by linkedid)."""
    await asyncio.sleep(settle)
    for call in calls:
        for e in ami.events[since:]:
            if e.get("Event") == "VarSet" and e.get("Variable") == "HOTLINE_TEST_TAG" and e.get("Value") == call.tag:
                call.linkedid = e.get("Linkedid", "")
                break
        call.events = [e for e in ami.events[since:] if call.linkedid and e.get("Linkedid") == call.linkedid]


def heard(recordings: Path, call: CallResult) -> Path:
    return recordings / f"testcall-{call.tag}-heard.wav"
