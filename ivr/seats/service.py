"""The seat's states as a service: 签入/签出, 示闲/示忙, 话后处理, stored and announced.

Asterisk holds what matters for calls (queue membership, pause, wrapuptime);
this service asks it through AMI (QueueAdd / QueueRemove / QueuePause, with
queue ids and reasons taken from config only), stores every change in
`agent_states` with its start (the previous one ends there), and pushes it to
the agent's consoles and the supervisors over the websocket (hub
`agent_state` events). 话后处理 starts on Asterisk's AgentComplete (the page
may be closed): with `webrtc.wrapup_end: manual` the agent is paused with
reason 话后处理 until they click 示闲; with `auto` the state ends by itself
after the queue's `wrapup` seconds, as Asterisk's wrapuptime does.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any

from ivr.ami.agent_id import agent_id
from ivr.config.model import Config
from ivr.dialplan.build import asterisk_queue
from ivr.seats import history, states
from ivr.seats.asterisk import browser_agents
from ivr.seats.queues import seat_queues

log = logging.getLogger(__name__)


class SeatUnavailable(RuntimeError):
    """AMI is down or did not answer: the state is unchanged (503 for the page)."""


class SeatRefused(RuntimeError):
    """Asterisk said no (409 for the page); the message is for the agent."""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _ok(reply: Any, tolerated: str = "") -> bool:
    if str(reply.get("Response", "")).lower() == "success":
        return True
    return bool(tolerated) and tolerated in str(reply.get("Message", ""))


class SeatService:
    def __init__(self, config: Config, services: Any) -> None:
        self.config = config
        self.services = services
        self._timers: set[asyncio.Task] = set()
        self._pending: dict[str, int] = {}  # agent -> our AMI actions in flight (their events are echoes)

    @property
    def ami(self) -> Any:
        ami = self.services.ami
        if ami is None:
            raise SeatUnavailable("电话系统未连接，无法切换状态")
        return ami

    async def _action(self, action: dict[str, str], tolerated: str = "") -> None:
        agent = agent_id(action.get("Interface", "")) or ""
        self._pending[agent] = self._pending.get(agent, 0) + 1
        try:
            reply = await self.ami.action(action)
        except SeatUnavailable:
            raise
        except Exception as exc:  # not connected, timeout
            log.warning("%s for %s failed: %s", action["Action"], action.get("Interface"), type(exc).__name__)
            raise SeatUnavailable("电话系统未响应，状态未改变") from exc
        finally:
            self._pending[agent] -= 1
            if not self._pending[agent]:
                del self._pending[agent]
        if not _ok(reply, tolerated):
            raise SeatRefused(f"电话系统拒绝：{str(reply.get('Message', ''))[:80]}")

    # -- what the agent asks for --------------------------------------------------
    async def sign_in(self, agent: str) -> dict:
        """签入: join every queue the agent serves (QueueAdd, unpaused), then 示闲."""
        queues = seat_queues(self.config, agent)
        if not queues:
            raise SeatRefused("配置中没有该座席可以签入的队列")
        for qid in queues:
            await self._action({"Action": "QueueAdd", "Queue": asterisk_queue(qid), "Interface": f"PJSIP/{agent}",
                                "MemberName": agent, "Paused": "false"}, tolerated="Already there")
        # "Already there" keeps an old pause: 签入 means ready.
        await self._action(states.StateChange(states.READY, "").ami_action(agent))
        return await self.record(agent, states.READY, "", queues=queues)

    async def sign_out(self, agent: str) -> dict:
        """签出: leave every queue the agent may serve (QueueRemove); no call is offered any more."""
        for qid in seat_queues(self.config, agent):
            await self._action({"Action": "QueueRemove", "Queue": asterisk_queue(qid),
                                "Interface": f"PJSIP/{agent}"}, tolerated="Not there")
        return await self.record(agent, states.SIGNED_OUT, "")

    async def set_state(self, agent: str, change: states.StateChange) -> dict:
        """示忙/示闲 (and the end of a manual 话后处理): QueuePause in every queue."""
        current = await self.current(agent)
        if current is not None and current["state"] == states.SIGNED_OUT:
            raise SeatRefused("请先签入 Sign in first")
        await self._action(change.ami_action(agent))
        return await self.record(agent, change.state, change.reason)

    # -- 话后处理 from Asterisk ------------------------------------------------------
    async def on_agent_complete(self, message: Any) -> None:
        """AMI AgentComplete: the agent's queue call ended; 话后处理 starts for the queue's `wrapup`."""
        agent = agent_id(str(message.get("Interface") or message.get("MemberName") or ""))
        queue = next((q for q in self.config.queues if asterisk_queue(q.id) == message.get("Queue")), None)
        if agent is None or queue is None or not queue.wrapup or not self._known(agent):
            return
        current = await self.current(agent)
        if current is not None and current["state"] in (states.PAUSED, states.SIGNED_OUT):
            return  # paused during the call (or gone): that state goes on
        if self.config.webrtc.wrapup_end == "manual":
            try:  # no call offered until the agent clicks 示闲
                await self._action(states.StateChange(states.PAUSED, states.WRAPUP_REASON).ami_action(agent))
            except (SeatUnavailable, SeatRefused) as exc:
                log.warning("manual wrap-up of %s not paused: %s", agent, exc)
            await self.record(agent, states.WRAPUP, "")
            return
        await self.record(agent, states.WRAPUP, "", seconds=queue.wrapup)
        started = await self.current(agent)
        task = asyncio.get_running_loop().create_task(self._end_wrapup(agent, started and started["id"], queue.wrapup))
        self._timers.add(task)
        task.add_done_callback(self._timers.discard)

    # -- 示忙/示闲 set outside the page (AMI QueuePause from the CLI or another tool) --
    async def on_member_pause(self, message: Any) -> None:
        """AMI QueueMemberPause: read a pause (or its end) set by anyone back into agent_states.

        Our own QueuePause actions come back here too (once per queue): a change
        that the stored state already says is dropped, so nothing is stored twice.
        The reason comes from outside: cleaned (states.outside_reason) before it is
        stored or shown."""
        agent = agent_id(str(message.get("Interface") or message.get("MemberName") or ""))
        if agent is None or not self._known(agent) or self._pending.get(agent):
            return  # our own action's echo: its caller stores the change
        paused = str(message.get("Paused", "")).strip() in ("1", "true", "yes")
        reason = states.outside_reason(message.get("PausedReason") or message.get("Reason") or "")
        current = await self.current(agent)
        now = current and (current["state"], current["reason"])
        if paused:
            if now == (states.PAUSED, reason) or now and now[0] == states.WRAPUP and reason == states.WRAPUP_REASON:
                return  # already so (our own 示忙, or the manual 话后处理 pause)
            await self.record(agent, states.PAUSED, reason)
        elif now is None or now[0] in (states.PAUSED, states.WRAPUP):
            await self.record(agent, states.READY, "")

    def _known(self, agent: str) -> bool:
        """An agent config knows (a queue member or a browser seat): only those get a state from AMI."""
        return agent in browser_agents(self.config) or any(
            agent_id(m) == agent for q in self.config.queues for m in q.members)

    async def _end_wrapup(self, agent: str, row_id: int | None, seconds: int) -> None:
        await asyncio.sleep(seconds)
        current = await self.current(agent)  # without a store: nothing stored, only told
        if current is None and row_id is None or current is not None and current["id"] == row_id:
            await self.record(agent, states.READY, "")

    # -- stored and told -----------------------------------------------------------
    async def current(self, agent: str) -> dict | None:
        store = self.services.store
        return None if store is None else await store.run(history.current_state, agent)

    async def record(self, agent: str, state: str, reason: str, *, seconds: int = 0,
                     queues: list[str] | None = None) -> dict:
        """Store the change (the open state ends now), announce it; returns what the page shows."""
        now = _now()
        store = self.services.store
        if store is not None:  # the KPI reports sum these rows
            await store.run(history.change_state, agent, state, reason, now)
        out = {"agent": agent, "state": state, "label": states.LABELS[state], "reason": reason,
               "since": now.isoformat()}
        if seconds:
            out["until"] = (now + dt.timedelta(seconds=seconds)).isoformat()
        if queues is not None:
            out["queues"] = queues
        hub = self.services.hub
        if hub is not None:
            hub.publish_agent_state(agent, out)
        log.info("agent %s: %s %s", agent, state, reason)
        return out

    async def board(self) -> list[dict]:
        """Every browser seat and every agent with a stored state: its current state, reason, since."""
        store = self.services.store
        rows = await store.run(history.open_states) if store is not None else {}
        agents = list(dict.fromkeys([*browser_agents(self.config), *sorted(rows)]))
        out = []
        for agent in agents:
            row = rows.get(agent) or {"state": None, "reason": "", "since": None}
            out.append({"agent": agent, **row, "label": states.LABELS.get(row["state"], "未知 Unknown")})
        return out

    async def close(self) -> None:
        for task in list(self._timers):
            task.cancel()
        await asyncio.gather(*self._timers, return_exceptions=True)
