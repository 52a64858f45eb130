"""One live call: what Asterisk told us (channels, legs, route decision, agent),
what the screen-pop shows, and what the consoles were shown.

Plain data (no I/O, no asyncio): the reducer (ivr.calls.reducer) changes it,
the edge modules (ivr.calls.popdata, ivr.calls.tracker) act on it, the web's
permission checks and transfers read it through ivr.calls.model.CallModel.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from ivr.dialplan import variables as V

# HOTLINE_* channel variable -> call field (docs/ARCHITECTURE.md).
VAR_FIELDS = {
    V.DIALED: "dialed",
    V.LINE: "line",
    V.DEPARTMENT: "department",
    V.MODE: "mode",
    V.PHASE: "phase",
    V.ACTION: "action",
    V.TARGET: "target",
    V.QUEUE: "queue",
    V.TICKET: "ticket_id",
    V.TAGS: "tags",   # fast tracks: enterprise, language:<id> (ivr/plan/fasttrack.py)
}
# Shown on the pop, not a column of `calls` (the call's `route` event keeps them).
NOT_SAVED = frozenset({"tags"})


def tag_list(value: str | None) -> list[str]:
    """HOTLINE_TAGS as the pop shows it: ["enterprise"]."""
    return (value or "").split()

# Plan actions that end the call on purpose after a prompt (see ivr.plan.decision).
ANNOUNCE_ACTIONS = frozenset({"prompt_then_hangup", "not_in_service"})

# Transfer legs are Local channels in this context (transfer/dialplan.py renders it;
# it is named here so the model can tell a leg from a caller without importing transfer/).
XFER_LEG_CONTEXT = "hotline-xfer-leg"
LEG_MARK = f"@{XFER_LEG_CONTEXT}-"


def is_leg(channel: str) -> bool:
    return LEG_MARK in channel


def split_intake(value: str | None) -> tuple[str | None, str | None]:
    """HOTLINE_INTAKE `<server>,<seconds>,<nonce>` -> (`<server>,<seconds>`, nonce).

    The nonce is the live-transcription server's key for this call: it must
    never reach the database, a log or an agent's screen."""
    if not value:
        return value, None
    parts = value.split(",")
    return ",".join(parts[:2]), (parts[2] if len(parts) > 2 and parts[2] else None)


@dataclass
class PopState:
    """The call's screen-pop data read from storage, and its pops waiting for it.

    Owned by ivr.calls.popdata (the reads are futures, `release` a timer
    handle); the reducer only reads `history` to know whether it is stale."""

    history: list[dict[str, Any]] | None = None  # caller's previous calls; None: not read yet
    ticket: dict[str, Any] | None = None         # draft of ticket `ticket_read`
    ticket_read: str | None = None               # ticket id `ticket` was read for
    # Latest read under way of "history"/"ticket": (caller or ticket id, its result to come)
    reading: dict[str, tuple[str, Any]] = field(default_factory=dict)
    reads: set[Any] = field(default_factory=set)  # every read under way
    shown: bool = False                          # a ring/answer pop has gone out
    # While a pop waits for its data, the call's publishes queue here, in order.
    held: list[tuple[str | None, str, dict[str, Any]]] | None = None
    held_since: float = 0.0                      # loop time the wait began
    asked_at: float = 0.0                        # monotonic time the last pop was asked for (metrics)
    release: Any = None                          # next check whether to stop waiting (a TimerHandle)
    flushing: bool = False                       # a task is sending `held`


@dataclass
class Legs:
    """The channels a transfer acts on (transfer/service.py): the caller's channel
    as the queue saw it, and the agent's channel bridged with it."""

    caller: str | None = None         # the caller's channel in this Asterisk
    caller_number: str | None = None
    agent: str | None = None          # the 12345 agent's channel bridged with the caller
    agent_id: str | None = None
    queue: str | None = None


@dataclass
class ConsoleView:
    """What the consoles were shown of the call (folded from the hub's events by
    ivr.calls.view): a console's resync, GET /api/calls/mine, whose call it is."""

    state: dict[str, Any]
    agents: list[str] = field(default_factory=list)  # agents the call was offered to, in order
    owner: str | None = None                          # agent who answered

    def concerns(self, agent: str) -> bool:
        return agent in self.agents


@dataclass
class CallState:
    linkedid: str
    started_at: dt.datetime
    caller: str | None = None
    internal: bool = False          # an agent's own call (consultation leg): never popped
    fields: dict[str, str | None] = field(default_factory=dict)   # from VAR_FIELDS
    caller_uid: str | None = None   # uniqueid of the caller's channel
    channels: dict[str, str] = field(default_factory=dict)        # uniqueid -> channel name
    agent: str | None = None        # agent connected now
    ringing: dict[str, None] = field(default_factory=dict)        # agents ringing, in order
    queued_at: dt.datetime | None = None
    answered_at: dt.datetime | None = None
    queue_wait_s: float | None = None
    talk_s: float = 0.0
    answered_by_agent: bool = False
    forwarded: bool = False         # bridged to a party that is not an agent
    pop: PopState = field(default_factory=PopState)
    legs: Legs = field(default_factory=Legs)
    view: ConsoleView | None = None  # None until an event about the call reached the hub
    routed_uids: set[str] = field(default_factory=set)  # channels whose route result was taken
    pending_routes: dict[str, dict] = field(default_factory=dict)  # uniqueid -> route result before its Newchannel
    intake_nonce: str | None = None  # the live-transcription key the route gave (never stored or shown)

    def get(self, name: str) -> str | None:
        return self.fields.get(name)

    def disposition(self) -> str:
        """answered | forwarded | abandoned | announced | unanswered (docs/storage.md)."""
        if self.answered_by_agent:
            return "answered"
        if self.forwarded:
            return "forwarded"
        if self.queued_at is not None:
            return "abandoned"
        if self.get("action") in ANNOUNCE_ACTIONS:
            return "announced"
        return "unanswered"

    def summary(self) -> dict[str, Any]:
        """Where the call is, without personal data (supervisor board updates)."""
        return {
            "call_id": self.linkedid,
            "dialed": self.get("dialed"),
            "line": self.get("line"),
            "department": self.get("department"),
            "mode": self.get("mode"),
            "queue": self.get("queue"),
        }

    def pop_ticket(self) -> dict[str, Any] | None:
        """The ticket draft for a pop: as read, else just its id until it has been read."""
        ticket_id, pop = self.get("ticket_id"), self.pop
        if not ticket_id:
            return None
        return (pop.ticket if pop.ticket_read == ticket_id and pop.ticket else None) or {"id": ticket_id}

    def screen_pop(self, now: dt.datetime, agent: str, line_name: str | None) -> dict[str, Any]:
        """The pop as of `now`; `history` and `ticket` are filled in when it is sent."""
        wait = self.queue_wait_s
        if wait is None and self.queued_at is not None:
            wait = round((now - self.queued_at).total_seconds(), 1)
        return {
            "call_id": self.linkedid,
            "caller": self.caller,
            "dialed": self.get("dialed"),
            "line": self.get("line"),
            "line_name": line_name,
            "department": self.get("department"),
            "mode": self.get("mode"),
            "queue": self.get("queue"),
            "queue_wait_s": wait,
            "tags": tag_list(self.get("tags")),
            "callback": self.get(V.CALLBACK),  # queue | missed: the center called back (callbacks/)
            "history": [],
            "ticket": None,
            "agent": agent,
        }
