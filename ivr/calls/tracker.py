"""`CallTracker`: the edge that feeds the reducer and carries out its effects.

It subscribes BY NAME to the AMI events the reducer handles (`AMI_EVENTS`),
queues them, and one task applies them in arrival order: the reducer
(ivr.calls.reducer) changes the model and returns effects, which this module
runs in order — storage writes submitted to `Store` (batched by its worker,
never awaited), publishes to the hub through ivr.calls.popdata (which holds a
pop a moment for its data, the call's later publishes behind it). So the
publishes of one call never overtake each other; `notify()` updates from
other services (speech, tickets) and the route handler's variables
(`routed()`) take their turn in the same queue. A malformed or surprising
event is logged and skipped; it never stops the tracker.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ivr.dialplan import variables as V
from ivr.ami.filters import EventFilter
from ivr.ami.reconcile import reconcile
from ivr.calls import effects as fx
from ivr.calls import reducer
from ivr.calls.book import Event, to_float
from ivr.calls.model import CallModel
from ivr.calls.popdata import PopData, Publish
from ivr.dialplan.templates import ROUTE_CONTEXT
from ivr.privacy import mask_number
from ivr.storage import repo
from ivr.storage.store import Store
from ivr.waits import stop_task, within

log = logging.getLogger("ivr.calls.tracker")
AMI_EVENTS = tuple(reducer.HANDLERS)
# Of its VarSets the tracker reads only HOTLINE_* outside the routing context,
# where the route handler hands the same values over itself (`routed()`):
# Asterisk may drop the others for this session (ivr.ami.filters.derive).
VARSET_NARROWING = (EventFilter("VarSet", "Variable", "regex", "^[^_H]"),
                    EventFilter("VarSet", "Context", "exact", ROUTE_CONTEXT))


@dataclass
class Notice:
    """A notify() update (or a listing to adopt) waiting in the event queue for its turn."""

    call_id: str
    data: Any
    at: dt.datetime
    told: asyncio.Future


ADOPT = "\0adopt"  # Notice.call_id of a CoreShowChannels listing (adopt())


class CallTracker:
    def __init__(self, store: Store, publish: Publish, *, model: CallModel | None = None, agents: Iterable[str] = (),
                 line_names: dict[str, str] | None = None, tz: str = "Asia/Shanghai", max_calls: int = 20000,
                 pop_wait: float = 0.05, pop_wait_max: float = 0.5, max_queue: int = 20000) -> None:
        self.model = model if model is not None else CallModel(agents=agents, line_names=line_names, tz=tz,
                                                               max_calls=max_calls)
        self.store = store
        self.pops = PopData(self.model, store, publish, pop_wait=pop_wait, pop_wait_max=pop_wait_max)
        self.calls = self.model.calls
        self.stats = self.model.stats
        self._queue: asyncio.Queue[Event | Notice] = asyncio.Queue(max_queue)
        self._task: asyncio.Task | None = None
        self._run = {fx.Save: self._save, fx.Record: self._record, fx.EnsureTicket: self._ensure_ticket,
                     fx.RecordTransfer: self._record_transfer, fx.Read: self._read,
                     fx.Forgotten: self._forgotten, fx.RouteLogged: _log_route}

    @classmethod
    def from_config(cls, config, store: Store, publish: Publish, model: CallModel | None = None) -> CallTracker:
        """Known agents from queue members and web token owners; line names and timezone."""
        return cls(store, publish, model=(model if model is not None else CallModel()).configure(config))

    @property
    def publish(self) -> Publish:
        """Where publishes go (the hub's `publish`)."""
        return self.pops.publish

    @publish.setter
    def publish(self, publish: Publish) -> None:
        self.pops.publish = publish

    @property
    def pop_wait(self) -> float:
        return self.pops.pop_wait

    def claim_intake(self, call_id: str, nonce: str) -> bool:
        return self.model.claim_intake(call_id, nonce)

    def agent_of(self, call_id: str) -> str | None:
        return self.model.agent_of(call_id)

    # -- intake --------------------------------------------------------------
    def attach(self, ami) -> None:
        """Subscribe to the events the reducer handles, by name (the server's AMI filters
        are derived from these subscriptions: ivr.ami.filters.derive)."""
        for name in AMI_EVENTS:
            if name == "VarSet":
                ami.on(name, self.feed, narrowing=VARSET_NARROWING)
            else:
                ami.on(name, self.feed)
        if hasattr(ami, "on_login"):  # after every reconnect: end the calls Asterisk no longer has
            ami.on_login(lambda: reconcile(self, ami))

    def feed(self, event: Event) -> None:
        """AMI handler: queue the event and return at once (never blocks the AMI reader)."""
        name = event.get("Event")
        if name not in reducer.HANDLERS:
            return
        if name == "VarSet" and not str(event.get("Variable", "")).lstrip("_").startswith(V.PREFIX):
            return
        self._enqueue(event)

    async def notify(self, call_id: str, data: dict[str, Any]) -> str | None:
        """Record `data` on a call and send it as an `update` to its agent, in turn.

        For the speech, ticket and transfer services (ivr.calls.events.transcript ...).
        The update waits behind the AMI events fed before it, so it never
        overtakes the call's own pops; for a call not seen yet it is kept
        (reducer.EARLY_TTL_S) and applied once the call appears; after the caller's
        hangup it is stored but no longer shown. Returns the agent told
        (None: supervisors only, not shown, or the tracker is overloaded).
        """
        at = dt.datetime.now(dt.timezone.utc)
        if self._task is None:  # not started (tools, tests): apply at once
            return await self._handle_notice(Notice(call_id, data, at, asyncio.get_running_loop().create_future()))
        return await self._ask(Notice(call_id, data, at, asyncio.get_running_loop().create_future()))

    def routed(self, call_id: str, variables: dict[str, str], uniqueid: str | None = None) -> None:
        """The plan's variables, from the route handler that set them on call `call_id`'s channel.

        The server's AMI session skips VarSet events of the routing context
        (VARSET_NARROWING): these values come this way instead, in their turn
        among the call's events (kept if the call is not seen yet). `uniqueid`
        is the routed channel's own (agi_uniqueid): without it, or if it is not
        a channel of call `call_id`, nothing changes (reducer.accept_route)."""
        values = {name.lstrip("_"): str(value).strip() or None for name, value in variables.items()}
        if self._task is None:  # not started (tools, tests): nothing to follow calls with
            return
        self._enqueue(Notice(call_id, {"event": reducer.ROUTED, "variables": values, "uniqueid": uniqueid},
                             dt.datetime.now(dt.timezone.utc), asyncio.get_running_loop().create_future()))

    async def adopt(self, listing: list) -> int:
        """Callers and agents from a `CoreShowChannels` listing, in turn (transfers after a
        reconnect or restart: reducer.adopt); returns the calls with a caller leg."""
        notice = Notice(ADOPT, listing, dt.datetime.now(dt.timezone.utc), asyncio.get_running_loop().create_future())
        if self._task is None:
            return await self._handle_notice(notice) or 0
        return await self._ask(notice) or 0

    async def _ask(self, notice: Notice) -> Any:
        if not self._enqueue(notice):
            return None
        return await notice.told

    def _enqueue(self, item: Event | Notice) -> bool:
        try:
            self._queue.put_nowait(item)
            return True
        except asyncio.QueueFull:
            self.stats["dropped"] += 1
            if self.stats["dropped"] % 1000 == 1:
                log.error("tracker is %d events behind: dropping events", self._queue.qsize())
            return False

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._consume(), name="call-tracker")

    async def stop(self) -> None:
        task, self._task = self._task, None
        await stop_task(task)
        self.pops.cancel_pending()
        while not self._queue.empty():  # nobody will handle these: release notify() callers
            item = self._queue.get_nowait()
            self._queue.task_done()
            if isinstance(item, Notice) and not item.told.done():
                item.told.set_result(None)

    async def drain(self, timeout: float = 30.0) -> None:
        """Wait until every fed event is handled, published and written (tests, shutdown)."""
        async def settle() -> None:
            while True:
                await self._queue.join()
                if self.pops.busy:  # screen-pop reads, held publishes
                    await asyncio.wait(set(self.pops.busy))
                    continue
                await self.store.flush(timeout)
                if self._queue.empty() and not self.pops.busy:
                    return

        await within(settle(), timeout)

    async def _consume(self) -> None:
        while True:
            item = await self._queue.get()
            try:
                if isinstance(item, Notice):
                    await self._handle_notice(item)
                else:
                    await self.handle(item)
            finally:
                self._queue.task_done()

    async def handle(self, event: Event) -> None:
        """Apply one AMI event; errors are logged and isolated to that event."""
        out: list = []
        try:
            reducer.reduce(self.model, event, _at(event), time.monotonic(), out)
        except Exception:
            self.stats["errors"] += 1
            log.exception("AMI %s for call %s could not be handled", event.get("Event"), event.get("Linkedid"))
        await self._effects(out)

    async def _handle_notice(self, notice: Notice) -> Any:
        told, out = None, []
        try:
            if notice.call_id == ADOPT:
                told = reducer.adopt(self.model, notice.data, notice.at, out)
            else:
                told = reducer.notice(self.model, notice.call_id, notice.data, notice.at, time.monotonic(), out)
        except Exception:
            self.stats["errors"] += 1
            log.exception("update for call %s could not be handled", notice.call_id)
        await self._effects(out)
        if not notice.told.done():
            notice.told.set_result(told)
        return told

    # -- effects --------------------------------------------------------------------
    async def _effects(self, out: list) -> None:
        pops = self.pops
        for effect in out:
            kind = type(effect)
            if kind is fx.Publish:
                await pops.publish_in_order(effect.call, effect.agent, effect.kind, effect.payload)
            elif kind is fx.Pop:
                await pops.send_pop(effect.call, effect.agent, effect.kind, effect.payload)
            else:
                self._run[kind](effect)

    def _save(self, e: fx.Save) -> None:
        self.store.submit(repo.upsert_call, e.call.linkedid, e.fields)

    def _record(self, e: fx.Record) -> None:
        self.store.submit(repo.record_event, e.call.linkedid, e.at, e.kind, e.data)

    def _ensure_ticket(self, e: fx.EnsureTicket) -> None:
        self.store.submit(repo.ensure_ticket, e.ticket_id, e.call_id, e.extra)

    def _record_transfer(self, e: fx.RecordTransfer) -> None:
        self.store.submit(repo.record_transfer, e.call_id, e.kind, from_agent=e.from_agent, target=e.target,
                          result=e.result, source="ami", detail=e.detail, at=e.at)

    def _read(self, e: fx.Read) -> None:
        if e.fresh:
            e.call.pop.history = None
        if e.changed:
            self.pops.ticket_changed(e.call)
        else:
            self.pops.read(e.call, history=e.history, ticket=e.ticket)

    def _forgotten(self, e: fx.Forgotten) -> None:
        self.pops.forgotten(e.call)


def _at(event: Event) -> dt.datetime:
    ts = to_float(event.get("Timestamp"))  # manager.conf timestampevents=yes
    if ts is not None and 0 < ts < 32503680000:  # finite, before year 3000
        return dt.datetime.fromtimestamp(ts, dt.timezone.utc)
    return dt.datetime.now(dt.timezone.utc)


def _log_route(e: fx.RouteLogged) -> None:
    """The operator's line per routed call, written here rather than by the FastAGI worker,
    which every routed call waits on (benchmarks/routing.py)."""
    call, v = e.call, e.variables
    log.info("call %s from %s to %s: %s/%s -> %s %s", call.linkedid, mask_number(call.caller),
             v.get(V.DIALED), v.get(V.MODE), v.get(V.PHASE), v.get(V.ACTION),
             v.get(V.TARGET) or "")
