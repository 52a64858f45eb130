"""The AMI events that move a transfer along, subscribed by name.

Who the caller and the agent of a call are (their channels) is not kept here:
the one live-call model (ivr.calls.model.CallModel, written by the tracker)
answers that. `TransferEvents` hands the service what concerns a transfer — a
leg joining the caller's bridge, a leg's result (UserEvent HotlineTransfer), a
channel hanging up, feature codes pressed by an agent, Asterisk (re)started.
A malformed event is logged and skipped; it never stops the handler.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any, Protocol

from ivr.calls.model import CallModel
from ivr.calls.state import Legs, is_leg
from ivr.config.model import Config
from transfer.features import FeatureAction, FeatureCodes

log = logging.getLogger(__name__)
Event = Mapping[str, Any]


class LegListener(Protocol):
    """What the events tell the transfer service (transfer.service.TransferService is one)."""

    config: Config

    def on_leg_gone(self, uid: str) -> None: ...
    def on_channel_gone(self, channel: str, cause: str) -> None: ...
    def on_leg_joined(self, uid: str) -> None: ...
    def on_result(self, xid: str, result: str, status: str, channel: str) -> None: ...
    def on_feature(self, call_id: str, legs: Legs, action: FeatureAction) -> None: ...
    def on_ami_login(self) -> None: ...


class TransferEvents:
    """AMI handlers of the transfer service (`attach(ami)`: one subscription per event name)."""

    def __init__(self, service: LegListener, calls: CallModel) -> None:
        self.service = service
        self.calls = calls
        self.features = FeatureCodes(service.config)
        self.errors = 0
        self.handlers = {
            "Hangup": self._hangup, "BridgeEnter": self._bridge_enter, "UserEvent": self._user_event,
            "DTMFEnd": self._dtmf, "FullyBooted": self._booted,
        }

    def attach(self, ami: Any) -> None:
        for name in self.handlers:
            ami.on(name, self.feed)

    def feed(self, event: Event) -> None:
        handler = self.handlers.get(str(event.get("Event", "")))
        if handler is None:
            return
        try:
            handler(event)
        except Exception:
            self.errors += 1
            log.exception("AMI %s event could not be handled by transfers", event.get("Event"))

    def _hangup(self, ev: Event) -> None:
        channel, uid = str(ev.get("Channel", "")), str(ev.get("Uniqueid", ""))
        if is_leg(channel):
            self.service.on_leg_gone(uid)
            return
        self.features.forget(channel)
        self.service.on_channel_gone(channel, str(ev.get("Cause", "")))

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
        found = self.calls.agent_leg(channel)
        if found is None:
            return
        action = self.features.feed(channel, str(ev.get("Digit", "")), time.monotonic())
        if action is not None:
            self.service.on_feature(found[0], found[1], action)

    def _booted(self, ev: Event) -> None:
        self.service.on_ami_login()
