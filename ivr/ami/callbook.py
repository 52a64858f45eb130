"""`CallBook`: the tracker's memory of live calls and the rules applied to them.

It knows which channel serves which call, which agents ring or hold a call,
and turns that into storage writes (queued to `Store` with `submit`, never
awaited) and `publish()` calls. Screen-pop data comes from `PopData` (its
base), which never makes the tracker wait either. `ivr.ami.tracker.CallTracker`
feeds it AMI events and `notify()` updates.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from ivr.ami.agent_id import agent_id
from ivr.ami.callstate import NOT_SAVED, VAR_FIELDS, CallState, split_intake, tag_list
from ivr.ami.popdata import PopData, Publish
from ivr.plan.fasttrack import ticket_fields
from ivr.privacy import mask_number
from ivr.storage import repo
from ivr.storage.store import Store

log = logging.getLogger(__name__)
Event = Mapping[str, Any]
ENDED_MEMORY = 5000  # linkedids of ended calls remembered, so late events are ignored
# Plan variables whose change is worth showing on an open screen-pop.
_POP_FIELDS = ("dialed", "line", "department", "mode", "queue", "tags")
ROUTED = "routed"  # a Notice carrying the route handler's variables (CallTracker.routed)
# notify() for a call whose first AMI event has not come yet (the speech service
# can be quicker than the AMI socket): kept this long, for this many calls.
EARLY_TTL_S = 60.0
EARLY_CALLS = 1000
EARLY_PER_CALL = 200


def _number(value: Any) -> str | None:
    v = str(value or "").strip()
    return None if not v or v == "<unknown>" else v


def _float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


@dataclass
class Notice:
    """A notify() update waiting in the tracker's event queue for its turn."""

    call_id: str
    data: dict[str, Any]
    at: dt.datetime
    told: asyncio.Future


class CallBook(PopData):
    def __init__(self, store: Store, publish: Publish, *, agents: Iterable[str] = (),
                 line_names: Mapping[str, str] | None = None, tz: str = "Asia/Shanghai",
                 max_calls: int = 20000, pop_wait: float = 0.05, pop_wait_max: float = 0.5) -> None:
        super().__init__(store, publish, pop_wait=pop_wait, pop_wait_max=pop_wait_max)
        self.agents: set[str] = set(agents)      # grows with queue events
        self.line_names = dict(line_names or {})
        self.tz = ZoneInfo(tz)
        self.max_calls = max_calls
        self._chan_call: dict[str, str] = {}      # uniqueid -> linkedid of the call it serves
        self._chan_bridge: dict[str, str] = {}    # uniqueid -> bridge uniqueid
        self._bridges: dict[str, set[str]] = {}   # bridge uniqueid -> member uniqueids
        self._ended: OrderedDict[str, CallState] = OrderedDict()
        # linkedid -> [(monotonic, at, data)] of notify() updates that came before the call
        self._early: OrderedDict[str, list[tuple[float, dt.datetime, dict[str, Any]]]] = OrderedDict()
        self._born: list[CallState] = []          # new calls with early updates to apply

    # -- for other services ------------------------------------------------------
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

    def agent_of(self, call_id: str) -> str | None:
        call = self.calls.get(call_id)
        return None if call is None else call.agent

    async def _handle_notice(self, notice: Notice) -> None:
        told = None
        try:
            told = await self._notice(notice.call_id, notice.data, notice.at)
        except Exception:
            self.stats["errors"] += 1
            log.exception("update for call %s could not be handled", notice.call_id)
        if not notice.told.done():
            notice.told.set_result(told)

    async def _notice(self, call_id: str, data: dict[str, Any], at: dt.datetime) -> str | None:
        """A `notify()` update, in its turn among the AMI events: record it, tell the call's agent."""
        kind = str(data.get("event", "update"))
        call = self.calls.get(call_id)
        if kind == ROUTED and call is not None:
            variables = self._accept_route(call, data)
            if variables is not None and not call.internal:
                _log_route(call, variables)
                await self._set_vars(call, variables, at, routed=True)
            return None
        if call is None:
            ended = self._ended.get(call_id)
            if ended is not None:
                if kind != ROUTED:
                    self._record(ended, at, kind, data)  # trailing the hangup: stored, no longer shown
            else:
                self._keep_early(call_id, at, data)
            return None
        if call.internal:
            return None
        self._record(call, at, kind, data)
        ticket = data.get("ticket")
        if isinstance(ticket, dict) and ticket.get("id") and ticket.get("id") == call.get("ticket_id"):
            self._ticket_changed(call)  # later pops show the saved draft
        target = self._target(call)
        await self._publish(call, target, "update", {**data, "call_id": call_id})
        return target

    def _accept_route(self, call: CallState, data: dict[str, Any]) -> dict[str, str | None] | None:
        """The route's variables if this route result may apply to `call`, else None (logged, counted).

        The FastAGI request names the call (its linkedid argument) and its own
        channel (agi_uniqueid). Taken only if that channel is one of this
        call's channels as Asterisk reported them over AMI, and only once per
        channel: a request naming another call's linkedid, or replaying a
        channel already routed, changes nothing. A channel not seen yet (the
        FastAGI request can overtake its Newchannel on the AMI socket) holds
        the result until that channel joins this call (at most 4 per call)."""
        uid = data.get("uniqueid")
        if uid and uid not in call.channels and uid not in self._chan_call and len(call.pending_routes) < 4:
            call.pending_routes[uid] = data
            return None
        if not uid or uid not in call.channels or uid in call.routed_uids:
            self.stats["routes_refused"] = self.stats.get("routes_refused", 0) + 1
            why = "already routed" if uid in call.routed_uids else "not a channel of this call"
            log.warning("route result for call %s refused: channel %s %s", call.linkedid, uid or "?", why)
            return None
        call.routed_uids.add(uid)
        variables = dict(data["variables"])
        if "HOTLINE_INTAKE" in variables:
            variables["HOTLINE_INTAKE"], call.intake_nonce = split_intake(variables["HOTLINE_INTAKE"])
        return variables

    async def _set_vars(self, call: CallState, values: dict[str, str | None], at: dt.datetime,
                        routed: bool = False) -> None:
        """HOTLINE_* values on the call: stored, and shown on an open screen-pop.

        A VarSet is recorded as a `var` event; the route handler's whole set as one `route` event."""
        changed = {}
        if "HOTLINE_INTAKE" in values:  # a copy may carry the nonce too: never kept
            if not routed and not values["HOTLINE_INTAKE"]:
                call.intake_nonce = None  # the dialplan ended the intake: no stream from now on
            values = {**values, "HOTLINE_INTAKE": split_intake(values["HOTLINE_INTAKE"])[0]}
        for name, value in values.items():
            key = VAR_FIELDS.get(name, name)
            if key not in call.fields or call.fields[key] != value:  # inherited copies repeat values
                call.fields[key] = changed[name] = value
        if not changed:
            return
        if routed:
            self._record(call, at, "route", {"variables": changed})
        else:
            for name, value in changed.items():
                self._record(call, at, "var", {"name": name, "value": value})
        saved = {VAR_FIELDS[n]: v for n, v in changed.items() if n in VAR_FIELDS and VAR_FIELDS[n] not in NOT_SAVED}
        if saved:
            self._save(call, saved)
        ticket = changed.get("HOTLINE_TICKET")
        if ticket or ("HOTLINE_TAGS" in changed and call.get("ticket_id")):
            # 一企来: the draft is tagged and gets its deadline from the start, or from the menu key
            # that tagged the call later (ivr/plan/fasttrack.py)
            extra = ticket_fields(call.get("tags"), at, self.tz.key)
            self.store.submit(repo.ensure_ticket, ticket or call.get("ticket_id"), call.linkedid, extra)
        if ticket:
            self._read(call, ticket=True)  # queued after ensure_ticket: sees it
        target = self._target(call)
        shown = {VAR_FIELDS[n]: v for n, v in changed.items() if VAR_FIELDS.get(n) in _POP_FIELDS}
        if target is None or not (shown or ticket):
            return
        info: dict[str, Any] = {"call_id": call.linkedid, "event": "info", **shown}
        if ticket:
            info["ticket"] = {"id": ticket}
        if "tags" in shown:
            info["tags"] = tag_list(shown["tags"])
        if "line" in shown:
            info["line_name"] = self.line_names.get(shown["line"] or "")
        await self._publish(call, target, "update", info)

    def _keep_early(self, call_id: str, at: dt.datetime, data: dict[str, Any]) -> None:
        now = time.monotonic()
        while self._early and ((len(self._early) >= EARLY_CALLS and call_id not in self._early)
                               or now - next(iter(self._early.values()))[0][0] > EARLY_TTL_S):
            lid, dropped = self._early.popitem(last=False)
            log.warning("%d updates for call %s dropped: the call never appeared", len(dropped), lid)
        kept = self._early.setdefault(call_id, [])
        if len(kept) < EARLY_PER_CALL:
            kept.append((now, at, data))

    async def _apply_early(self) -> None:
        """Updates that came before their call, now that it exists (after the event creating it)."""
        while self._born:
            call = self._born.pop(0)
            for t, at, data in self._early.pop(call.linkedid, ()):
                if time.monotonic() - t <= EARLY_TTL_S:
                    await self._notice(call.linkedid, data, at)

    # -- call and channel bookkeeping --------------------------------------------
    def _agent(self, channel: str | None) -> str | None:
        aid = agent_id(channel)
        return aid if aid in self.agents else None

    def _new_call(self, linkedid: str, at: dt.datetime, event: Event) -> CallState:
        call = CallState(linkedid, at)
        if event.get("Uniqueid") == linkedid:
            call.caller_uid = linkedid
            call.caller = _number(event.get("CallerIDNum"))
            call.internal = self._agent(event.get("Channel")) is not None
        self.calls[linkedid] = call
        if len(self.calls) > self.max_calls:  # hangups we never saw: forget the oldest
            old = next(iter(self.calls.values()))
            log.warning("tracking more than %d calls: forgetting call %s", self.max_calls, old.linkedid)
            self._forget(old)
        if not call.internal:
            self._save(call, {"caller": call.caller, "started_at": at, "day": at.astimezone(self.tz).date()})
            self._read(call, history=True)  # long before a phone rings, in real traffic
        if linkedid in self._early:
            self._born.append(call)
        return call

    def _call_for(self, event: Event, at: dt.datetime, create: bool = True) -> CallState | None:
        lid, uid = event.get("Linkedid"), event.get("Uniqueid")
        if not lid:
            return None
        known = self.calls.get(lid)
        reg = self._chan_call.get(uid) if uid else None
        if known is not None and not known.internal:
            call = known
        elif reg in self.calls:
            call = self.calls[reg]  # moved here by a transfer before Asterisk's linkedid caught up
        elif known is not None:
            call = known
        elif lid in self._ended or not create:
            return None
        else:
            call = self._new_call(lid, at, event)
        if uid and reg != call.linkedid:
            if reg in self.calls:
                self.calls[reg].channels.pop(uid, None)
            self._chan_call[uid] = call.linkedid
            call.channels[uid] = str(event.get("Channel", ""))
            held = call.pending_routes.pop(uid, None)
            if held is not None:  # its route came first: applied after this event (_apply_early)
                self._early.setdefault(call.linkedid, []).append((time.monotonic(), at, held))
                self._born.append(call)
        return call

    def _save(self, call: CallState, fields: dict[str, Any]) -> None:
        if not call.internal:
            self.store.submit(repo.upsert_call, call.linkedid, fields)

    def _record(self, call: CallState, at: dt.datetime, kind: str, data: dict[str, Any]) -> None:
        if not call.internal:
            self.store.submit(repo.record_event, call.linkedid, at, kind, data)

    @staticmethod
    def _target(call: CallState) -> str | None:
        """Who an update about the call goes to: its agent, else the agent it rings last."""
        return call.agent or next(reversed(call.ringing), None)

    async def _pop(self, call: CallState, agent: str, kind: str, at: dt.datetime) -> None:
        payload = call.screen_pop(at, agent, self.line_names.get(call.get("line") or ""))
        await self._send_pop(call, agent, kind, payload)

    # -- agents ringing, answering, leaving ----------------------------------------
    async def _ring(self, call: CallState, agent: str, at: dt.datetime, source: str) -> None:
        if agent == call.agent or agent in call.ringing:
            return
        call.ringing[agent] = None
        self._record(call, at, "ring", {"agent": agent, "via": source})
        await self._pop(call, agent, "ring", at)

    async def _cancel_ring(self, call: CallState, agent: str, reason: str, at: dt.datetime) -> None:
        if agent not in call.ringing:
            return
        del call.ringing[agent]
        self._record(call, at, "ring_cancelled", {"agent": agent, "reason": reason})
        await self._publish(call, agent, "update",
                            {"call_id": call.linkedid, "event": "ring_cancelled", "reason": reason})

    async def _answered(self, call: CallState, agent: str, at: dt.datetime) -> None:
        if agent == call.agent:
            return
        self.agents.add(agent)
        for other in [a for a in call.ringing if a != agent]:
            await self._cancel_ring(call, other, "answered_elsewhere", at)
        call.ringing.pop(agent, None)
        prev, call.agent = call.agent, agent
        if prev is not None:
            await self._publish(call, prev, "update", {"call_id": call.linkedid, "event": "transferred",
                                                       "transfer": {"to": agent, "result": "completed"}})
        call.answered_by_agent = True
        fields: dict[str, Any] = {"agent": agent, "queue_wait_s": call.queue_wait_s}
        if call.answered_at is None:
            call.answered_at = at
            fields.update(answered_at=at, answer_s=round((at - call.started_at).total_seconds(), 3))
        self._save(call, fields)
        self._record(call, at, "answer", {"agent": agent})
        await self._pop(call, agent, "answer", at)

    async def _agent_gone(self, call: CallState, agent: str, cause: str, at: dt.datetime) -> None:
        """The agent's last channel on this call hung up while the caller stays."""
        if agent in call.ringing:
            await self._cancel_ring(call, agent, "answered_elsewhere" if cause == "26" else "ring_ended", at)
        elif agent == call.agent:
            call.agent = None
            self._record(call, at, "agent_left", {"agent": agent})
            await self._publish(call, agent, "update", {"call_id": call.linkedid, "event": "agent_left"})
            for bridge in {self._chan_bridge.get(u) for u in call.channels} - {None}:
                await self._check_bridge(call, bridge, at)  # another agent still with the caller?

    async def _check_bridge(self, call: CallState, bridge: str, at: dt.datetime) -> None:
        names = [call.channels[u] for u in self._bridges.get(bridge, ()) if u in call.channels]
        agents = sorted({a for a in map(self._agent, names) if a})
        others = [n for n in names if self._agent(n) is None]
        if agents and others:
            if call.agent not in agents:
                await self._answered(call, agents[0], at)
        elif len(others) >= 2 and not call.forwarded and not call.answered_by_agent:
            call.forwarded = True
            fields: dict[str, Any] = {}
            if call.answered_at is None:
                call.answered_at = at
                fields.update(answered_at=at, answer_s=round((at - call.started_at).total_seconds(), 3))
            self._save(call, fields)
            self._record(call, at, "forwarded", {"channels": len(others)})

    async def _finalize(self, call: CallState, at: dt.datetime, cause: str) -> None:
        """The caller's channel is gone: close the record, dismiss rings, tell the agent."""
        disposition = call.disposition()
        self._save(call, {"ended_at": at, "disposition": disposition, "queue_wait_s": call.queue_wait_s})
        self._record(call, at, "hangup", {"cause": cause, "disposition": disposition})
        for agent in list(call.ringing):
            await self._cancel_ring(call, agent, "caller_hangup", at)
        self._forget(call)
        # To the agent who has the caller; None (supervisors only) if nobody had.
        await self._publish(call, call.agent, "hangup",
                            {"call_id": call.linkedid, "disposition": disposition, "agent": call.agent})

    def _forget(self, call: CallState) -> None:
        self.calls.pop(call.linkedid, None)
        for uid in call.channels:
            if self._chan_call.get(uid) == call.linkedid:
                del self._chan_call[uid]
            self._bridge_leave_all(uid)
        if call.pop.held is None:  # no pop left to fill: its data is no longer needed
            call.pop.history = call.pop.ticket = None
        self._ended[call.linkedid] = call  # late AgentComplete still lands on the record
        if len(self._ended) > ENDED_MEMORY:
            self._ended.popitem(last=False)

    def _bridge_leave_all(self, uid: str | None) -> None:
        bridge = self._chan_bridge.pop(uid, None) if uid else None
        members = self._bridges.get(bridge or "")
        if members is not None:
            members.discard(uid)
            if not members:
                del self._bridges[bridge]


def _log_route(call: CallState, v: Mapping[str, str | None]) -> None:
    """The operator's line per routed call, written here rather than by the FastAGI worker,
    which every routed call waits on (benchmarks/routing.py)."""
    log.info("call %s from %s to %s: %s/%s -> %s %s", call.linkedid, mask_number(call.caller),
             v.get("HOTLINE_DIALED"), v.get("HOTLINE_MODE"), v.get("HOTLINE_PHASE"), v.get("HOTLINE_ACTION"),
             v.get("HOTLINE_TARGET") or "")
