"""The current state of active calls, folded from the hub's events.

Used for a console's `resync`, for GET /api/calls/mine and for permission
checks (whose call is it, whose ticket is it). A call concerns every agent it
was offered to (ringall queues ring several) until it leaves them (an
`update` whose "event" is in LEAVE_EVENTS, or a `hangup` sent to them); its
owner is the agent who answered it, the only one (besides supervisors) who
may transfer it. A `hangup` for the owner, or for nobody (None), ends the call.
"""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ivr.web.events import Event, mask_numbers

# `update` events (payload "event", see ivr.ami.tracker) after which the call no
# longer concerns the agent they are sent to.
LEAVE_EVENTS = frozenset({"ring_cancelled", "transferred", "agent_left"})


@dataclass
class _Call:
    state: dict[str, Any]
    agents: list[str] = field(default_factory=list)  # agents the call was offered to, in order
    owner: str | None = None                          # agent who answered

    def concerns(self, agent: str) -> bool:
        return agent in self.agents


class CallBook:
    def __init__(self, max_calls: int = 20000) -> None:
        self._max = max_calls
        self._calls: OrderedDict[str, _Call] = OrderedDict()
        # ticket id -> (call id, agent): kept after hangup, for wrap-up work on the draft
        self._tickets: OrderedDict[str, tuple[str, str | None]] = OrderedDict()

    def apply(self, ev: Event) -> None:
        call = self._calls.get(ev.call_id)
        if ev.kind == "hangup":
            if call is not None:
                self._hangup(ev.call_id, call, ev.agent)
            return
        if ev.kind == "notice":
            return  # a message for the agent's screen, not call state
        if ev.kind == "update" and ev.payload.get("event") in LEAVE_EVENTS:
            if call is not None and ev.agent is not None:
                self._leave(call, ev.agent)
            return
        if call is None:
            call = self._calls[ev.call_id] = _Call({"call_id": ev.call_id, "status": "queued"})
            if len(self._calls) > self._max:  # a hangup we never saw
                self._calls.popitem(last=False)
        if ev.agent is not None and ev.agent not in call.agents:
            call.agents.append(ev.agent)
        if ev.kind == "answer":
            call.owner = ev.agent
            call.state["status"] = "answered"
        elif ev.kind == "ring" and call.owner is None:
            call.state["status"] = "ringing"
        _merge(call.state, ev.payload)
        call.state["agent"] = call.owner or ev.agent or call.state.get("agent")
        call.state["last_event_id"] = ev.id
        ticket = ev.payload.get("ticket")
        if isinstance(ticket, dict) and isinstance(ticket.get("id"), str):
            self._tickets[ticket["id"]] = (ev.call_id, call.owner or ev.agent)
            self._tickets.move_to_end(ticket["id"])
            if len(self._tickets) > self._max:
                self._tickets.popitem(last=False)

    @staticmethod
    def _leave(call: _Call, agent: str) -> None:
        """The call goes on without `agent` (ring cancelled, transferred away, left)."""
        if agent in call.agents:
            call.agents.remove(agent)
        if call.owner == agent:
            call.owner = None
            call.state["agent"] = None

    def _hangup(self, call_id: str, call: _Call, agent: str | None) -> None:
        """The call ended for `agent` (None: for everyone)."""
        if agent in call.agents:
            call.agents.remove(agent)
        if agent is None or agent == call.owner or not call.agents:
            del self._calls[call_id]

    def visible(self, agent: str, supervisor: bool = False) -> list[dict]:
        """Copies of the active calls `agent` may see, numbers masked unless they are its agent."""
        out = []
        for call in self._calls.values():
            mine = call.concerns(agent)
            if mine or supervisor:
                state = _copy(call.state)
                out.append(state if mine else mask_numbers(state))
        return out

    def owner(self, call_id: str) -> str | None:
        call = self._calls.get(call_id)
        return None if call is None else call.owner

    def is_active(self, call_id: str) -> bool:
        return call_id in self._calls

    def ticket_owner(self, ticket_id: str) -> str | None:
        """Agent of the call the ticket was drafted for (also after hangup)."""
        entry = self._tickets.get(ticket_id)
        return None if entry is None else entry[1]

    def ticket_call(self, ticket_id: str) -> str | None:
        entry = self._tickets.get(ticket_id)
        return None if entry is None else entry[0]

    def tickets_in_history(self, agent: str) -> Iterator[str]:
        """Ticket ids listed in the history of the agent's active calls."""
        for call in self._calls.values():
            if not call.concerns(agent):
                continue
            for item in call.state.get("history") or ():
                if isinstance(item, dict) and isinstance(item.get("ticket_id"), str):
                    yield item["ticket_id"]


def _merge(state: dict, payload: dict) -> None:
    for key, value in payload.items():
        if key in ("call_id", "event"):  # "event" names the update, it is not call state
            continue
        if key == "transcript" and isinstance(value, dict):
            # Final sentences accumulate; a partial replaces the previous partial.
            tr = state.setdefault("transcript", {"final": [], "partial": ""})
            if isinstance(value.get("final"), str):
                tr["final"].append(value["final"])
                tr["partial"] = ""
            if isinstance(value.get("partial"), str):
                tr["partial"] = value["partial"]
        else:
            state[key] = value


def _copy(state: dict) -> dict:
    out = dict(state)
    if "transcript" in out:
        tr = out["transcript"]
        out["transcript"] = {"final": list(tr["final"]), "partial": tr["partial"]}
    return out
