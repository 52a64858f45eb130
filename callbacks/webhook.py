"""Results pushed to the work-order system: one POST per finished task with a ticket.

Durable: the task's `notified_at` is set only once the webhook answered 2xx,
so results not yet accepted (webhook down, server restarted) are sent again
on a later turn; the wait between failed turns doubles up to 5 minutes. The
body is the task as `GET /api/callbacks/{id}` shows it (ticket, state,
result, answers, reason); the receiver must treat a repeat as the same result.
"""
from __future__ import annotations

import asyncio
import logging
import time

import aiohttp

from callbacks import repo

log = logging.getLogger(__name__)
MAX_BACKOFF_S = 300.0


class ResultPusher:
    def __init__(self, url: str, token: str, store, clock) -> None:
        self.url, self.store, self.clock = url, store, clock
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.backoff = 0.0
        self.next_at = 0.0
        self.sent = 0

    async def push(self) -> int:
        """Send what is waiting (bounded batch); returns how many were accepted."""
        if time.monotonic() < self.next_at:
            return 0
        tasks = await self.store.run(repo.unnotified)
        if not tasks:
            return 0
        accepted: list[int] = []
        try:
            async with aiohttp.ClientSession(headers=self.headers, timeout=aiohttp.ClientTimeout(total=10)) as http:
                for task in tasks:
                    async with http.post(self.url, json=task) as r:
                        if not 200 <= r.status < 300:
                            raise aiohttp.ClientResponseError(r.request_info, (), status=r.status)
                    accepted.append(task["id"])
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            self.backoff = min(MAX_BACKOFF_S, max(1.0, self.backoff * 2))
            self.next_at = time.monotonic() + self.backoff
            log.warning("callbacks: webhook refused or unreachable (%s); retry in %.0f s", type(exc).__name__,
                        self.backoff)
        else:
            self.backoff = 0.0
        if accepted:
            await self.store.run(repo.mark_notified, accepted, self.clock())
            self.sent += len(accepted)
        return len(accepted)
