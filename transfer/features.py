"""DTMF feature codes an agent presses on the phone during a call.

Read from AMI `DTMFEnd` events on the agent's channel (no features.conf
applicationmap needed, so the codes work on any phone that sends RFC 4733
digits). The digits still reach the caller as short beeps.

    *7<n>    three-way transfer (三方转接) to sub-center n (1 = first in config)
    *8<n>    blind transfer to sub-center n
    *9<n>    attended transfer to sub-center n
    *6<nnn>  three-way hand-over to an emergency line (*6119)
    *0       cancel the transfer in progress (the caller stays with the agent)
"""
from __future__ import annotations

from dataclasses import dataclass

from ivr.config.model import Config

DIGIT_GAP_S = 3.0  # a code's digits must follow each other within this time
_SUBCENTER_MODES = {"7": "threeway", "8": "blind", "9": "attended"}


@dataclass(frozen=True)
class FeatureAction:
    action: str            # "transfer" | "cancel"
    kind: str = ""
    target: str = ""
    mode: str = ""


class FeatureCodes:
    """Per-channel digit buffers turning key presses into feature actions."""

    def __init__(self, config: Config, max_channels: int = 10000) -> None:
        self.sub_centers = [sc.id for sc in config.sub_centers]
        self.emergency = set(config.emergency.numbers)
        self.max_channels = max_channels
        self._buffers: dict[str, tuple[str, float]] = {}

    def feed(self, channel: str, digit: str, now: float) -> FeatureAction | None:
        """One digit pressed on `channel` at `now` (monotonic seconds)."""
        buf, last = self._buffers.get(channel, ("", now))
        if buf and now - last > DIGIT_GAP_S:
            buf = ""
        # "*" always starts a new code; other digits only continue one.
        buf = "*" if digit == "*" else (buf + digit if buf else "")
        action, complete = self._match(buf)
        if complete or not buf:
            self._buffers.pop(channel, None)
        else:
            if len(self._buffers) >= self.max_channels:
                self._buffers.clear()  # a flood of stray digits must not grow memory
            self._buffers[channel] = (buf, now)
        return action

    def forget(self, channel: str) -> None:
        self._buffers.pop(channel, None)

    def _match(self, buf: str) -> tuple[FeatureAction | None, bool]:
        """(action, finished): finished means the buffer is done, with or without an action."""
        if len(buf) < 2:
            return None, False
        key, rest = buf[1], buf[2:]
        if key == "0":
            return FeatureAction("cancel"), True
        if key in _SUBCENTER_MODES:
            if not rest:
                return None, False
            index = int(rest) - 1 if rest.isdigit() else -1
            if 0 <= index < len(self.sub_centers):
                return FeatureAction("transfer", "subcenter", self.sub_centers[index], _SUBCENTER_MODES[key]), True
            return None, True
        if key == "6":
            if len(rest) < 3:
                return None, False
            if rest in self.emergency:
                return FeatureAction("transfer", "emergency", rest, "threeway"), True
            return None, True
        return None, True
