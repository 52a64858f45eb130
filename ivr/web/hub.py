"""The event hub: what each agent's console is told about calls, and resume.

The AMI tracker (and the transfer and speech services) call `publish()`; every
connected console holds a `Subscription`. Each event gets the next id of one
process-wide, strictly increasing sequence. Recent events are kept in bounded
ring buffers (one per agent, one with everything for supervisors) so a console
that reconnects with its last event id gets exactly what it missed, once, in
order. When that is no longer possible (the buffer moved past it, or the
process restarted) the console gets a `resync` with the current state of its
active calls instead.

Privacy: an agent's subscription only ever receives events whose `agent` is
that agent. The full caller number goes to the agent of the call (they must
be able to call back); supervisors see every call with numbers masked.
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass

from ivr.calls import view
from ivr.calls.events import KINDS, Event, dumps
from ivr.calls.model import CallModel

log = logging.getLogger(__name__)


class _Buffer:
    """Last `size` events of one audience, and the newest id that fell out."""

    def __init__(self, size: int) -> None:
        self.events: deque[Event] = deque()
        self.size = size
        self.evicted_upto = 0

    def append(self, ev: Event) -> None:
        self.events.append(ev)
        if len(self.events) > self.size:
            self.evicted_upto = self.events.popleft().id

    def after(self, last_id: int) -> list[Event] | None:
        """Events newer than `last_id`, or None if some of them are gone."""
        if last_id < self.evicted_upto:
            return None
        # Newest events are what a reconnect usually needs: walk from the end.
        out: list[Event] = []
        for ev in reversed(self.events):
            if ev.id <= last_id:
                break
            out.append(ev)
        out.reverse()
        return out


class Subscription:
    """One console connection: a bounded queue the hub fills and the socket drains."""

    def __init__(self, agent: str, supervisor: bool, maxsize: int,
                 on_overflow: Callable[[Subscription], None] | None) -> None:
        self.agent = agent
        self.supervisor = supervisor
        self.queue: asyncio.Queue[Event] = asyncio.Queue(maxsize)
        self.on_overflow = on_overflow
        self.overflowed = False
        self.closed = False

    def masked(self, ev: Event) -> bool:
        return ev.agent != self.agent

    def _offer(self, ev: Event) -> bool:
        try:
            self.queue.put_nowait(ev)
            return True
        except asyncio.QueueFull:
            self.overflowed = True
            return False


@dataclass
class Start:
    """What a new subscription begins with: missed events, or a resync state."""

    subscription: Subscription
    backlog: list[Event]
    resync: dict | None  # {"type": "resync", ...} when the backlog cannot be given


class Hub:
    """Per-call/per-agent event stream with resume; see the module docstring."""

    def __init__(self, *, buffer_per_agent: int = 500, buffer_all: int = 5000,
                 max_agents: int = 20000, max_calls: int = 20000, first_id: int | None = None,
                 calls: CallModel | None = None) -> None:
        # Ids start at a clock-derived value so ids handed out by an earlier
        # run of the process are all lower: a console resuming across a
        # restart is detected as "too old" and gets a resync.
        self._next_id = first_id if first_id is not None else int(time.time() * 1000) * 1000
        self.first_id = self._next_id
        self._buffer_per_agent = buffer_per_agent
        self._max_agents = max_agents
        self._all = _Buffer(buffer_all)
        self._agents: OrderedDict[str, _Buffer] = OrderedDict()
        self._agents_evicted_upto = 0
        self._subs_by_agent: dict[str, set[Subscription]] = {}
        self._supervisor_subs: set[Subscription] = set()
        # The one live-call model (ivr.calls): what each console was shown is folded
        # into it, for resync, /api/calls/mine and permissions.
        self.calls = calls if calls is not None else CallModel(max_calls=max_calls)
        self.stats = {"published": 0, "delivered": 0, "overflows": 0}

    @property
    def last_id(self) -> int:
        return self._next_id - 1

    # -- publishing ---------------------------------------------------------
    async def publish(self, agent: str | None, kind: str, payload: dict) -> None:
        """Publish one event about a call (the tracker's entry point)."""
        self.publish_nowait(agent, kind, payload)

    def publish_nowait(self, agent: str | None, kind: str, payload: dict) -> Event:
        """Publish without awaiting; returns the event. Raises ValueError on a bad event."""
        if kind not in KINDS:
            raise ValueError(f"unknown event kind {kind!r}; expected one of {sorted(KINDS)}")
        if not isinstance(payload, dict) or not isinstance(payload.get("call_id"), str) or not payload["call_id"]:
            raise ValueError("event payload must be a dict with a non-empty string 'call_id'")
        if agent is not None and (not isinstance(agent, str) or not agent):
            raise ValueError("agent must be a non-empty string or None")
        # A frozen copy: later changes to the caller's dict must not rewrite
        # history, and resync states then hold exactly what was sent.
        frozen = json.loads(dumps(payload))
        ev = Event(self._next_id, kind, agent, payload["call_id"], frozen, time.time())
        self._next_id += 1
        self.stats["published"] += 1
        view.apply(self.calls, ev)
        self._all.append(ev)
        if agent is not None:
            self._agent_buffer(agent).append(ev)
            for sub in tuple(self._subs_by_agent.get(agent, ())):
                self._deliver(sub, ev)
        for sub in tuple(self._supervisor_subs):
            self._deliver(sub, ev)
        return ev

    def publish_agent_state(self, agent: str, payload: dict) -> Event:
        """An agent's state changed (示闲/示忙/话后处理/签入/签出): tell that agent's consoles and
        the supervisors. Not about a call: kept for resume, never in the call book."""
        ev = Event(self._next_id, "agent_state", agent, f"agent:{agent}", json.loads(dumps(payload)), time.time())
        self._next_id += 1
        self.stats["published"] += 1
        self._all.append(ev)
        self._agent_buffer(agent).append(ev)
        for sub in (*self._subs_by_agent.get(agent, ()), *self._supervisor_subs):
            self._deliver(sub, ev)
        return ev

    def _deliver(self, sub: Subscription, ev: Event) -> None:
        if sub._offer(ev):
            self.stats["delivered"] += 1
            return
        # Too slow: cut it loose rather than hold everyone else back; it
        # reconnects with its last event id and catches up from the buffer.
        self.stats["overflows"] += 1
        self.unsubscribe(sub)
        log.warning("console of %s fell %d events behind: dropping it (it may resume)",
                    sub.agent, sub.queue.maxsize)
        if sub.on_overflow is not None:
            sub.on_overflow(sub)

    def _agent_buffer(self, agent: str) -> _Buffer:
        buf = self._agents.get(agent)
        if buf is None:
            buf = self._agents[agent] = _Buffer(self._buffer_per_agent)
            if len(self._agents) > self._max_agents:
                _, old = self._agents.popitem(last=False)
                self._agents_evicted_upto = max(self._agents_evicted_upto, old.events[-1].id if old.events else 0)
        else:
            self._agents.move_to_end(agent)
        return buf

    # -- subscribing --------------------------------------------------------
    def subscribe(self, agent: str, *, supervisor: bool = False, last_event_id: int | None = None,
                  maxsize: int = 256, on_overflow: Callable[[Subscription], None] | None = None) -> Start:
        """Register a console. Atomic with respect to publish(): nothing is lost or doubled.

        `last_event_id` None means a fresh console: it gets a resync with the
        current state. Otherwise it gets the events after that id, or a resync
        when they are no longer all in the buffer.
        """
        sub = Subscription(agent, supervisor, maxsize, on_overflow)
        backlog: list[Event] | None = None
        reason = "fresh"
        if last_event_id is not None:
            reason = "too_old"
            if self.first_id - 1 <= last_event_id <= self.last_id:
                backlog = self._backlog(agent, supervisor, last_event_id)
            elif last_event_id > self.last_id:
                reason = "unknown_id"  # from a future we never had: another process
        if supervisor:
            self._supervisor_subs.add(sub)
        else:
            self._subs_by_agent.setdefault(agent, set()).add(sub)
        if backlog is not None:
            return Start(sub, backlog, None)
        return Start(sub, [], self.resync_message(agent, supervisor, reason))

    def _backlog(self, agent: str, supervisor: bool, last_id: int) -> list[Event] | None:
        if supervisor:
            return self._all.after(last_id)
        buf = self._agents.get(agent)
        if buf is None:
            # No buffer: either never had an event, or its buffer was evicted.
            return None if last_id < self._agents_evicted_upto else []
        return buf.after(last_id)

    def resync_message(self, agent: str, supervisor: bool, reason: str) -> dict:
        calls = self.calls.visible(agent, supervisor)
        return {"type": "resync", "reason": reason, "last_event_id": self.last_id, "calls": calls}

    def unsubscribe(self, sub: Subscription) -> None:
        sub.closed = True
        if sub.supervisor:
            self._supervisor_subs.discard(sub)
            return
        subs = self._subs_by_agent.get(sub.agent)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self._subs_by_agent[sub.agent]

    def subscriber_count(self) -> int:
        return len(self._supervisor_subs) + sum(len(s) for s in self._subs_by_agent.values())
