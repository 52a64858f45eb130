"""Every transfer attempt and its result: a row in `transfers` and a word on the agent's screen.

Storage writes go through `Store` (never on the event loop); the row is
created when the attempt starts and updated at each step, so an attempt cut
short by a crash still shows as `started`/`ringing`. Screen messages go
through the web hub as `transfer` events (each step) and `notice` events
(anything the agent must act on: a failure, a cancel).
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ivr.calls import events
from ivr.storage import repo

log = logging.getLogger(__name__)

FINAL = frozenset({"completed", "failed", "cancelled"})
# repo.Transfer.kind is the mechanics; the target's kind goes into detail.
DB_KIND = {"threeway": "three_way", "blind": "blind", "attended": "attended"}
REASONS = {
    "BUSY": "忙线", "NOANSWER": "无人接听", "CHANUNAVAIL": "线路不通", "CONGESTION": "线路拥塞",
    "TIMEOUT": "无人接听", "JOINEMPTY": "无人值守", "LEAVEEMPTY": "无人值守", "JOINUNAVAIL": "无人值守",
    "LEAVEUNAVAIL": "无人值守", "FULL": "队列已满", "CANCEL": "已取消", "leg_lost": "转接通道中断",
    "originate": "转接未能发起", "far_hangup": "对方已挂机", "caller_hangup": "来电人已挂机",
}


@dataclass
class Step:
    """What the agent is told about one step of a transfer."""

    status: str                  # ringing | answered | completed | failed | cancelled
    message: str
    notice: bool = False         # also a `notice` (needs the agent's attention)
    detail: dict[str, Any] = field(default_factory=dict)


def reason_text(code: str) -> str:
    return REASONS.get(code, code or "失败")


class Reporter:
    def __init__(self, store: Any = None, hub: Any = None, is_live: Callable[[str], bool] = lambda _c: True) -> None:
        self.store = store
        self.hub = hub
        self.is_live = is_live

    def start(self, xfer: Any) -> None:
        """Create the row in the background; later updates wait for its id."""
        if self.store is None:
            return
        xfer.record = asyncio.ensure_future(self.store.run(
            repo.record_transfer, xfer.call_id, DB_KIND[xfer.mode], from_agent=xfer.by, target=xfer.target.ref,
            result="started", source="service",
            detail={"id": xfer.id, "kind": xfer.target.kind, "mode": xfer.mode, "label": xfer.target.label,
                    "agent": xfer.agent, **xfer.extra}))

    async def step(self, xfer: Any, step: Step, *, ended: bool = False) -> None:
        row = await self._row(xfer)
        if not ended and xfer.state in FINAL:
            return  # overtaken (a busy sub-center answers faster than the database): keep the end
        if row is not None:
            self.store.submit(repo.update_transfer, row, step.status, detail=step.detail or None, ended=ended)
        await self._tell(xfer, step)

    async def _row(self, xfer: Any) -> int | None:
        if self.store is None or xfer.record is None:
            return None
        try:
            return await xfer.record
        except Exception:
            log.exception("transfer %s of call %s could not be recorded", xfer.id, xfer.call_id)
            return None

    async def _tell(self, xfer: Any, step: Step) -> None:
        if self.hub is None or not self.is_live(xfer.call_id):
            return  # the caller is gone: nothing to show, and no stale call on the hub
        info = {"id": xfer.id, "kind": xfer.target.kind, "target": xfer.target.target, "label": xfer.target.label,
                "mode": xfer.mode, "status": step.status, "message": step.message, **step.detail}
        agent = xfer.agent or xfer.by
        try:
            await self.hub.publish(agent, events.TRANSFER, events.transfer_step(xfer.call_id, info))
            if step.notice:
                level = "warning" if step.status == "failed" else "info"
                await self.hub.publish(agent, events.NOTICE, events.notice(xfer.call_id, level, step.message,
                                                                            transfer=info))
        except Exception:  # the screen is told on a best-effort basis; the call goes on
            log.exception("could not tell agent about transfer %s", xfer.id)
