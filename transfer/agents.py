"""Agents logging in and out of queues (签入/签出) through AMI QueueAdd / QueueRemove.

An agent is named by its id (`agent1001`); its interface defaults to
`PJSIP/<id>` (the phone generated from config), or is given explicitly
(`Local/<id>@<context>/n` for simulated agents). Queues are config ids
(`general`, `hrss-expert`); Asterisk's queue names carry the `hotline-` prefix.
Members listed in config are static: they are always in their queues.

From the console (transfer.http) an agent may join only the queues config
allows it (`allowed_queues`: `web.agent_queues`, plus the queues that list it
as a member), and a supervisor may name only a known agent endpoint
(`known_interfaces`), never an arbitrary interface such as an outside number.
"""
from __future__ import annotations

import re
from typing import Any

from ivr.ami.agent_id import agent_id
from ivr.config.model import Config
from ivr.dialplan.build import asterisk_queue
from transfer.dialplan import agent_ids

AGENT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$")
INTERFACE_RE = re.compile(r"^(PJSIP|SIP|IAX2|Local)/[A-Za-z0-9_.+@/-]{1,120}$")
QUEUE_PREFIX = "hotline-"


class AgentError(ValueError):
    """A login/logout that cannot be done (unknown queue, bad id, Asterisk said no)."""


def known_agents(config: Config) -> set[str]:
    """Agents config knows: PJSIP queue members, holders of a web token, `web.agent_queues` entries."""
    return (set(agent_ids(config)) | set(config.web.tokens.values())
            | {a for a in config.web.agent_queues if a != "*"})


def known_interfaces(config: Config, agent: str) -> set[str]:
    """Interfaces a supervisor may log `agent` in with: its own phone, or a config member interface of it."""
    out = {f"PJSIP/{agent}"} if agent in known_agents(config) else set()
    return out | {m for q in config.queues for m in q.members if agent_id(m) == agent}


class AgentDesk:
    def __init__(self, config: Config, ami: Any) -> None:
        self.config = config
        self.ami = ami

    def _queues(self, queues: list[str] | None) -> list[str]:
        ids = list(queues) if queues else ["general"]
        for qid in ids:
            if self.config.queue(qid) is None:
                raise AgentError(f"no queue {qid!r} in the configuration")
        if not ids:
            raise AgentError("the configuration has no queues")
        return ids

    @staticmethod
    def interface(agent: str, interface: str | None = None) -> str:
        if not AGENT_RE.match(agent or ""):
            raise AgentError(f"malformed agent id {agent!r}")
        iface = interface or f"PJSIP/{agent}"
        if not INTERFACE_RE.match(iface):
            raise AgentError(f"malformed interface {iface!r}")
        return iface

    async def login(self, agent: str, queues: list[str] | None = None, *, interface: str | None = None,
                    penalty: int = 0, paused: bool = False) -> list[str]:
        """Add the agent to `queues` (default: the general pool); returns the queues joined."""
        iface = self.interface(agent, interface)
        joined = []
        for qid in self._queues(queues):
            resp = await self.ami.action({
                "Action": "QueueAdd", "Queue": asterisk_queue(qid), "Interface": iface, "MemberName": agent,
                "Penalty": str(int(penalty)), "Paused": "true" if paused else "false",
            }, as_list=False)
            if _error(resp) and "Already there" not in str(resp.get("Message", "")):
                raise AgentError(f"{agent} could not join {qid}: {resp.get('Message')}")
            joined.append(qid)
        return joined

    async def logout(self, agent: str, queues: list[str] | None = None, *, interface: str | None = None) -> list[str]:
        """Remove the agent from `queues` (default: every queue it is in); returns the queues left."""
        iface = self.interface(agent, interface)
        if queues:
            targets = self._queues(queues)
        else:
            targets = [q for q, members in (await self.members()).items()
                       if any(m["interface"] == iface or m["agent"] == agent for m in members)]
        left = []
        for qid in targets:
            resp = await self.ami.action({"Action": "QueueRemove", "Queue": asterisk_queue(qid), "Interface": iface},
                                         as_list=False)
            if _error(resp) and "Not there" not in str(resp.get("Message", "")):
                raise AgentError(f"{agent} could not leave {qid}: {resp.get('Message')}")
            left.append(qid)
        return left

    async def pause(self, agent: str, paused: bool, *, interface: str | None = None, reason: str = "") -> None:
        """Pause (示忙) or unpause (示闲) the agent in every queue."""
        resp = await self.ami.action({"Action": "QueuePause", "Interface": self.interface(agent, interface),
                                      "Paused": "true" if paused else "false", "Reason": reason[:80]}, as_list=False)
        if _error(resp):
            raise AgentError(f"{agent}: {resp.get('Message')}")

    async def members(self) -> dict[str, list[dict[str, Any]]]:
        """Config queue id -> its members now (agent, interface, static/dynamic, paused, in call)."""
        listing = await self.ami.action({"Action": "QueueStatus"}, as_list=True)
        out: dict[str, list[dict[str, Any]]] = {q.id: [] for q in self.config.queues}
        for ev in listing if isinstance(listing, list) else []:
            if ev.get("Event") != "QueueMember" or not str(ev.get("Queue", "")).startswith(QUEUE_PREFIX):
                continue
            qid = str(ev["Queue"])[len(QUEUE_PREFIX):]
            iface = str(ev.get("StateInterface") or ev.get("Location") or "")
            out.setdefault(qid, []).append({
                "agent": str(ev.get("Name") or agent_id(iface) or iface), "interface": str(ev.get("Location") or iface),
                "membership": str(ev.get("Membership", "")), "paused": str(ev.get("Paused")) == "1",
                "in_call": str(ev.get("InCall")) == "1", "calls_taken": int(ev.get("CallsTaken") or 0),
            })
        return out


def _error(resp: Any) -> bool:
    return str(resp.get("Response", "")).lower() == "error"
