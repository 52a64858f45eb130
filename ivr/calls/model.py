"""`CallModel`: every live call, one `CallState` each, and the questions other
parts ask about them.

The reducer (ivr.calls.reducer) writes it from AMI events and `notify()`
updates; the hub folds what it sends consoles into each call's `view`
(ivr.calls.view). Everyone else reads it here: the web's permission checks
("an agent sees only their calls": `owner`, `visible`, `ticket_owner`),
transfers (`legs`, `agent_leg`, `is_live`), speech (`claim_intake`,
`agent_of`). Plain data and lookups: no I/O.
"""
from __future__ import annotations

import datetime as dt
import secrets
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any
from zoneinfo import ZoneInfo

from ivr.ami.agent_id import agent_id
from ivr.calls.events import mask_numbers
from ivr.calls.state import CallState, Legs

ENDED_MEMORY = 5000  # linkedids of ended calls remembered, so late events are ignored


class CallModel:
    def __init__(self, *, agents: Iterable[str] = (), line_names: Mapping[str, str] | None = None,
                 tz: str = "Asia/Shanghai", max_calls: int = 20000) -> None:
        self.agents: set[str] = set(agents)      # grows with queue events
        self.line_names = dict(line_names or {})
        self.tz = ZoneInfo(tz)
        self.max_calls = max_calls
        self.calls: OrderedDict[str, CallState] = OrderedDict()  # live, as AMI tells
        self.ended: OrderedDict[str, CallState] = OrderedDict()
        self.chan_call: dict[str, str] = {}      # uniqueid -> linkedid of the call it serves
        self.chan_bridge: dict[str, str] = {}    # uniqueid -> bridge uniqueid
        self.bridges: dict[str, set[str]] = {}   # bridge uniqueid -> member uniqueids
        self.leg_calls: dict[str, str] = {}      # channel name of a caller or agent leg -> linkedid
        # linkedid -> [(monotonic, at, data)] of notify() updates that came before the call
        self.early: OrderedDict[str, list[tuple[float, dt.datetime, dict[str, Any]]]] = OrderedDict()
        self.born: list[CallState] = []          # new calls with early updates to apply
        self.mono = 0.0                          # monotonic time of the input being reduced
        # Calls with a console view (ivr.calls.view), live or just ended, in order
        self.views: OrderedDict[str, CallState] = OrderedDict()
        # ticket id -> (call id, agent): kept after hangup, for wrap-up work on the draft
        self.tickets: OrderedDict[str, tuple[str, str | None]] = OrderedDict()
        self.stats: dict[str, int] = {"events": 0, "errors": 0, "dropped": 0, "pops": 0, "pops_held": 0,
                                      "pops_without_data": 0, "late_updates": 0, "read_errors": 0}

    def configure(self, config) -> CallModel:
        """Known agents from queue members and web token owners; line names and timezone."""
        agents = {agent_id(m) for q in config.queues for m in q.members} | set(config.web.tokens.values())
        self.agents |= {a for a in agents if a}
        self.line_names = {ln.id: ln.name for ln in config.lines}
        self.tz = ZoneInfo(config.hotline.timezone)
        return self

    # -- speech -------------------------------------------------------------------
    def get(self, call_id: str) -> CallState | None:
        return self.calls.get(call_id)

    def agent_of(self, call_id: str) -> str | None:
        call = self.calls.get(call_id)
        return None if call is None else call.agent

    def claim_intake(self, call_id: str, nonce: str) -> bool:
        """True once for the nonce the route gave call `call_id`, while that call is in intake.

        The live-transcription server asks this before taking a stream
        (ivr.speech.live): a wrong, reused or late nonce, or a call not (or no
        longer) live, gets False."""
        call = self.calls.get(call_id)
        expected = call.intake_nonce if call is not None else None
        if not expected or not isinstance(nonce, str) or not nonce.isascii() or not secrets.compare_digest(expected, nonce):
            return False
        call.intake_nonce = None
        return True

    # -- transfers ----------------------------------------------------------------
    def is_live(self, call_id: str) -> bool:
        """The caller's channel (as the queue saw it) is still up."""
        call = self.calls.get(call_id)
        return call is not None and call.legs.caller is not None

    def legs(self, call_id: str) -> Legs | None:
        """The call's caller and agent channels; None if no caller channel is known."""
        call = self.calls.get(call_id)
        return None if call is None or call.legs.caller is None else call.legs

    def agent_leg(self, channel: str) -> tuple[str, Legs] | None:
        """(call id, legs) of the call whose agent talks on `channel` (feature codes)."""
        call = self.calls.get(self.leg_calls.get(channel, ""))
        if call is None or call.legs.agent != channel or call.legs.caller is None:
            return None
        return call.linkedid, call.legs

    def set_caller_leg(self, call: CallState, channel: str, number: str | None) -> None:
        legs = call.legs
        if legs.caller and legs.caller != channel and self.leg_calls.get(legs.caller) == call.linkedid:
            del self.leg_calls[legs.caller]
        legs.caller = channel
        legs.caller_number = number or legs.caller_number
        self.leg_calls[channel] = call.linkedid

    def set_agent_leg(self, call: CallState, channel: str | None, aid: str | None) -> None:
        legs = call.legs
        if legs.agent and legs.agent != channel and self.leg_calls.get(legs.agent) == call.linkedid:
            del self.leg_calls[legs.agent]
        legs.agent, legs.agent_id = channel, aid or legs.agent_id
        if channel:
            self.leg_calls[channel] = call.linkedid

    def leg_gone(self, channel: str) -> None:
        """A caller or agent leg hung up: a caller's takes the call's legs with it."""
        call = self.calls.get(self.leg_calls.pop(channel, ""))
        if call is None:
            return
        if call.legs.caller == channel:
            self.drop_legs(call)
        elif call.legs.agent == channel:
            call.legs.agent = None

    def drop_legs(self, call: CallState) -> None:
        for name in (call.legs.caller, call.legs.agent):
            if name and self.leg_calls.get(name) == call.linkedid:
                del self.leg_calls[name]
        call.legs = Legs()

    def hand_over(self, call_id: str, channel: str, aid: str | None) -> None:
        """A transfer completed to an expert: their channel is the call's agent leg now
        (a later transfer starts from them)."""
        call = self.calls.get(call_id)
        if call is not None:
            self.set_agent_leg(call, channel, aid)

    # -- the web's permission checks (what consoles were shown) --------------------
    def visible(self, agent: str, supervisor: bool = False) -> list[dict]:
        """Copies of the active calls `agent` may see, numbers masked unless they are its agent."""
        out = []
        for call in self.views.values():
            view = call.view
            mine = view.concerns(agent)
            if mine or supervisor:
                state = _copy(view.state)
                out.append(state if mine else mask_numbers(state))
        return out

    def owner(self, call_id: str) -> str | None:
        """The agent who answered the call (the only one, besides supervisors, who may act on it)."""
        call = self.views.get(call_id)
        return None if call is None else call.view.owner

    def is_active(self, call_id: str) -> bool:
        return call_id in self.views

    def ticket_owner(self, ticket_id: str) -> str | None:
        """Agent of the call the ticket was drafted for (also after hangup)."""
        entry = self.tickets.get(ticket_id)
        return None if entry is None else entry[1]

    def ticket_call(self, ticket_id: str) -> str | None:
        entry = self.tickets.get(ticket_id)
        return None if entry is None else entry[0]

    def tickets_in_history(self, agent: str) -> Iterator[str]:
        """Ticket ids listed in the history of the agent's active calls."""
        for call in self.views.values():
            if not call.view.concerns(agent):
                continue
            for item in call.view.state.get("history") or ():
                if isinstance(item, dict) and isinstance(item.get("ticket_id"), str):
                    yield item["ticket_id"]


def _copy(state: dict) -> dict:
    out = dict(state)
    if "transcript" in out:
        tr = out["transcript"]
        out["transcript"] = {"final": list(tr["final"]), "partial": tr["partial"]}
    return out
