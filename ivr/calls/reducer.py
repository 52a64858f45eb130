"""The live-call reducer: (model, input) -> effects, for every AMI event the
tracker subscribes to and every `notify()` update. Pure: no I/O, no asyncio,
no clock (the caller passes `at` and the monotonic `mono`).

From the old number dialed, through the plan's decision (the route handler's
variables, HOTLINE_* `VarSet`), the queue (QueueCallerJoin ... AgentConnect),
transfers and bridges, to the caller's `Hangup`: each step changes the call's
`CallState` and appends effects (ivr.calls.effects) — rows to write, pops and
updates to publish — that ivr.calls.tracker runs in order:

- `ring`   (agent, screen-pop)   the call rings that agent (queue or direct dial)
- `answer` (agent, screen-pop)   that agent has the caller now (also after a transfer)
- `update` (agent or None)       `event` says what: queued (None: supervisors),
  ring_cancelled (reason no_answer | answered_elsewhere | ring_ended | caller_hangup),
  transferred / transfer_failed / transfer (with `transfer`), agent_left,
  info (plan variables, ticket id), and what other services pass to `notify()`
- `hangup` (the agent who has the caller, or None) once, when the caller's channel ends.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from typing import Any

from ivr.dialplan import variables as V
from ivr.ami.agent_id import agent_id
from ivr.calls import book, events
from ivr.calls.book import Event, Out, agent, number, to_float
from ivr.calls.effects import Read, RecordTransfer, RouteLogged
from ivr.calls.model import CallModel
from ivr.calls.state import CallState, is_leg, split_intake

log = logging.getLogger("ivr.calls")
ROUTED = "routed"  # a notice carrying the route handler's variables (CallTracker.routed)
# notify() for a call whose first AMI event has not come yet (the speech service
# can be quicker than the AMI socket): kept this long, for this many calls.
EARLY_TTL_S = 60.0
EARLY_CALLS = 1000
EARLY_PER_CALL = 200


def reduce(m: CallModel, ev: Event, at: dt.datetime, mono: float, out: Out) -> None:
    """Apply one AMI event (appending its effects to `out`); unknown events change nothing."""
    handler = HANDLERS.get(str(ev.get("Event")))
    if handler is None:
        return
    m.mono = mono
    m.stats["events"] += 1
    handler(m, ev, at, out)
    apply_early(m, out)


def notice(m: CallModel, call_id: str, data: dict[str, Any], at: dt.datetime, mono: float, out: Out) -> str | None:
    """A `notify()` update in its turn among the AMI events: recorded, told to the call's agent.
    Returns that agent (None: supervisors only, or not shown)."""
    m.mono = mono
    kind = str(data.get("event", "update"))
    call = m.calls.get(call_id)
    if kind == ROUTED and call is not None:
        variables = accept_route(m, call, data)
        if variables is not None and not call.internal:
            out.append(RouteLogged(call, variables))
            book.set_vars(m, call, variables, at, out, routed=True)
        return None
    if call is None:
        ended = m.ended.get(call_id)
        if ended is not None:
            if kind != ROUTED:
                book.record(ended, at, kind, data, out)  # trailing the hangup: stored, no longer shown
        else:
            keep_early(m, call_id, at, data)
        return None
    if call.internal:
        return None
    book.record(call, at, kind, data, out)
    ticket = data.get("ticket")
    if isinstance(ticket, dict) and ticket.get("id") and ticket.get("id") == call.get("ticket_id"):
        out.append(Read(call, ticket=True, changed=True))  # later pops show the saved draft
    to = book.target(call)
    out.append(book.Publish(call, to, events.UPDATE, {**data, "call_id": call_id}))
    return to


def accept_route(m: CallModel, call: CallState, data: dict[str, Any]) -> dict[str, str | None] | None:
    """The route's variables if this route result may apply to `call`, else None (logged, counted).

    The FastAGI request names the call (its linkedid argument) and its own
    channel (agi_uniqueid). Taken only if that channel is one of this
    call's channels as Asterisk reported them over AMI, and only once per
    channel: a request naming another call's linkedid, or replaying a
    channel already routed, changes nothing. A channel not seen yet (the
    FastAGI request can overtake its Newchannel on the AMI socket) holds
    the result until that channel joins this call (at most 4 per call)."""
    uid = data.get("uniqueid")
    if uid and uid not in call.channels and uid not in m.chan_call and len(call.pending_routes) < 4:
        call.pending_routes[uid] = data
        return None
    if not uid or uid not in call.channels or uid in call.routed_uids:
        m.stats["routes_refused"] = m.stats.get("routes_refused", 0) + 1
        why = "already routed" if uid in call.routed_uids else "not a channel of this call"
        log.warning("route result for call %s refused: channel %s %s", call.linkedid, uid or "?", why)
        return None
    call.routed_uids.add(uid)
    variables = dict(data["variables"])
    if V.INTAKE in variables:
        variables[V.INTAKE], call.intake_nonce = split_intake(variables[V.INTAKE])
    return variables


def keep_early(m: CallModel, call_id: str, at: dt.datetime, data: dict[str, Any]) -> None:
    now = m.mono
    while m.early and ((len(m.early) >= EARLY_CALLS and call_id not in m.early)
                       or now - next(iter(m.early.values()))[0][0] > EARLY_TTL_S):
        lid, dropped = m.early.popitem(last=False)
        log.warning("%d updates for call %s dropped: the call never appeared", len(dropped), lid)
    kept = m.early.setdefault(call_id, [])
    if len(kept) < EARLY_PER_CALL:
        kept.append((now, at, data))


def apply_early(m: CallModel, out: Out) -> None:
    """Updates that came before their call, now that it exists (after the event creating it)."""
    while m.born:
        call = m.born.pop(0)
        for t, at, data in m.early.pop(call.linkedid, ()):
            if m.mono - t <= EARLY_TTL_S:
                notice(m, call.linkedid, data, at, m.mono, out)


def adopt(m: CallModel, rows: Iterable[Event], at: dt.datetime, out: Out) -> int:
    """Callers (and their agents) from a `CoreShowChannels` listing, for calls whose
    queue events were missed (a restart, a reconnect); returns the calls with a caller leg."""
    rows = [r for r in rows if r.get("Event") == "CoreShowChannel" and r.get("Linkedid") and r.get("Channel")]
    by_bridge: dict[str, list[Event]] = {}
    for r in rows:
        if r.get("BridgeId"):
            by_bridge.setdefault(str(r["BridgeId"]), []).append(r)

    def call_of(row: Event) -> CallState | None:
        return book.call_for(m, {**row, "Uniqueid": row.get("Uniqueid") or None}, at, out)

    for members in by_bridge.values():
        caller = next((r for r in members if r.get("Application") == "Queue"), None)
        call = None if caller is None else call_of(caller)
        if call is None:
            continue
        m.set_caller_leg(call, str(caller["Channel"]), number(caller.get("CallerIDNum")))
        member = next((r for r in members if r.get("Application") == "AppQueue"), None)
        if member is not None:
            m.set_agent_leg(call, str(member["Channel"]), agent_id(str(member["Channel"])))
    for r in rows:  # callers not with an agent yet: voice menu, speech intake, waiting in a queue
        name = str(r["Channel"])
        if (str(r.get("Context", "")).startswith("hotline-") and r.get("Application") not in ("AppQueue", "AppDial")
                and not is_leg(name) and name not in m.leg_calls):
            call = call_of(r)
            if call is not None and call.legs.caller is None:
                m.set_caller_leg(call, name, number(r.get("CallerIDNum")))
    apply_early(m, out)
    return sum(1 for c in m.calls.values() if c.legs.caller is not None)


# -- AMI event handlers -------------------------------------------------------------
def _newchannel(m: CallModel, ev: Event, at: dt.datetime, out: Out) -> None:
    lid, uid = ev.get("Linkedid"), ev.get("Uniqueid")
    if not lid or not uid or lid in m.ended:
        return
    call = m.calls.get(lid) or book.new_call(m, lid, at, ev, out)
    m.chan_call[uid] = lid
    call.channels[uid] = str(ev.get("Channel", ""))
    who = agent(m, ev.get("Channel"))
    if who and not call.internal and uid != call.caller_uid:
        book.ring(m, call, who, at, "dial", out)


def _new_callerid(m: CallModel, ev: Event, at: dt.datetime, out: Out) -> None:
    # Some channels (Local, some trunks) learn the caller's number after creation.
    call = book.call_for(m, ev, at, out, create=False)
    num = number(ev.get("CallerIDNum"))
    if call is None or call.internal or not num or ev.get("Uniqueid") != call.caller_uid:
        return
    if num != call.caller:
        call.caller = num
        book.save(call, {"caller": num}, out)
        out.append(Read(call, history=True, fresh=True))  # the history read so far was another number's


def _varset(m: CallModel, ev: Event, at: dt.datetime, out: Out) -> None:
    name = str(ev.get("Variable", "")).lstrip("_")
    if not name.startswith(V.PREFIX):
        return
    call = book.call_for(m, ev, at, out)
    if call is not None and not call.internal:
        book.set_vars(m, call, {name: str(ev.get("Value", "")).strip() or None}, at, out)


def queue_id(name: object) -> str | None:
    """Config queue id of an Asterisk queue: the dialplan names them hotline-<id>
    (ivr.dialplan.build.asterisk_queue), HOTLINE_QUEUE holds the bare id."""
    return str(name or "").removeprefix("hotline-") or None


def _queue_join(m: CallModel, ev: Event, at: dt.datetime, out: Out) -> None:
    call = book.call_for(m, ev, at, out)
    if call is None:
        return
    channel = str(ev.get("Channel") or "")
    if channel and not is_leg(channel):
        m.set_caller_leg(call, channel, number(ev.get("CallerIDNum")))
        call.legs.queue = str(ev.get("Queue") or "") or None
    if call.internal:
        return
    queue = queue_id(ev.get("Queue"))
    call.fields["queue"] = queue
    fields: dict[str, Any] = {"queue": queue}
    if call.queued_at is None:
        call.queued_at = fields["queued_at"] = at
    book.save(call, fields, out)
    position = int(to_float(ev.get("Position")) or 0)
    book.record(call, at, "queued", {"queue": queue, "position": position}, out)
    out.append(book.Publish(call, None, events.UPDATE, events.queued(call.summary(), position)))


def _queue_leave(m: CallModel, ev: Event, at: dt.datetime, out: Out) -> None:
    call = book.call_for(m, ev, at, out, create=False)
    if call is not None and not call.internal:
        book.record(call, at, "queue_leave", {"queue": queue_id(ev.get("Queue"))}, out)


def _live_or_ended(m: CallModel, ev: Event, at: dt.datetime, out: Out) -> CallState | None:
    """For events that may trail the caller's Hangup (abandon, AgentComplete)."""
    return book.call_for(m, ev, at, out, create=False) or m.ended.get(str(ev.get("Linkedid")))


def _queue_abandon(m: CallModel, ev: Event, at: dt.datetime, out: Out) -> None:
    call = _live_or_ended(m, ev, at, out)
    if call is None or call.internal:
        return
    call.queue_wait_s = to_float(ev.get("HoldTime"))
    book.save(call, {"queue_wait_s": call.queue_wait_s}, out)
    book.record(call, at, "abandon", {"queue": queue_id(ev.get("Queue")), "hold_s": call.queue_wait_s}, out)


def _member(m: CallModel, ev: Event) -> str | None:
    who = agent_id(ev.get("Interface")) or agent_id(ev.get("DestChannel")) or number(ev.get("MemberName"))
    if who:
        m.agents.add(who)  # a queue member is an agent, whatever config said
    return who


def _agent_called(m: CallModel, ev: Event, at: dt.datetime, out: Out) -> None:
    call, who = book.call_for(m, ev, at, out), _member(m, ev)
    if call is not None and who and not call.internal:
        book.ring(m, call, who, at, "queue", out)


def _agent_connect(m: CallModel, ev: Event, at: dt.datetime, out: Out) -> None:
    call, who = book.call_for(m, ev, at, out), _member(m, ev)
    channel, dest = str(ev.get("Channel") or ""), str(ev.get("DestChannel") or "")
    if call is not None and channel and dest and not is_leg(channel):
        # an expert answering a transfer leg's queue is followed by the transfer itself
        m.set_caller_leg(call, channel, number(ev.get("CallerIDNum")))
        aid = agent_id(str(ev.get("Interface") or "")) or number(ev.get("MemberName")) or agent_id(dest)
        m.set_agent_leg(call, dest, aid)
    if call is None or not who or call.internal:
        return
    call.queue_wait_s = to_float(ev.get("HoldTime"))
    if who == call.agent:  # the bridge told us first: just add the queue's wait
        book.save(call, {"queue_wait_s": call.queue_wait_s}, out)
    book.answered(m, call, who, at, out)


def _agent_ring_no_answer(m: CallModel, ev: Event, at: dt.datetime, out: Out) -> None:
    call, who = book.call_for(m, ev, at, out, create=False), _member(m, ev)
    if call is not None and who:
        book.cancel_ring(call, who, "no_answer", at, out)


def _agent_complete(m: CallModel, ev: Event, at: dt.datetime, out: Out) -> None:
    call, who = _live_or_ended(m, ev, at, out), _member(m, ev)
    if call is None or call.internal:
        return
    call.talk_s += to_float(ev.get("TalkTime")) or 0.0
    book.save(call, {"talk_s": call.talk_s}, out)
    book.record(call, at, "agent_complete",
                {"agent": who, "talk_s": to_float(ev.get("TalkTime")), "reason": ev.get("Reason")}, out)


def _bridge_enter(m: CallModel, ev: Event, at: dt.datetime, out: Out) -> None:
    call, uid, bridge = book.call_for(m, ev, at, out), ev.get("Uniqueid"), ev.get("BridgeUniqueid")
    if call is None or not uid or not bridge:
        return
    m.bridges.setdefault(bridge, set()).add(uid)
    m.chan_bridge[uid] = bridge
    if not call.internal:
        book.check_bridge(m, call, bridge, at, out)


def _bridge_leave(m: CallModel, ev: Event, at: dt.datetime, out: Out) -> None:
    uid = ev.get("Uniqueid")
    if uid and m.chan_bridge.get(uid) == ev.get("BridgeUniqueid"):
        book.bridge_leave_all(m, uid)


def _transfer_call(m: CallModel, ev: Event, prefix: str) -> CallState | None:
    lid = ev.get(f"{prefix}Linkedid")
    call = m.calls.get(lid) if lid else None
    if call is None or call.internal:
        call = m.calls.get(m.chan_call.get(ev.get(f"{prefix}Uniqueid"), ""))
    return None if call is None or call.internal else call


def _blind_transfer(m: CallModel, ev: Event, at: dt.datetime, out: Out) -> None:
    call = _transfer_call(m, ev, "Transferee")
    if call is None:
        return
    who = agent(m, ev.get("TransfererChannel"))
    ok = ev.get("Result") == "Success"
    target = f"{ev.get('Extension', '')}@{ev.get('Context', '')}"
    info = {"kind": "blind", "from": who, "target": target, "result": "completed" if ok else "failed"}
    _transferred(call, who, info, at, ev.get("Result"), out)


def _attended_transfer(m: CallModel, ev: Event, at: dt.datetime, out: Out) -> None:
    call = _transfer_call(m, ev, "Transferee")
    if call is None:
        return
    who = agent(m, ev.get("OrigTransfererChannel"))
    ok = ev.get("Result") == "Success"
    kind = "three_way" if ev.get("DestType") == "Threeway" else "attended"
    target_name = str(ev.get("TransferTargetChannel", ""))
    target_agent = agent(m, target_name)
    info = {"kind": kind, "from": who, "target": target_agent or agent_id(target_name) or target_name,
            "result": "completed" if ok else "failed"}
    tuid = ev.get("TransferTargetUniqueid")
    if ok and tuid:  # the target's channel serves this caller now
        old = m.calls.get(m.chan_call.get(tuid, ""))
        if old is not None and old is not call:
            old.channels.pop(tuid, None)
        m.chan_call[tuid] = call.linkedid
        call.channels[tuid] = target_name
    _transferred(call, who, info, at, ev.get("Result"), out)
    if not ok or who is None or who != call.agent:
        return
    if target_agent and kind == "attended":
        book.answered(m, call, target_agent, at, out)  # tells the old agent, pops the new one
    else:  # three-way, or handed to a sub-center/outside party: the agent is still on
        out.append(book.Publish(call, who, events.UPDATE, events.transfer_update(call.linkedid, "transfer", info)))


def _transferred(call: CallState, who: str | None, info: dict[str, Any], at: dt.datetime, result: Any,
                 out: Out) -> None:
    out.append(RecordTransfer(call.linkedid, info["kind"], who, info["target"], info["result"],
                              {"asterisk_result": result}, at))
    book.record(call, at, "transfer", info, out)
    if who is None or who != call.agent:
        return
    if info["result"] != "completed":
        out.append(book.Publish(call, who, events.UPDATE,
                                events.transfer_update(call.linkedid, "transfer_failed", info)))
    elif info["kind"] == "blind":  # the agent is out; whoever picks up gets ring/answer
        call.agent = None
        out.append(book.Publish(call, who, events.UPDATE, events.transfer_update(call.linkedid, "transferred", info)))


def _hangup(m: CallModel, ev: Event, at: dt.datetime, out: Out) -> None:
    m.leg_gone(str(ev.get("Channel", "")))
    uid = ev.get("Uniqueid")
    lid = m.chan_call.pop(uid, None) if uid else None
    book.bridge_leave_all(m, uid)
    call = m.calls.get(lid or "")
    if call is None:
        return
    name = call.channels.pop(uid, "")
    if call.internal:
        if not call.channels:
            book.forget(m, call, out)
        return
    cause = str(ev.get("Cause", ""))
    if uid == call.caller_uid or not call.channels:
        book.finalize(m, call, at, cause, out)
        return
    who = agent(m, name)
    if who and not any(agent(m, n) == who for n in call.channels.values()):
        book.agent_gone(m, call, who, cause, at, out)


Handler = Callable[[CallModel, Event, dt.datetime, Out], None]
HANDLERS: dict[str, Handler] = {
    "Newchannel": _newchannel, "NewCallerid": _new_callerid, "VarSet": _varset,
    "QueueCallerJoin": _queue_join, "QueueCallerLeave": _queue_leave,
    "QueueCallerAbandon": _queue_abandon, "AgentCalled": _agent_called,
    "AgentConnect": _agent_connect, "AgentRingNoAnswer": _agent_ring_no_answer,
    "AgentComplete": _agent_complete, "BridgeEnter": _bridge_enter,
    "BridgeLeave": _bridge_leave, "BlindTransfer": _blind_transfer,
    "AttendedTransfer": _attended_transfer, "Hangup": _hangup,
}
