"""What the consoles were shown of each call, folded from the hub's events into
the call's `ConsoleView` (ivr.calls.state) on the one model.

A call concerns every agent it was offered to (ringall queues ring several)
until it leaves them (an `update` whose "event" is in LEAVE_EVENTS, or a
`hangup` sent to them); its owner is the agent who answered it, the only one
(besides supervisors) who may transfer it. A `hangup` for the owner, or for
nobody (None), ends the view. Events about a call AMI never showed (another
process's, tests) get a call of their own. Pure: no I/O.
"""
from __future__ import annotations

import datetime as dt

from ivr.calls.events import ANSWER, HANGUP, LEAVE_EVENTS, NOTICE, RING, UPDATE, Event
from ivr.calls.model import CallModel
from ivr.calls.state import CallState, ConsoleView


def apply(model: CallModel, ev: Event) -> None:
    call = model.views.get(ev.call_id)
    if ev.kind == HANGUP:
        if call is not None:
            _hangup(model, call, ev.agent)
        return
    if ev.kind == NOTICE:
        return  # a message for the agent's screen, not call state
    if ev.kind == UPDATE and ev.payload.get("event") in LEAVE_EVENTS:
        if call is not None and ev.agent is not None:
            _leave(call.view, ev.agent)
        return
    if call is None:
        call = _open(model, ev)
    view = call.view
    if ev.agent is not None and ev.agent not in view.agents:
        view.agents.append(ev.agent)
    if ev.kind == ANSWER:
        view.owner = ev.agent
        view.state["status"] = "answered"
    elif ev.kind == RING and view.owner is None:
        view.state["status"] = "ringing"
    _merge(view.state, ev.payload)
    view.state["agent"] = view.owner or ev.agent or view.state.get("agent")
    view.state["last_event_id"] = ev.id
    ticket = ev.payload.get("ticket")
    if isinstance(ticket, dict) and isinstance(ticket.get("id"), str):
        model.tickets[ticket["id"]] = (ev.call_id, view.owner or ev.agent)
        model.tickets.move_to_end(ticket["id"])
        if len(model.tickets) > model.max_calls:
            model.tickets.popitem(last=False)


def _open(model: CallModel, ev: Event) -> CallState:
    call = model.calls.get(ev.call_id) or model.ended.get(ev.call_id)
    if call is None:
        call = CallState(ev.call_id, dt.datetime.fromtimestamp(ev.ts, dt.timezone.utc))
    call.view = ConsoleView({"call_id": ev.call_id, "status": "queued"})
    model.views[ev.call_id] = call
    if len(model.views) > model.max_calls:  # a hangup we never saw
        model.views.popitem(last=False)[1].view = None
    return call


def _leave(view: ConsoleView, agent: str) -> None:
    """The call goes on without `agent` (ring cancelled, transferred away, left)."""
    if agent in view.agents:
        view.agents.remove(agent)
    if view.owner == agent:
        view.owner = None
        view.state["agent"] = None


def _hangup(model: CallModel, call: CallState, agent: str | None) -> None:
    """The call ended for `agent` (None: for everyone)."""
    view = call.view
    if agent in view.agents:
        view.agents.remove(agent)
    if agent is None or agent == view.owner or not view.agents:
        del model.views[call.linkedid]
        call.view = None


def _merge(state: dict, payload: dict) -> None:
    for key, value in payload.items():
        if key in ("call_id", "event"):  # "event" names the update, it is not call state
            continue
        if key == "transcript" and isinstance(value, dict):
            # Final sentences accumulate; a partial replaces the previous partial.
            tr = state.setdefault("transcript", {"final": [], "partial": ""})
            if isinstance(value.get("final"), str):
                tr["final"].append(value["final"])
                tr["partial"] = ""
            if isinstance(value.get("partial"), str):
                tr["partial"] = value["partial"]
        else:
            state[key] = value
