"""What travels to consoles, defined once: the event kinds, the `update`
sub-events and their payloads, the wire form, and masking for viewers who are
not the call's agent.

The tracker (ivr.calls.tracker), the hub (ivr.web.hub), speech
(ivr.speech.service), transfers (transfer/records.py) and the console
(ivr/web/console/*.js reads these exact keys) all build their payloads here,
so a key cannot drift between the sender and the screen. A leaf module.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ivr.privacy import mask_number

# Event kinds on the websocket (Event.kind).
RING, ANSWER, UPDATE, HANGUP, TRANSFER, NOTICE = "ring", "answer", "update", "hangup", "transfer", "notice"
KINDS = frozenset({RING, ANSWER, UPDATE, HANGUP, TRANSFER, NOTICE})
POP_KINDS = frozenset({RING, ANSWER})  # a screen-pop: history and ticket draft filled in when sent

# `update` sub-events (payload "event") after which the call no longer concerns
# the agent they are sent to.
LEAVE_EVENTS = frozenset({"ring_cancelled", "transferred", "agent_left"})

# Keys whose values are a person's phone number: masked for viewers who are
# not an agent of the call (also inside history entries and ticket drafts).
NUMBER_KEYS = frozenset({"caller", "caller_number", "callback_number", "phone", "contact_number"})


# -- payloads (kind "update" unless named otherwise) ------------------------------
def queued(summary: dict[str, Any], position: int) -> dict[str, Any]:
    """To supervisors: the call entered a queue (`summary`: CallState.summary())."""
    return {**summary, "event": "queued", "position": position}


def ring_cancelled(call_id: str, reason: str) -> dict[str, Any]:
    """reason: no_answer | answered_elsewhere | ring_ended | caller_hangup."""
    return {"call_id": call_id, "event": "ring_cancelled", "reason": reason}


def agent_left(call_id: str) -> dict[str, Any]:
    return {"call_id": call_id, "event": "agent_left"}


def transfer_update(call_id: str, event: str, transfer: dict[str, Any]) -> dict[str, Any]:
    """event: transferred (the agent is out) | transfer_failed | transfer (the agent stays on)."""
    return {"call_id": call_id, "event": event, "transfer": transfer}


def info(call_id: str, **shown: Any) -> dict[str, Any]:
    """Plan variables, ticket id, late screen-pop data (history, ticket) on an open pop."""
    return {"call_id": call_id, "event": "info", **shown}


def hangup(call_id: str, disposition: str, agent: str | None) -> dict[str, Any]:
    """Kind `hangup`: once, when the caller's channel ends."""
    return {"call_id": call_id, "disposition": disposition, "agent": agent}


def transcript(kind: str, text: str) -> dict[str, Any]:
    """A live-transcript line for `notify()` (kind: partial | final)."""
    return {"event": "transcript", "transcript": {kind: text}}


def emergency(found: dict[str, Any], transfer: dict[str, Any]) -> dict[str, Any]:
    return {"event": "emergency", "emergency": found, "transfer": transfer}


def possible_emergency(found: dict[str, Any]) -> dict[str, Any]:
    """Not handed over: the agent is asked to verify (ivr.tickets.possible); `found` has the reason."""
    return {"event": "possible_emergency", "possible_emergency": found}


def ticket(ticket_id: str | None, fields: dict[str, Any]) -> dict[str, Any]:
    """The call's ticket draft for `notify()` (speech drafting)."""
    return {"event": "ticket", "ticket": {"id": ticket_id, **fields}}


def ticket_saved(call_id: str, saved: dict[str, Any]) -> dict[str, Any]:
    """An agent saved the draft (ivr.web.api): the call's other consoles see it."""
    return {"call_id": call_id, "ticket": saved}


def notice(call_id: str, level: str, message: str, **extra: Any) -> dict[str, Any]:
    """Kind `notice`: a message for the agent's screen (level info | warning)."""
    return {"call_id": call_id, "level": level, "message": message, **extra}


def transfer_step(call_id: str, transfer: dict[str, Any]) -> dict[str, Any]:
    """Kind `transfer`: a step of a transfer started through the API (transfer/)."""
    return {"call_id": call_id, "transfer": transfer}


# -- wire form ---------------------------------------------------------------------
def mask_numbers(value: Any) -> Any:
    """A copy of `value` with every phone-number field masked (recursively)."""
    if isinstance(value, dict):
        return {
            k: (mask_number(v) if k in NUMBER_KEYS and isinstance(v, str) else mask_numbers(v))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [mask_numbers(v) for v in value]
    return value


def dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), default=str)


@dataclass(eq=False)
class Event:
    id: int
    kind: str
    agent: str | None
    call_id: str
    payload: dict
    ts: float  # wall clock, for display
    _text: dict[bool, str] = field(default_factory=dict, repr=False)

    def message(self, masked: bool) -> dict:
        payload = mask_numbers(self.payload) if masked else self.payload
        return {"type": "event", "id": self.id, "kind": self.kind, "call_id": self.call_id,
                "agent": self.agent, "ts": self.ts, "payload": payload}

    def text(self, masked: bool) -> str:
        """The JSON sent on the wire, serialised once per view."""
        cached = self._text.get(masked)
        if cached is None:
            cached = self._text[masked] = dumps(self.message(masked))
        return cached
