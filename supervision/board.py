"""What the wallboard shows, built from one QueueStatus listing (pure: no I/O).

Agents are merged across the queues they sit in; an agent's state is the busiest
of its memberships: talking > ringing > after-call work (wrapup) > paused > free.
Agents known to config (tokens, browser seats, static members) that sit in no
queue are "logged_out". `Since` remembers when each agent entered its state, so a
duration survives between polls (Asterisk gives it only for pauses: LastPause).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ivr.ami.agent_id import agent_id
from ivr.dialplan.build import asterisk_queue

FREE, RINGING, TALKING, WRAPUP, PAUSED, LOGGED_OUT = "free", "ringing", "talking", "wrapup", "paused", "logged_out"
LABELS = {FREE: "空闲", RINGING: "振铃", TALKING: "通话中", WRAPUP: "话后处理", PAUSED: "示忙", LOGGED_OUT: "未签入"}
_RANK = {TALKING: 5, RINGING: 4, WRAPUP: 3, PAUSED: 2, FREE: 1, LOGGED_OUT: 0}
# Asterisk device states of a queue member (QueueMember Status)
_BUSY = {"2", "3", "7", "8"}   # in use, busy, ring+in use, on hold
_RINGING = {"6"}
_GONE = {"4", "5"}             # invalid, unavailable: the phone is not registered


def member_state(ev: Mapping[str, Any], now: float) -> tuple[str, str]:
    """(state, pause reason) of one QueueMember entry at epoch `now`."""
    status = str(ev.get("Status", ""))
    if str(ev.get("InCall")) == "1" or status in _BUSY:
        return TALKING, ""
    if status in _RINGING:
        return RINGING, ""
    if status in _GONE:
        return LOGGED_OUT, ""
    wrapup, last = _num(ev.get("Wrapuptime")), _num(ev.get("LastCall"))
    if wrapup and last and now < last + wrapup:
        return WRAPUP, ""
    if str(ev.get("Paused")) == "1":
        return PAUSED, str(ev.get("PausedReason") or "")
    return FREE, ""


def _num(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


class Since:
    """agent -> (state, reason, since epoch): when each agent entered the state it is in."""

    def __init__(self) -> None:
        self._seen: dict[str, tuple[str, str, float]] = {}

    def update(self, agent: str, state: str, reason: str, now: float, hint: float | None = None) -> float:
        old = self._seen.get(agent)
        if old is not None and old[:2] == (state, reason):
            return old[2]
        since = hint if hint and hint <= now else now
        self._seen[agent] = (state, reason, since)
        return since

    def forget_except(self, agents: Iterable[str]) -> None:
        keep = set(agents)
        for agent in [a for a in self._seen if a not in keep]:
            del self._seen[agent]


def build(listing: Iterable[Mapping[str, Any]], queues: Mapping[str, str], known_agents: Iterable[str], now: float,
          since: Since, today: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The wallboard snapshot: per queue waiting callers and longest wait, agents by state, today's figures.

    `queues`: config queue id -> name; `today`: kpi reports {"queue": ..., "line": ..., "total": ...}.
    """
    by_name = {asterisk_queue(qid): qid for qid in queues}
    waiting: dict[str, list[float]] = {qid: [] for qid in queues}
    agents: dict[str, dict[str, Any]] = {}
    for ev in listing:
        qid = by_name.get(str(ev.get("Queue", "")))
        if qid is None:
            continue
        kind = ev.get("Event")
        if kind == "QueueEntry":
            waiting[qid].append(_num(ev.get("Wait")))
        elif kind == "QueueMember":
            agent = str(ev.get("Name") or "") if _plain(ev.get("Name")) else ""
            agent = agent or agent_id(str(ev.get("StateInterface") or ev.get("Location") or "")) or ""
            if not agent:
                continue
            state, reason = member_state(ev, now)
            entry = agents.setdefault(agent, {"agent": agent, "state": LOGGED_OUT, "reason": "", "queues": [],
                                              "pause_hint": None})
            entry["queues"].append(qid)
            if _RANK[state] > _RANK[entry["state"]]:
                entry.update(state=state, reason=reason)
            if state == PAUSED and _num(ev.get("LastPause")):
                entry["pause_hint"] = _num(ev.get("LastPause"))
    for agent in known_agents:
        agents.setdefault(agent, {"agent": agent, "state": LOGGED_OUT, "reason": "", "queues": [], "pause_hint": None})
    rows = []
    for agent in sorted(agents):
        e = agents[agent]
        hint = e.pop("pause_hint")
        hint = hint if e["state"] == PAUSED else None
        started = since.update(agent, e["state"], e["reason"], now, hint)
        rows.append({**e, "label": LABELS[e["state"]], "seconds": round(now - started)})
    since.forget_except(agents)
    counts = {s: sum(1 for r in rows if r["state"] == s) for s in LABELS}
    today = today or {}
    return {
        "at": now,
        "queues": [{"id": qid, "name": name, "waiting": len(waiting[qid]),
                    "longest_wait_s": round(max(waiting[qid])) if waiting[qid] else 0,
                    "today": (today.get("queue") or {}).get(qid)} for qid, name in queues.items()],
        "agents": rows, "agent_counts": counts,
        "waiting": sum(len(w) for w in waiting.values()),
        "today": {"total": today.get("total"), "lines": today.get("line") or {}},
    }


def _plain(name: Any) -> bool:
    """A member name that is an agent id as it stands (not a channel-ish interface)."""
    return isinstance(name, str) and bool(name) and "/" not in name and len(name) <= 40
