"""Listen, whisper and barge (监听/密语/强插): what may be spied on, and how (pure: no I/O).

The server never hands a browser's string to Asterisk. The agent id must be an
agent known to config; the channel spied on is found among Asterisk's own
channels (CoreShowChannels) and must match CHANNEL_RE exactly; the mode picks
one of three fixed extensions of the `hotline-supervise` context
(supervision/dialplan.py), whose ChanSpy options are written in the dialplan:
    listen   q     the supervisor hears both sides, nobody hears them
    whisper  qw    only the agent hears the supervisor
    barge    qB    caller and agent both hear the supervisor
The supervisor's phone is rung first (Originate to their own endpoint); once
they answer, ChanSpy runs on the agent's leg of the call. On the phone, keys
4/5/6 switch between listen/whisper/barge (ChanSpy's d option).
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ivr.ami.agent_id import agent_id

CONTEXT = "hotline-supervise"
MODES = {"listen": "q", "whisper": "qw", "barge": "qB"}
LABELS = {"listen": "监听", "whisper": "密语", "barge": "强插"}
AGENT_RE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
# An agent's leg as Asterisk names it: PJSIP/<agent>-<8 hex>, or the queue side (;1) of a Local member.
CHANNEL_RE = re.compile(r"^(PJSIP/[A-Za-z0-9_-]{1,40}-[0-9a-f]{8}|Local/[A-Za-z0-9_-]{1,40}@[A-Za-z0-9_-]{1,40}-[0-9a-f]{8};1)$")


class SpyError(ValueError):
    """A request refused; `status` is the HTTP status, the message is shown to the supervisor."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class SpyRequest:
    agent: str
    mode: str


def parse(body: object, known_agents: Iterable[str]) -> SpyRequest:
    """{"agent": "1001", "mode": "whisper"} -> SpyRequest, the agent checked against config."""
    if not isinstance(body, dict):
        raise SpyError(400, "请求格式错误：需要 JSON 对象 {agent, mode}")
    mode, agent = body.get("mode", "listen"), body.get("agent")
    if mode not in MODES:
        raise SpyError(400, f"mode 只能是 {'、'.join(MODES)}")
    if not isinstance(agent, str) or not AGENT_RE.match(agent) or agent not in set(known_agents):
        raise SpyError(404, "没有这个座席 (unknown agent)")
    return SpyRequest(agent, mode)


def agent_leg(agent: str, channels: Iterable[Mapping[str, Any]]) -> str:
    """The agent's channel in a call now (bridged), from CoreShowChannel events; SpyError 409 if none."""
    for ch in channels:
        name = str(ch.get("Channel") or "")
        if not CHANNEL_RE.match(name) or agent_id(name) != agent:
            continue
        if str(ch.get("BridgeId") or "").strip():
            return name
    raise SpyError(409, f"座席 {agent} 当前没有通话 (the agent is not on a call)")


def endpoint(supervisor: str, endpoints: Mapping[str, str]) -> str:
    """The channel to ring for `supervisor`: config's endpoint, else their own PJSIP endpoint."""
    if supervisor in endpoints:
        return endpoints[supervisor]
    if not AGENT_RE.match(supervisor):
        raise SpyError(409, "督查员没有可用的话机 (no phone for this supervisor)")
    return f"PJSIP/{supervisor}"


def originate(supervisor_endpoint: str, spied: str, mode: str, ring_timeout: int) -> dict[str, Any]:
    """Keyword arguments for AmiClient.originate."""
    if mode not in MODES or not CHANNEL_RE.match(spied):
        raise ValueError("refusing to originate a spy on an unchecked channel or mode")
    return {"channel": supervisor_endpoint, "context": CONTEXT, "exten": mode, "priority": 1,
            "variables": {"HOTLINE_SPY_CHANNEL": spied}, "timeout_ms": ring_timeout * 1000,
            "caller_id": f"督查 {LABELS[mode]} <{mode}>"}
