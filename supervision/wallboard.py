"""The wallboard service: polls Asterisk's queues (~1 s) and today's figures, pushes snapshots to pages.

QueueStatus is asked every `supervision.poll_interval` seconds, and at once when a
caller joins or leaves a queue or an agent pauses (those AMI events poke the
loop), so a waiting caller or a 示忙 reason is on the board within a second.
Today's figures per queue and line are read from the database every few seconds
(they change with each call, not each second), and only while someone watches (a
page open, or a GET in the last minute): reading a busy day's calls costs the
server CPU that Asterisk's calls need, for a board nobody looks at. Each open page
holds a small queue; a page too slow to take a snapshot just misses that one
(the next is complete).
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from typing import Any

from ivr.waits import stop_task, wait_event
from ivr.ami.agent_id import agent_id
from ivr.plugins import PluginServices
from supervision import board, kpi_store

log = logging.getLogger(__name__)

POKE_EVENTS = ("QueueCallerJoin", "QueueCallerLeave", "QueueCallerAbandon", "QueueMemberPause", "QueueMemberStatus",
               "QueueMemberAdded", "QueueMemberRemoved", "AgentConnect", "AgentComplete")
TODAY_EVERY_S = 5.0
WATCHED_S = 60.0  # a GET keeps today's figures fresh this long


def known_agents(config) -> list[str]:
    """Agents the board lists even when logged out: console tokens (not supervisors), browser seats, static members."""
    agents = set(config.web.tokens.values()) - set(config.web.supervisors)
    agents |= set(config.webrtc.agents)
    agents |= {a for q in config.queues for m in q.members if (a := agent_id(str(m)))}
    return sorted(agents)


class Wallboard:
    def __init__(self, services: PluginServices) -> None:
        self.services = services
        self.config = services.config
        self.since = board.Since()
        self.snapshot: dict[str, Any] | None = None
        self._pages: set[asyncio.Queue] = set()
        self._poke = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._today: dict[str, Any] = {}
        self._today_at = 0.0
        self._asked_at = float("-inf")

    def attach(self, ami) -> None:
        for name in POKE_EVENTS:
            ami.on(name, self._on_event)

    def _on_event(self, _event) -> None:
        self._poke.set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="wallboard")

    async def stop(self) -> None:
        task, self._task = self._task, None
        await stop_task(task)

    def subscribe(self) -> asyncio.Queue:
        page: asyncio.Queue = asyncio.Queue(maxsize=2)
        self._pages.add(page)
        self._poke.set()  # a new page gets a complete snapshot (today's figures too) at once
        return page

    def unsubscribe(self, page: asyncio.Queue) -> None:
        self._pages.discard(page)

    async def _run(self) -> None:
        interval = self.config.supervision.poll_interval
        while True:
            try:
                await self.refresh()
            except Exception as exc:  # AMI down, a slow database: the board shows the last snapshot
                log.warning("wallboard refresh failed: %s", type(exc).__name__)
            if await wait_event(self._poke, interval):
                await asyncio.sleep(0.05)  # let a burst of events settle into one poll
            self._poke.clear()

    def watched(self, now: float) -> bool:
        return bool(self._pages) or now - self._asked_at < WATCHED_S

    async def latest(self) -> dict[str, Any]:
        """The snapshot for a GET: keeps the board watched; reads afresh when today's figures are missing."""
        self._asked_at = time.time()
        if self.snapshot is None or (self.services.store is not None and not self._today):
            return await self.refresh()
        return self.snapshot

    async def refresh(self) -> dict[str, Any]:
        now = time.time()
        listing: list = []
        ami = self.services.ami
        if ami is not None and ami.connected:
            reply = await ami.action({"Action": "QueueStatus"}, as_list=True)
            listing = [dict(ev) for ev in reply] if isinstance(reply, list) else []
        if not self.watched(now):
            self._today, self._today_at = {}, float("-inf")  # stale figures are never shown
        elif now - self._today_at >= TODAY_EVERY_S:
            self._today = await self._today_figures()
            self._today_at = now
        queues = {q.id: q.name for q in self.config.queues}
        self.snapshot = board.build(listing, queues, known_agents(self.config), now, self.since, self._today)
        for page in tuple(self._pages):
            if page.full():
                page.get_nowait()  # drop the stale one: the newest snapshot is complete
            page.put_nowait(self.snapshot)
        return self.snapshot

    async def _today_figures(self) -> dict[str, Any]:
        store = self.services.store
        if store is None:
            return {}
        opts = kpi_store.options(self.config)
        today = self.services.clock().astimezone(opts["tz"]).date()  # the server's clock (tests pin it)
        reports = await store.run(kpi_store.load_groupings, today, today, ("queue", "line"), **opts)
        return {"total": reports["queue"]["total"], "queue": reports["queue"]["groups"],
                "line": reports["line"]["groups"]}
