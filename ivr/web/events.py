"""What travels to consoles: one event, its wire form, and masking for viewers who are not its agent.

A leaf module: the hub (fan-out) and the call book (state folded from events)
both read it, neither reads the other for it.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ivr.privacy import mask_number

# Keys whose values are a person's phone number: masked for viewers who are
# not an agent of the call (also inside history entries and ticket drafts).
NUMBER_KEYS = frozenset({"caller", "caller_number", "callback_number", "phone", "contact_number"})


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
