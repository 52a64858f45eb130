"""Follows every call through its channels (by linkedid) and reports it.

From the old number dialed, through the plan's decision (HOTLINE_* `VarSet`),
the queue (QueueCallerJoin ... AgentConnect), transfers and bridges, to the
caller's `Hangup`: each step is written to storage (through `Store`, never on
the loop) and told to the consoles with `publish(agent, kind, payload)`:

- `ring`   (agent, screen-pop)   the call rings that agent (queue or direct dial)
- `answer` (agent, screen-pop)   that agent has the caller now (also after a transfer)
- `update` (agent or None)       `event` says what: queued (None: supervisors),
  ring_cancelled (reason no_answer | answered_elsewhere | ring_ended | caller_hangup),
  transferred / transfer_failed / transfer (with `transfer`), agent_left,
  info (plan variables, ticket id), and what other services pass to `notify()`
- `hangup` (the agent who has the caller, or None) once, when the caller's channel ends.

Events are handled one at a time in arrival order by one task, so the
publishes of one call can never overtake each other; `notify()` updates from
other services take their turn in the same queue. That task never waits for
the database: writes are submitted to `Store` (batched by its worker), and
screen-pop data is read ahead and filled in by `ivr.ami.popdata`. A malformed
or surprising event is logged and skipped; it never stops the tracker.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from ivr.ami.agent_id import agent_id
from ivr.ami.callbook import ROUTED, CallBook, Event, Notice, Publish, _float, _number
from ivr.ami.callstate import CallState
from ivr.ami.reconcile import reconcile
from ivr.storage import repo
from ivr.storage.store import Store

log = logging.getLogger(__name__)


def _queue_id(name: object) -> str | None:
    """Config queue id of an Asterisk queue: the dialplan names them hotline-<id>
    (ivr.dialplan.build.asterisk_queue), HOTLINE_QUEUE holds the bare id."""
    return str(name or "").removeprefix("hotline-") or None


class CallTracker(CallBook):
    def __init__(self, store: Store, publish: Publish, *, max_queue: int = 20000, **kw: Any) -> None:
        super().__init__(store, publish, **kw)
        self._queue: asyncio.Queue[Event | Notice] = asyncio.Queue(max_queue)
        self._task: asyncio.Task | None = None
        self.stats.update(events=0, errors=0, dropped=0)
        self._handlers: dict[str, Callable[[Event, dt.datetime], Awaitable[None]]] = {
            "Newchannel": self._newchannel, "NewCallerid": self._new_callerid, "VarSet": self._varset,
            "QueueCallerJoin": self._queue_join, "QueueCallerLeave": self._queue_leave,
            "QueueCallerAbandon": self._queue_abandon, "AgentCalled": self._agent_called,
            "AgentConnect": self._agent_connect, "AgentRingNoAnswer": self._agent_ring_no_answer,
            "AgentComplete": self._agent_complete, "BridgeEnter": self._bridge_enter,
            "BridgeLeave": self._bridge_leave, "BlindTransfer": self._blind_transfer,
            "AttendedTransfer": self._attended_transfer, "Hangup": self._hangup,
        }

    @classmethod
    def from_config(cls, config, store: Store, publish: Publish) -> CallTracker:
        """Known agents from queue members and web token owners; line names and timezone."""
        agents = {agent_id(m) for q in config.queues for m in q.members} | set(config.web.tokens.values())
        return cls(store, publish, agents={a for a in agents if a},
                   line_names={ln.id: ln.name for ln in config.lines}, tz=config.hotline.timezone)

    # -- intake --------------------------------------------------------------
    def attach(self, ami) -> None:
        ami.on("*", self.feed)
        if hasattr(ami, "on_login"):  # after every reconnect: end the calls Asterisk no longer has
            ami.on_login(lambda: reconcile(self, ami))

    def feed(self, event: Event) -> None:
        """AMI handler: queue the event and return at once (never blocks the AMI reader)."""
        if event.get("Event") not in self._handlers:
            return
        if event.get("Event") == "VarSet" and not str(event.get("Variable", "")).lstrip("_").startswith("HOTLINE_"):
            return
        self._enqueue(event)

    async def notify(self, call_id: str, data: dict[str, Any]) -> str | None:
        """Record `data` on a call and send it as an `update` to its agent, in turn.

        For the speech, ticket and transfer services ({"event": "transcript", ...}).
        The update waits behind the AMI events fed before it, so it never
        overtakes the call's own pops; for a call not seen yet it is kept
        (EARLY_TTL_S) and applied once the call appears; after the caller's
        hangup it is stored but no longer shown. Returns the agent told
        (None: supervisors only, not shown, or the tracker is overloaded).
        """
        at = dt.datetime.now(dt.timezone.utc)
        if self._task is None:  # not started (tools, tests): apply at once
            return await self._notice(call_id, data, at)
        notice = Notice(call_id, data, at, asyncio.get_running_loop().create_future())
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
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        self._cancel_pending()
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
                if self._busy:  # screen-pop reads, held publishes
                    await asyncio.wait(set(self._busy))
                    continue
                await self.store.flush(timeout)
                if self._queue.empty() and not self._busy:
                    return

        await asyncio.wait_for(settle(), timeout)

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
        handler = self._handlers.get(str(event.get("Event")))
        if handler is None:
            return
        self.stats["events"] += 1
        try:
            await handler(event, self._at(event))
            await self._apply_early()
        except Exception:
            self.stats["errors"] += 1
            log.exception("AMI %s for call %s could not be handled", event.get("Event"), event.get("Linkedid"))

    def _at(self, event: Event) -> dt.datetime:
        ts = _float(event.get("Timestamp"))  # manager.conf timestampevents=yes
        if ts is not None and 0 < ts < 32503680000:  # finite, before year 3000
            return dt.datetime.fromtimestamp(ts, dt.timezone.utc)
        return dt.datetime.now(dt.timezone.utc)

    # -- AMI event handlers ---------------------------------------------------------
    async def _newchannel(self, ev: Event, at: dt.datetime) -> None:
        lid, uid = ev.get("Linkedid"), ev.get("Uniqueid")
        if not lid or not uid or lid in self._ended:
            return
        call = self.calls.get(lid) or self._new_call(lid, at, ev)
        self._chan_call[uid] = lid
        call.channels[uid] = str(ev.get("Channel", ""))
        agent = self._agent(ev.get("Channel"))
        if agent and not call.internal and uid != call.caller_uid:
            await self._ring(call, agent, at, "dial")

    async def _new_callerid(self, ev: Event, at: dt.datetime) -> None:
        # Some channels (Local, some trunks) learn the caller's number after creation.
        call = self._call_for(ev, at, create=False)
        number = _number(ev.get("CallerIDNum"))
        if call is None or call.internal or not number or ev.get("Uniqueid") != call.caller_uid:
            return
        if number != call.caller:
            call.caller = number
            call.pop.history = None  # the history read so far was another number's
            self._save(call, {"caller": number})
            self._read(call, history=True)

    async def _varset(self, ev: Event, at: dt.datetime) -> None:
        name = str(ev.get("Variable", "")).lstrip("_")
        if not name.startswith("HOTLINE_"):
            return
        call = self._call_for(ev, at)
        if call is not None and not call.internal:
            await self._set_vars(call, {name: str(ev.get("Value", "")).strip() or None}, at)

    def routed(self, call_id: str, variables: dict[str, str], uniqueid: str | None = None) -> None:
        """The plan's variables, from the route handler that set them on call `call_id`'s channel.

        The server's AMI session skips VarSet events of the routing context
        (ivr.server.SERVER_EVENT_FILTERS): these values come this way instead,
        in their turn among the call's events (kept if the call is not seen yet).
        `uniqueid` is the routed channel's own (agi_uniqueid): without it, or if
        it is not a channel of call `call_id`, nothing changes (callbook._accept_route)."""
        values = {name.lstrip("_"): str(value).strip() or None for name, value in variables.items()}
        if self._task is None:  # not started (tools, tests): nothing to follow calls with
            return
        self._enqueue(Notice(call_id, {"event": ROUTED, "variables": values, "uniqueid": uniqueid}, dt.datetime.now(dt.timezone.utc),
                             asyncio.get_running_loop().create_future()))

    async def _queue_join(self, ev: Event, at: dt.datetime) -> None:
        call = self._call_for(ev, at)
        if call is None or call.internal:
            return
        queue = _queue_id(ev.get("Queue"))
        call.fields["queue"] = queue
        fields: dict[str, Any] = {"queue": queue}
        if call.queued_at is None:
            call.queued_at = fields["queued_at"] = at
        self._save(call, fields)
        position = int(_float(ev.get("Position")) or 0)
        self._record(call, at, "queued", {"queue": queue, "position": position})
        await self._publish(call, None, "update", {**call.summary(), "event": "queued", "position": position})

    async def _queue_leave(self, ev: Event, at: dt.datetime) -> None:
        call = self._call_for(ev, at, create=False)
        if call is not None and not call.internal:
            self._record(call, at, "queue_leave", {"queue": _queue_id(ev.get("Queue"))})

    def _live_or_ended(self, ev: Event, at: dt.datetime) -> CallState | None:
        """For events that may trail the caller's Hangup (abandon, AgentComplete)."""
        return self._call_for(ev, at, create=False) or self._ended.get(str(ev.get("Linkedid")))

    async def _queue_abandon(self, ev: Event, at: dt.datetime) -> None:
        call = self._live_or_ended(ev, at)
        if call is None or call.internal:
            return
        call.queue_wait_s = _float(ev.get("HoldTime"))
        self._save(call, {"queue_wait_s": call.queue_wait_s})
        self._record(call, at, "abandon", {"queue": _queue_id(ev.get("Queue")), "hold_s": call.queue_wait_s})

    def _member(self, ev: Event) -> str | None:
        agent = agent_id(ev.get("Interface")) or agent_id(ev.get("DestChannel")) or _number(ev.get("MemberName"))
        if agent:
            self.agents.add(agent)  # a queue member is an agent, whatever config said
        return agent

    async def _agent_called(self, ev: Event, at: dt.datetime) -> None:
        call, agent = self._call_for(ev, at), self._member(ev)
        if call is not None and agent and not call.internal:
            await self._ring(call, agent, at, "queue")

    async def _agent_connect(self, ev: Event, at: dt.datetime) -> None:
        call, agent = self._call_for(ev, at), self._member(ev)
        if call is None or not agent or call.internal:
            return
        call.queue_wait_s = _float(ev.get("HoldTime"))
        if agent == call.agent:  # the bridge told us first: just add the queue's wait
            self._save(call, {"queue_wait_s": call.queue_wait_s})
        await self._answered(call, agent, at)

    async def _agent_ring_no_answer(self, ev: Event, at: dt.datetime) -> None:
        call, agent = self._call_for(ev, at, create=False), self._member(ev)
        if call is not None and agent:
            await self._cancel_ring(call, agent, "no_answer", at)

    async def _agent_complete(self, ev: Event, at: dt.datetime) -> None:
        call, agent = self._live_or_ended(ev, at), self._member(ev)
        if call is None or call.internal:
            return
        call.talk_s += _float(ev.get("TalkTime")) or 0.0
        self._save(call, {"talk_s": call.talk_s})
        self._record(call, at, "agent_complete",
                     {"agent": agent, "talk_s": _float(ev.get("TalkTime")), "reason": ev.get("Reason")})

    async def _bridge_enter(self, ev: Event, at: dt.datetime) -> None:
        call, uid, bridge = self._call_for(ev, at), ev.get("Uniqueid"), ev.get("BridgeUniqueid")
        if call is None or not uid or not bridge:
            return
        self._bridges.setdefault(bridge, set()).add(uid)
        self._chan_bridge[uid] = bridge
        if not call.internal:
            await self._check_bridge(call, bridge, at)

    async def _bridge_leave(self, ev: Event, at: dt.datetime) -> None:
        uid = ev.get("Uniqueid")
        if uid and self._chan_bridge.get(uid) == ev.get("BridgeUniqueid"):
            self._bridge_leave_all(uid)

    def _transfer_call(self, ev: Event, prefix: str) -> CallState | None:
        lid = ev.get(f"{prefix}Linkedid")
        call = self.calls.get(lid) if lid else None
        if call is None or call.internal:
            call = self.calls.get(self._chan_call.get(ev.get(f"{prefix}Uniqueid"), ""))
        return None if call is None or call.internal else call

    async def _blind_transfer(self, ev: Event, at: dt.datetime) -> None:
        call = self._transfer_call(ev, "Transferee")
        if call is None:
            return
        agent = self._agent(ev.get("TransfererChannel"))
        ok = ev.get("Result") == "Success"
        target = f"{ev.get('Extension', '')}@{ev.get('Context', '')}"
        info = {"kind": "blind", "from": agent, "target": target, "result": "completed" if ok else "failed"}
        await self._transferred(call, agent, info, at, ev.get("Result"))

    async def _attended_transfer(self, ev: Event, at: dt.datetime) -> None:
        call = self._transfer_call(ev, "Transferee")
        if call is None:
            return
        agent = self._agent(ev.get("OrigTransfererChannel"))
        ok = ev.get("Result") == "Success"
        kind = "three_way" if ev.get("DestType") == "Threeway" else "attended"
        target_name = str(ev.get("TransferTargetChannel", ""))
        target_agent = self._agent(target_name)
        info = {"kind": kind, "from": agent, "target": target_agent or agent_id(target_name) or target_name,
                "result": "completed" if ok else "failed"}
        tuid = ev.get("TransferTargetUniqueid")
        if ok and tuid:  # the target's channel serves this caller now
            old = self.calls.get(self._chan_call.get(tuid, ""))
            if old is not None and old is not call:
                old.channels.pop(tuid, None)
            self._chan_call[tuid] = call.linkedid
            call.channels[tuid] = target_name
        await self._transferred(call, agent, info, at, ev.get("Result"))
        if not ok or agent is None or agent != call.agent:
            return
        if target_agent and kind == "attended":
            await self._answered(call, target_agent, at)  # tells the old agent, pops the new one
        else:  # three-way, or handed to a sub-center/outside party: the agent is still on
            await self._publish(call, agent, "update", {"call_id": call.linkedid, "event": "transfer", "transfer": info})

    async def _transferred(self, call: CallState, agent: str | None, info: dict[str, Any],
                           at: dt.datetime, result: Any) -> None:
        self.store.submit(repo.record_transfer, call.linkedid, info["kind"], from_agent=agent,
                          target=info["target"], result=info["result"], source="ami",
                          detail={"asterisk_result": result}, at=at)
        self._record(call, at, "transfer", info)
        if agent is None or agent != call.agent:
            return
        if info["result"] != "completed":
            await self._publish(call, agent, "update",
                                {"call_id": call.linkedid, "event": "transfer_failed", "transfer": info})
        elif info["kind"] == "blind":  # the agent is out; whoever picks up gets ring/answer
            call.agent = None
            await self._publish(call, agent, "update",
                                {"call_id": call.linkedid, "event": "transferred", "transfer": info})

    async def _hangup(self, ev: Event, at: dt.datetime) -> None:
        uid = ev.get("Uniqueid")
        lid = self._chan_call.pop(uid, None) if uid else None
        self._bridge_leave_all(uid)
        call = self.calls.get(lid or "")
        if call is None:
            return
        name = call.channels.pop(uid, "")
        if call.internal:
            if not call.channels:
                self._forget(call)
            return
        cause = str(ev.get("Cause", ""))
        if uid == call.caller_uid or not call.channels:
            await self._finalize(call, at, cause)
            return
        agent = self._agent(name)
        if agent and not any(self._agent(n) == agent for n in call.channels.values()):
            await self._agent_gone(call, agent, cause, at)
