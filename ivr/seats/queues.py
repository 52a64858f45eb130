"""Which queues an agent may serve (签入), from config alone.

Pure and shared: the seat's 签入/签出 (ivr/seats/service.py) and the transfer
plugin's /api/agents/login (transfer/agents.py) ask the same question and must
get the same answer. A queue id reaches AMI only after it is found here, in
config, never as the browser sent it.
"""
from __future__ import annotations

from ivr.ami.agent_id import agent_id
from ivr.config.model import Config


def allowed_queues(config: Config, agent: str) -> set[str]:
    """Queue ids `agent` may join from the console ("*" in a list: every queue)."""
    rules = config.web.agent_queues
    ids = set(rules.get("*", [])) | set(rules.get(agent, []))
    ids |= {q.id for q in config.queues if any(agent_id(m) == agent for m in q.members)}
    return {q.id for q in config.queues} if "*" in ids else ids


def seat_queues(config: Config, agent: str) -> list[str]:
    """The queues a browser seat's 签入 joins, in config order: its `webrtc.seats.<agent>.queues`
    (or every allowed queue), never one it may not serve."""
    allowed = allowed_queues(config, agent)
    options = config.webrtc.seats.get(agent)
    wanted = set(options.queues) if options is not None and options.queues is not None else allowed
    return [q.id for q in config.queues if q.id in allowed and q.id in wanted]
