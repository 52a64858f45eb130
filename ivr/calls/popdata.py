"""Screen-pop data from storage, without the tracker ever waiting for it.

A pop (`ring`/`answer`) shows the caller's previous calls and the call's
ticket draft, which live in the database. The tracker handles every call's
AMI events in one task, so a database read awaited there would make every
call wait for it. Instead:

- reads start as soon as their key is known — the caller's number at the
  call's first channel, the ticket at HOTLINE_TICKET — which in real traffic
  is seconds (the IVR) before any phone rings; their results land on the
  call's `PopState` when they arrive. The history is read on the Store's
  reader lane (earlier calls are committed long ago), so it never waits
  behind the call writes in the queue; the ticket is read in order, after
  any save of its draft queued before;
- a pop whose data is still on its way waits for it, alone: the call's later
  publishes queue behind it (their order never changes) while the tracker and
  every other call go on. It waits `pop_wait` (50 ms) for a read still in the
  Store's queue (a database that is stuck or far behind), and up to
  `pop_wait_max` (0.5 s) while the database is executing it;
- then it goes out with what is known, and the data follows as an `update`
  (`event: "info"`, `history`, `ticket`) to the agents on the call;
- each pop re-reads a ticket already known (the agent or the speech service
  may have changed it): an `update` follows when it differs.

The tracker (ivr.calls.tracker) runs every `Publish`/`Pop`/`Read` effect of the
reducer through here, so held pops keep their place.
"""
from __future__ import annotations

import asyncio
import time
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from ivr.metrics import POP_LATENCY
from ivr.calls import events
from ivr.calls.events import POP_KINDS
from ivr.calls.model import CallModel
from ivr.calls.state import CallState
from ivr.storage import repo
from ivr.storage.store import Request, Store

log = logging.getLogger(__name__)
Publish = Callable[[str | None, str, dict], Awaitable[None]]


def history_data(session, caller: str, linkedid: str) -> tuple:
    """The caller's earlier calls (committed long ago: read on the Store's reader lane)."""
    return repo.caller_history(session, caller, exclude=linkedid), None


def ticket_data(session, ticket_id: str) -> tuple:
    """The call's ticket draft, in order after the writes queued before (a save by the
    speech service, the ticket's row): read on the Store's ordered lane."""
    return None, repo.ticket_draft(session, ticket_id)


# Seeing call writes queued after it changes nothing (a ticket is read by id):
# the Store may run it after them rather than split their batch (store.py).
ticket_data.deferrable = True  # type: ignore[attr-defined]


def _key(reading: dict[str, tuple[str, asyncio.Future]], what: str) -> str | None:
    """What the latest read of `what` under way is for (a caller, a ticket id), if any."""
    return reading.get(what, (None, None))[0]


class PopData:
    def __init__(self, model: CallModel, store: Store, publish: Publish, *, pop_wait: float = 0.05,
                 pop_wait_max: float = 0.5) -> None:
        self.model = model
        self.store = store
        self.publish = publish
        self.pop_wait = pop_wait
        self.pop_wait_max = pop_wait_max
        self.busy: set[asyncio.Future] = set()  # reads and flushes of held publishes under way
        self.stats = model.stats

    # -- reads ------------------------------------------------------------------
    def read(self, call: CallState, history: bool = False, ticket: bool = False) -> None:
        """Start reading what the call's pops show, unless that read is already under way."""
        pop = call.pop
        if call.internal:
            return
        caller = call.caller if history and call.caller and _key(pop.reading, "history") != call.caller else None
        ticket_id = call.get("ticket_id") if ticket else None
        if ticket_id and _key(pop.reading, "ticket") == ticket_id:
            ticket_id = None
        if not caller and not ticket_id:
            return
        if caller:
            self._start(call, "history", caller, self.store.read(history_data, caller, call.linkedid))
        if ticket_id:
            self._start(call, "ticket", ticket_id, self.store.request(ticket_data, ticket_id))

    def _start(self, call: CallState, what: str, key: str, request: Request) -> None:
        pop = call.pop
        pop.reading[what] = (key, request)
        pop.reads.add(request)
        self.busy.add(request)
        caller, ticket_id = (key, None) if what == "history" else (None, key)
        request.add_done_callback(lambda r: self._arrived(call, caller, ticket_id, r))

    def ticket_changed(self, call: CallState) -> None:
        """Another service saved the call's ticket draft (before telling us): read it again.

        A read already under way was queued before that save: its draft is stale.
        """
        call.pop.ticket_read = None
        call.pop.reading.pop("ticket", None)
        self.read(call, ticket=True)

    @staticmethod
    def _missing(call: CallState) -> bool:
        """A pop now would lack data that is being read."""
        pop, ticket_id = call.pop, call.get("ticket_id")
        history = pop.history is None and call.caller is not None and _key(pop.reading, "history") == call.caller
        ticket = bool(ticket_id) and pop.ticket_read != ticket_id and _key(pop.reading, "ticket") == ticket_id
        return history or ticket

    def _arrived(self, call: CallState, caller: str | None, ticket_id: str | None, request: Request) -> None:
        pop = call.pop
        self.busy.discard(request)
        pop.reads.discard(request)
        for what in ("history", "ticket"):
            if pop.reading.get(what, (None, None))[1] is request:
                del pop.reading[what]
        if request.cancelled():
            return
        failed = request.exception() is not None
        if failed:
            self.stats["read_errors"] += 1  # the store logged it; the next pop reads again
            log.warning("screen-pop data for call %s could not be read: %s", call.linkedid,
                        type(request.exception()).__name__)
        history, ticket = (None, None) if failed else request.result()
        changed: dict[str, Any] = {}
        if history is not None and caller == call.caller:
            if history != (pop.history or []):
                changed["history"] = history
            pop.history = history
        if ticket_id is not None and not failed and ticket_id == call.get("ticket_id"):
            before = call.pop_ticket()
            pop.ticket, pop.ticket_read = ticket, ticket_id
            if call.pop_ticket() != before:
                changed["ticket"] = call.pop_ticket()
        if pop.release is not None and not self._missing(call):
            self._stop_waiting(call)  # the held pops go out now, with the data: no update needed
        elif changed and pop.shown and self.model.calls.get(call.linkedid) is call:
            self.stats["late_updates"] += 1
            for agent in dict.fromkeys([call.agent, *call.ringing]):
                if agent:
                    self._post(call, agent, events.UPDATE, events.info(call.linkedid, **changed))

    # -- publishing in order ------------------------------------------------------
    async def send_pop(self, call: CallState, agent: str, kind: str, payload: dict[str, Any]) -> None:
        """Send a pop; if its data is still being read, hold this call's publishes a moment."""
        pop = call.pop
        self.stats["pops"] += 1
        pop.asked_at = time.monotonic()
        self.read(call, history=pop.history is None, ticket=True)
        if self._missing(call):
            self.stats["pops_held"] += 1
            if pop.held is None:
                pop.held = []
            if pop.release is None:
                loop = asyncio.get_running_loop()
                pop.held_since = loop.time()
                pop.release = loop.call_later(self.pop_wait, self._check_wait, call)
        await self.publish_in_order(call, agent, kind, payload)

    def _check_wait(self, call: CallState) -> None:
        """`pop_wait` is over: go on waiting only while the database is working on the reads."""
        pop = call.pop
        loop = asyncio.get_running_loop()
        left = pop.held_since + self.pop_wait_max - loop.time()
        if left > 0 and any(r.started and not r.done() for r in pop.reads):
            pop.release = loop.call_later(min(self.pop_wait, left), self._check_wait, call)
            return
        self._stop_waiting(call)

    def _stop_waiting(self, call: CallState) -> None:
        if call.pop.release is not None:
            call.pop.release.cancel()
            call.pop.release = None
        self._flush_soon(call)

    async def publish_in_order(self, call: CallState, agent: str | None, kind: str, payload: dict) -> None:
        if call.pop.held is not None:  # behind a held pop: keep the call's order
            call.pop.held.append((agent, kind, payload))
            return
        await self._send(call, agent, kind, payload)

    def _post(self, call: CallState, agent: str | None, kind: str, payload: dict) -> None:
        """Publish from a callback: after whatever the call has queued."""
        pop = call.pop
        if pop.held is None:
            pop.held = []
        pop.held.append((agent, kind, payload))
        if pop.release is None:
            self._flush_soon(call)

    def _flush_soon(self, call: CallState) -> None:
        if call.pop.held is None or call.pop.flushing:
            return
        call.pop.flushing = True
        task = asyncio.ensure_future(self._flush(call))
        self.busy.add(task)
        task.add_done_callback(self.busy.discard)

    async def _flush(self, call: CallState) -> None:
        pop = call.pop
        try:
            while pop.held and pop.release is None:
                agent, kind, payload = pop.held.pop(0)
                await self._send(call, agent, kind, payload)
        finally:
            pop.flushing = False
            if not pop.held and pop.release is None:
                pop.held = None

    async def _send(self, call: CallState, agent: str | None, kind: str, payload: dict) -> None:
        if kind in POP_KINDS:
            payload["history"] = list(call.pop.history or [])
            payload["ticket"] = call.pop_ticket()
            call.pop.shown = True
            if call.pop.asked_at:  # asked (ring/answer seen) -> published, data waits included
                POP_LATENCY.observe(time.monotonic() - call.pop.asked_at)
            if self._missing(call):
                self.stats["pops_without_data"] += 1  # an update follows when the data arrives
        try:
            await self.publish(agent, kind, payload)
        except Exception:
            log.exception("publishing %s for call %s failed", kind, call.linkedid)

    def forgotten(self, call: CallState) -> None:
        """The call ended: with no pop left to fill, its data is no longer needed."""
        if call.pop.held is None:
            call.pop.history = call.pop.ticket = None

    def cancel_pending(self) -> None:
        """Tracker stopping: drop held publishes and reads still under way."""
        for task in list(self.busy):
            task.cancel()
        for call in self.model.calls.values():
            if call.pop.release is not None:
                call.pop.release.cancel()
                call.pop.release = None
