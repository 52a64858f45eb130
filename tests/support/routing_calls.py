"""Place calls into the real center, read back what happened to each one and check it against the plan."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.asterisk_harness import Ami
from tests.support.audio import contains

PROMPT_MATCH = 0.8  # normalised correlation of the prompt found in the caller's recording


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
                say: str = "", say_after: float = 0, callerid: str = "13912345678") -> CallResult:
    variables = {"HOTLINE_TEST_HOLD": str(hold)}
    if dtmf:
        variables |= {"HOTLINE_TEST_DTMF": dtmf, "HOTLINE_TEST_DTMF_AFTER": str(dtmf_after)}
    if say:
        variables |= {"HOTLINE_TEST_SAY": say, "HOTLINE_TEST_SAY_AFTER": str(say_after)}
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


def check(call, decision, center) -> list[str]:
    """What differs between the decision and what Asterisk reports for this call."""
    problems = []
    got = call.variables()
    if not call.events:
        return ["no events: the call never reached Asterisk's plan"]
    for var in ("HOTLINE_MODE", "HOTLINE_ACTION") + (("HOTLINE_LINE",) if decision.line else ()):
        want = decision.channel_vars()[var]
        if got.get(var) != want:
            problems.append(f"{var}={got.get(var)!r}, want {want!r}")
    if decision.mode != "emergency" and not got.get("HOTLINE_TICKET", "").startswith("T"):
        problems.append("no ticket id on the channel")
    action = decision.action
    if decision.prompt_id and action != "menu":
        score = contains(heard(center.host / "recordings", call), center.sounds / f"{decision.prompt_id}.wav")
        if score < PROMPT_MATCH:
            problems.append(f"prompt {decision.prompt_id} not heard by the caller (match {score:.2f})")
    if action in ("queue", "prompt_then_forward"):
        tried = call.apps("Queue")
        if not tried or not tried[0].startswith(f"hotline-{decision.queue},"):
            problems.append(f"queue tried {tried}, want hotline-{decision.queue}")
        # an expert queue with nobody logged in overflows to the general pool at once
        final = decision.overflow_queue or decision.queue
        if f"hotline-{final}" not in call.queues_joined():
            problems.append(f"waiting in {call.queues_joined()}, want hotline-{final}")
    elif action in ("department", "forward", "passthrough"):
        dials = call.apps("Dial")
        if not dials or not dials[0].startswith(decision.dial):
            problems.append(f"dialed {dials}, want {decision.dial}")
        if decision.dial.endswith("@sim-outside"):
            number = decision.dial.split("/")[1].split("@")[0]
            if number not in [e.get("Number") for e in call.user_events("SimOutside")]:
                problems.append(f"outside number {number} never answered")
    elif action in ("not_in_service", "prompt_then_hangup"):
        if call.queues_joined() or call.apps("Dial"):
            problems.append("call went on after the prompt instead of ending")
        if not call.hung_up():
            problems.append("call was not ended")
    return problems
