"""The rules the reducer applies to a call: which channel serves it, which agents
ring or hold it, what is stored and what consoles are told.

Pure functions on the model (ivr.calls.model.CallModel): each appends the
effects it needs (ivr.calls.effects) to `out`, in order, and does no I/O.
ivr.calls.reducer calls them for each AMI event and `notify()` update.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any

from ivr.dialplan import variables as V
from ivr.ami.agent_id import agent_id
from ivr.calls import events
from ivr.calls.effects import EnsureTicket, Forgotten, Pop, Publish, Read, Record, Save
from ivr.calls.model import ENDED_MEMORY, CallModel
from ivr.calls.state import NOT_SAVED, VAR_FIELDS, CallState, split_intake, tag_list
from ivr.plan.fasttrack import ticket_fields

log = logging.getLogger("ivr.calls")
Event = Mapping[str, Any]
Out = list
# Plan variables whose change is worth showing on an open screen-pop.
_POP_FIELDS = ("dialed", "line", "department", "mode", "queue", "tags")


def number(value: Any) -> str | None:
    v = str(value or "").strip()
    return None if not v or v == "<unknown>" else v


def to_float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def agent(m: CallModel, channel: str | None) -> str | None:
    aid = agent_id(channel)
    return aid if aid in m.agents else None


def save(call: CallState, fields: dict[str, Any], out: Out) -> None:
    if not call.internal:
        out.append(Save(call, fields))


def record(call: CallState, at: dt.datetime, kind: str, data: dict[str, Any], out: Out) -> None:
    if not call.internal:
        out.append(Record(call, at, kind, data))


def target(call: CallState) -> str | None:
    """Who an update about the call goes to: its agent, else the agent it rings last."""
    return call.agent or next(reversed(call.ringing), None)


# -- calls and channels --------------------------------------------------------------
def new_call(m: CallModel, linkedid: str, at: dt.datetime, event: Event, out: Out) -> CallState:
    call = CallState(linkedid, at)
    if event.get("Uniqueid") == linkedid:
        call.caller_uid = linkedid
        call.caller = number(event.get("CallerIDNum"))
        call.internal = agent(m, event.get("Channel")) is not None
    m.calls[linkedid] = call
    if len(m.calls) > m.max_calls:  # hangups we never saw: forget the oldest
        old = next(iter(m.calls.values()))
        log.warning("tracking more than %d calls: forgetting call %s", m.max_calls, old.linkedid)
        forget(m, old, out)
    if not call.internal:
        save(call, {"caller": call.caller, "started_at": at, "day": at.astimezone(m.tz).date()}, out)
        out.append(Read(call, history=True))  # long before a phone rings, in real traffic
    if linkedid in m.early:
        m.born.append(call)
    return call


def call_for(m: CallModel, event: Event, at: dt.datetime, out: Out, create: bool = True) -> CallState | None:
    lid, uid = event.get("Linkedid"), event.get("Uniqueid")
    if not lid:
        return None
    known = m.calls.get(lid)
    reg = m.chan_call.get(uid) if uid else None
    if known is not None and not known.internal:
        call = known
    elif reg in m.calls:
        call = m.calls[reg]  # moved here by a transfer before Asterisk's linkedid caught up
    elif known is not None:
        call = known
    elif lid in m.ended or not create:
        return None
    else:
        call = new_call(m, lid, at, event, out)
    if uid and reg != call.linkedid:
        if reg in m.calls:
            m.calls[reg].channels.pop(uid, None)
        m.chan_call[uid] = call.linkedid
        call.channels[uid] = str(event.get("Channel", ""))
        held = call.pending_routes.pop(uid, None)
        if held is not None:  # its route came first: applied after this event (reducer.apply_early)
            m.early.setdefault(call.linkedid, []).append((m.mono, at, held))
            m.born.append(call)
    return call


def forget(m: CallModel, call: CallState, out: Out) -> None:
    m.calls.pop(call.linkedid, None)
    for uid in call.channels:
        if m.chan_call.get(uid) == call.linkedid:
            del m.chan_call[uid]
        bridge_leave_all(m, uid)
    m.drop_legs(call)
    out.append(Forgotten(call))
    m.ended[call.linkedid] = call  # late AgentComplete still lands on the record
    if len(m.ended) > ENDED_MEMORY:
        m.ended.popitem(last=False)


def bridge_leave_all(m: CallModel, uid: str | None) -> None:
    bridge = m.chan_bridge.pop(uid, None) if uid else None
    members = m.bridges.get(bridge or "")
    if members is not None:
        members.discard(uid)
        if not members:
            del m.bridges[bridge]


# -- plan variables --------------------------------------------------------------------
def set_vars(m: CallModel, call: CallState, values: dict[str, str | None], at: dt.datetime, out: Out,
             routed: bool = False) -> None:
    """HOTLINE_* values on the call: stored, and shown on an open screen-pop.

    A VarSet is recorded as a `var` event; the route handler's whole set as one `route` event."""
    changed = {}
    if V.INTAKE in values:  # a copy may carry the nonce too: never kept
        if not routed and not values[V.INTAKE]:
            call.intake_nonce = None  # the dialplan ended the intake: no stream from now on
        values = {**values, V.INTAKE: split_intake(values[V.INTAKE])[0]}
    for name, value in values.items():
        key = VAR_FIELDS.get(name, name)
        if key not in call.fields or call.fields[key] != value:  # inherited copies repeat values
            call.fields[key] = changed[name] = value
    if not changed:
        return
    if routed:
        record(call, at, "route", {"variables": changed}, out)
    else:
        for name, value in changed.items():
            record(call, at, "var", {"name": name, "value": value}, out)
    saved = {VAR_FIELDS[n]: v for n, v in changed.items() if n in VAR_FIELDS and VAR_FIELDS[n] not in NOT_SAVED}
    if saved:
        save(call, saved, out)
    ticket = changed.get(V.TICKET)
    if ticket or (V.TAGS in changed and call.get("ticket_id")):
        # 一企来: the draft is tagged and gets its deadline from the start, or from the menu key
        # that tagged the call later (ivr/plan/fasttrack.py)
        extra = ticket_fields(call.get("tags"), at, m.tz.key)
        out.append(EnsureTicket(ticket or call.get("ticket_id"), call.linkedid, extra))
    if ticket:
        out.append(Read(call, ticket=True))  # queued after ensure_ticket: sees it
    to = target(call)
    shown = {VAR_FIELDS[n]: v for n, v in changed.items() if VAR_FIELDS.get(n) in _POP_FIELDS}
    if to is None or not (shown or ticket):
        return
    info: dict[str, Any] = events.info(call.linkedid, **shown)
    if ticket:
        info["ticket"] = {"id": ticket}
    if "tags" in shown:
        info["tags"] = tag_list(shown["tags"])
    if "line" in shown:
        info["line_name"] = m.line_names.get(shown["line"] or "")
    out.append(Publish(call, to, events.UPDATE, info))


# -- agents ringing, answering, leaving ---------------------------------------------------
def pop(m: CallModel, call: CallState, to: str, kind: str, at: dt.datetime, out: Out) -> None:
    payload = call.screen_pop(at, to, m.line_names.get(call.get("line") or ""))
    out.append(Pop(call, to, kind, payload))


def ring(m: CallModel, call: CallState, to: str, at: dt.datetime, source: str, out: Out) -> None:
    if to == call.agent or to in call.ringing:
        return
    call.ringing[to] = None
    record(call, at, "ring", {"agent": to, "via": source}, out)
    pop(m, call, to, events.RING, at, out)


def cancel_ring(call: CallState, who: str, reason: str, at: dt.datetime, out: Out) -> None:
    if who not in call.ringing:
        return
    del call.ringing[who]
    record(call, at, "ring_cancelled", {"agent": who, "reason": reason}, out)
    out.append(Publish(call, who, events.UPDATE, events.ring_cancelled(call.linkedid, reason)))


def answered(m: CallModel, call: CallState, who: str, at: dt.datetime, out: Out) -> None:
    if who == call.agent:
        return
    m.agents.add(who)
    for other in [a for a in call.ringing if a != who]:
        cancel_ring(call, other, "answered_elsewhere", at, out)
    call.ringing.pop(who, None)
    prev, call.agent = call.agent, who
    if prev is not None:
        out.append(Publish(call, prev, events.UPDATE, events.transfer_update(
            call.linkedid, "transferred", {"to": who, "result": "completed"})))
    call.answered_by_agent = True
    fields: dict[str, Any] = {"agent": who, "queue_wait_s": call.queue_wait_s}
    if call.answered_at is None:
        call.answered_at = at
        fields.update(answered_at=at, answer_s=round((at - call.started_at).total_seconds(), 3))
    save(call, fields, out)
    record(call, at, "answer", {"agent": who}, out)
    pop(m, call, who, events.ANSWER, at, out)


def agent_gone(m: CallModel, call: CallState, who: str, cause: str, at: dt.datetime, out: Out) -> None:
    """The agent's last channel on this call hung up while the caller stays."""
    if who in call.ringing:
        cancel_ring(call, who, "answered_elsewhere" if cause == "26" else "ring_ended", at, out)
    elif who == call.agent:
        call.agent = None
        record(call, at, "agent_left", {"agent": who}, out)
        out.append(Publish(call, who, events.UPDATE, events.agent_left(call.linkedid)))
        for bridge in {m.chan_bridge.get(u) for u in call.channels} - {None}:
            check_bridge(m, call, bridge, at, out)  # another agent still with the caller?


def check_bridge(m: CallModel, call: CallState, bridge: str, at: dt.datetime, out: Out) -> None:
    names = [call.channels[u] for u in m.bridges.get(bridge, ()) if u in call.channels]
    agents = sorted({a for a in (agent(m, n) for n in names) if a})
    others = [n for n in names if agent(m, n) is None]
    if agents and others:
        if call.agent not in agents:
            answered(m, call, agents[0], at, out)
    elif len(others) >= 2 and not call.forwarded and not call.answered_by_agent:
        call.forwarded = True
        fields: dict[str, Any] = {}
        if call.answered_at is None:
            call.answered_at = at
            fields.update(answered_at=at, answer_s=round((at - call.started_at).total_seconds(), 3))
        save(call, fields, out)
        record(call, at, "forwarded", {"channels": len(others)}, out)


def finalize(m: CallModel, call: CallState, at: dt.datetime, cause: str, out: Out) -> None:
    """The caller's channel is gone: close the record, dismiss rings, tell the agent."""
    disposition = call.disposition()
    save(call, {"ended_at": at, "disposition": disposition, "queue_wait_s": call.queue_wait_s}, out)
    record(call, at, "hangup", {"cause": cause, "disposition": disposition}, out)
    for who in list(call.ringing):
        cancel_ring(call, who, "caller_hangup", at, out)
    forget(m, call, out)
    # To the agent who has the caller; None (supervisors only) if nobody had.
    out.append(Publish(call, call.agent, events.HANGUP, events.hangup(call.linkedid, disposition, call.agent)))
