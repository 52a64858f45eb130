"""Agent states a browser seat sets itself: 示闲 (ready) and 示忙 (paused, with a reason from config).

Pure: what a request asks for is checked here and turned into the AMI action
Asterisk's queues understand (QueuePause on the agent's interface, every queue
at once, with the reason Asterisk shows in `queue show` and QueueMemberPause
events). Only reasons listed in config reach AMI, so nothing a browser sends
is copied into an AMI command.
"""
from __future__ import annotations

from dataclasses import dataclass

READY, PAUSED = "ready", "paused"
SIGNED_OUT, WRAPUP = "signed_out", "wrapup"  # 签出 (in no queue); 话后处理 (after-call work)
LABELS = {READY: "示闲 Ready", PAUSED: "示忙 Paused", SIGNED_OUT: "签出 Signed out", WRAPUP: "话后处理 Wrap-up"}
WRAPUP_REASON = "话后处理"  # the QueuePause reason while a manual wrap-up lasts


REASON_MAX = 40


def outside_reason(value: object) -> str:
    """A pause reason set outside the page (AMI, CLI): any text; kept printable and short."""
    text = "".join(c for c in str(value) if c.isprintable()).strip()
    return text[:REASON_MAX]


class StateError(ValueError):
    """A request the seat refuses; the message is shown to the agent."""


@dataclass(frozen=True)
class StateChange:
    state: str
    reason: str

    def ami_action(self, agent: str) -> dict[str, str]:
        action = {"Action": "QueuePause", "Interface": f"PJSIP/{agent}",
                  "Paused": "true" if self.state == PAUSED else "false"}
        if self.reason:
            action["Reason"] = self.reason
        return action


def parse_request(body: object, reasons: list[str]) -> StateChange:
    """{"state": "paused", "reason": "小休"} or {"state": "ready"} -> StateChange."""
    if not isinstance(body, dict):
        raise StateError("请求格式错误：需要 JSON 对象 {state, reason}")
    state = body.get("state")
    if state not in (READY, PAUSED):
        raise StateError("状态只能是 ready（示闲）或 paused（示忙）")
    reason = body.get("reason") or ""
    if state == READY:
        return StateChange(READY, "")
    if reason not in reasons:
        raise StateError(f"示忙原因须是配置中的一项：{'、'.join(reasons)}")
    return StateChange(PAUSED, reason)
