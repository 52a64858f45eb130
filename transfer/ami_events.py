"""The transfer service's view of Asterisk: which channels serve which call, and
the AMI events that move a transfer along.

`CallIndex` learns from queue events who the caller and the agent of a call
are (QueueCallerJoin, AgentConnect), forgets them on Hangup, and can be rebuilt
from `CoreShowChannels` after a reconnect. `TransferEvents` is the AMI handler:
it keeps the index, and hands the service what concerns a transfer — a leg
joining the caller's bridge, a leg's result (UserEvent HotlineTransfer), a
channel of a call hanging up, feature codes pressed by an agent. A malformed
event is logged and skipped; it never stops the handler.
"""
from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from ivr.ami.agent_id import agent_id
from ivr.config.model import Config
from transfer.dialplan import LEG_CONTEXT
from transfer.features import FeatureAction, FeatureCodes

log = logging.getLogger(__name__)
Event = Mapping[str, Any]


class LegListener(Protocol):
    """What the events tell the transfer service (transfer.service.TransferService is one)."""

    config: Config

    def on_leg_gone(self, uid: str) -> None: ...
    def on_channel_gone(self, legs: "CallLegs", role: str, channel: str, cause: str) -> None: ...
    def on_leg_joined(self, uid: str) -> None: ...
    def on_result(self, xid: str, result: str, status: str, channel: str) -> None: ...
    def on_feature(self, legs: "CallLegs", action: FeatureAction) -> None: ...
    def on_ami_login(self) -> None: ...
LEG_MARK = f"@{LEG_CONTEXT}-"   # in the names of transfer-leg Local channels


@dataclass
class CallLegs:
    call_id: str                      # the caller's linkedid (the web API's call id)
    caller: str | None = None         # the caller's channel in this Asterisk
    caller_number: str | None = None
    agent: str | None = None          # the 12345 agent's channel bridged with the caller
    agent_id: str | None = None
    queue: str | None = None


class CallIndex:
    def __init__(self, max_calls: int = 20000) -> None:
        self.max_calls = max_calls
        self.calls: OrderedDict[str, CallLegs] = OrderedDict()
        self._channels: dict[str, tuple[str, str]] = {}   # channel name -> (call id, role)

    def get(self, call_id: str) -> CallLegs | None:
        return self.calls.get(call_id)

    def role_of(self, channel: str) -> tuple[CallLegs | None, str | None]:
        call_id, role = self._channels.get(channel, ("", None))
        return self.calls.get(call_id), role

    def _call(self, call_id: str) -> CallLegs:
        legs = self.calls.get(call_id)
        if legs is None:
            legs = self.calls[call_id] = CallLegs(call_id)
            if len(self.calls) > self.max_calls:  # hangups we never saw
                _, old = self.calls.popitem(last=False)
                self._drop_channels(old)
        return legs

    def set_caller(self, call_id: str, channel: str, number: str | None) -> CallLegs:
        legs = self._call(call_id)
        if legs.caller and legs.caller != channel:
            self._channels.pop(legs.caller, None)
        legs.caller = channel
        legs.caller_number = number or legs.caller_number
        self._channels[channel] = (call_id, "caller")
        return legs

    def set_agent(self, call_id: str, channel: str | None, aid: str | None) -> None:
        legs = self._call(call_id)
        if legs.agent and legs.agent != channel:
            self._channels.pop(legs.agent, None)
        legs.agent, legs.agent_id = channel, aid or legs.agent_id
        if channel:
            self._channels[channel] = (call_id, "agent")

    def watch(self, call_id: str, channel: str, role: str) -> None:
        """Follow another channel of the call (a transfer's far end)."""
        if call_id in self.calls:
            self._channels[channel] = (call_id, role)

    def channel_gone(self, channel: str) -> tuple[CallLegs | None, str | None]:
        """The channel hung up: returns (call, role) it had, and forgets it."""
        call_id, role = self._channels.pop(channel, ("", None))
        legs = self.calls.get(call_id)
        if legs is None:
            return None, None
        if role == "caller":
            del self.calls[call_id]
            self._drop_channels(legs)
        elif role == "agent" and legs.agent == channel:
            legs.agent = None
        return legs, role

    def _drop_channels(self, legs: CallLegs) -> None:
        for name in [n for n, (cid, _) in self._channels.items() if cid == legs.call_id]:
            del self._channels[name]

    def rebuild(self, channels: Iterable[Event]) -> int:
        """Callers and agents of queue calls from a `CoreShowChannels` listing; returns calls found."""
        rows = [c for c in channels if c.get("Event") == "CoreShowChannel"]
        by_bridge: dict[str, list[Event]] = {}
        for c in rows:
            if c.get("BridgeId"):
                by_bridge.setdefault(str(c["BridgeId"]), []).append(c)
        self.calls.clear()
        self._channels.clear()
        for members in by_bridge.values():
            caller = next((c for c in members if c.get("Application") == "Queue"), None)
            if caller is None:
                continue
            legs = self.set_caller(str(caller.get("Linkedid")), str(caller["Channel"]), _number(caller.get("CallerIDNum")))
            agent = next((c for c in members if c.get("Application") == "AppQueue"), None)
            if agent is not None:
                self.set_agent(legs.call_id, str(agent["Channel"]), agent_id(str(agent["Channel"])))
        for c in rows:  # callers not with an agent yet: voice menu, speech intake, waiting in a queue
            lid, name = str(c.get("Linkedid") or ""), str(c.get("Channel") or "")
            if (lid and lid not in self.calls and str(c.get("Context", "")).startswith("hotline-")
                    and c.get("Application") not in ("AppQueue", "AppDial") and not is_leg(name)):
                self.set_caller(lid, name, _number(c.get("CallerIDNum")))
        return len(self.calls)


def _number(value: Any) -> str | None:
    v = str(value or "").strip()
    return None if not v or v == "<unknown>" else v


def is_leg(channel: str) -> bool:
    return LEG_MARK in channel


class TransferEvents:
    """AMI handler of the transfer service (attach with `ami.on("*", events.feed)`)."""

    def __init__(self, service: LegListener) -> None:
        self.service = service
        self.index = CallIndex()
        self.features = FeatureCodes(service.config)
        self.errors = 0
        self._handlers = {
            "QueueCallerJoin": self._caller_join, "AgentConnect": self._agent_connect,
            "Hangup": self._hangup, "BridgeEnter": self._bridge_enter, "UserEvent": self._user_event,
            "DTMFEnd": self._dtmf, "FullyBooted": self._booted,
        }

    def feed(self, event: Event) -> None:
        handler = self._handlers.get(str(event.get("Event", "")))
        if handler is None:
            return
        try:
            handler(event)
        except Exception:
            self.errors += 1
            log.exception("AMI %s event could not be handled by transfers", event.get("Event"))

    def _caller_join(self, ev: Event) -> None:
        channel, lid = ev.get("Channel"), ev.get("Linkedid")
        if channel and lid and not is_leg(str(channel)):
            legs = self.index.set_caller(str(lid), str(channel), _number(ev.get("CallerIDNum")))
            legs.queue = str(ev.get("Queue") or "") or None

    def _agent_connect(self, ev: Event) -> None:
        channel, dest, lid = ev.get("Channel"), ev.get("DestChannel"), ev.get("Linkedid")
        if not (channel and dest and lid) or is_leg(str(channel)):
            return  # an expert answering a transfer leg's queue: the service follows that one
        self.index.set_caller(str(lid), str(channel), _number(ev.get("CallerIDNum")))
        aid = agent_id(str(ev.get("Interface") or "")) or _number(ev.get("MemberName")) or agent_id(str(dest))
        self.index.set_agent(str(lid), str(dest), aid)

    def _hangup(self, ev: Event) -> None:
        channel, uid = str(ev.get("Channel", "")), str(ev.get("Uniqueid", ""))
        if is_leg(channel):
            self.service.on_leg_gone(uid)
            return
        self.features.forget(channel)
        legs, role = self.index.channel_gone(channel)
        if legs is not None and role is not None:
            self.service.on_channel_gone(legs, role, channel, str(ev.get("Cause", "")))

    def _bridge_enter(self, ev: Event) -> None:
        channel = str(ev.get("Channel", ""))
        if is_leg(channel):
            self.service.on_leg_joined(str(ev.get("Uniqueid", "")))

    def _user_event(self, ev: Event) -> None:
        if ev.get("UserEvent") != "HotlineTransfer":
            return
        self.service.on_result(str(ev.get("Id", "")), str(ev.get("Result", "")), str(ev.get("Status", "")),
                               str(ev.get("Channel", "")))

    def _dtmf(self, ev: Event) -> None:
        if ev.get("Direction") != "Received":
            return
        channel = str(ev.get("Channel", ""))
        legs, role = self.index.role_of(channel)
        if legs is None or role != "agent":
            return
        action = self.features.feed(channel, str(ev.get("Digit", "")), time.monotonic())
        if action is not None:
            self.service.on_feature(legs, action)

    def _booted(self, ev: Event) -> None:
        self.service.on_ami_login()
