"""Waiting with a timeout, and stopping background tasks, in ways that survive Python 3.11's cancellation races.

Not `asyncio.wait_for(x, t)` anywhere in the product: on Python 3.11 it returns
x's result and swallows a cancellation that arrives just as x completes (CPython
gh-86296, fixed in 3.12). A background loop that hits that race never stops:
the wallboard polls QueueStatus every second, so a server's stop could hang
there (CI, stop 19). Use `within(x, t)` and `wait_event` below, and stop a
background task with `stop_task`, which cancels again if one cancellation
was swallowed anyway (by a library's own wait_for) and gives up, loudly, after a
bound instead of hanging the stop.
"""
from __future__ import annotations

import asyncio
import logging

log = logging.getLogger(__name__)

STOP_GRACE_S = 5.0


async def wait_event(event: asyncio.Event, timeout: float) -> bool:
    """Wait until `event` is set or `timeout` seconds pass; True if it is set."""
    try:
        await within(event.wait(), timeout)
    except TimeoutError:
        pass
    return event.is_set()


async def stop_task(task: asyncio.Task | None, grace: float = STOP_GRACE_S) -> bool:
    """Cancel `task` and wait until it has ended; True if it did within `grace` seconds.

    Cancels again every 0.2 s while the task still runs: one swallowed cancellation
    must not keep a service (and the server's stop) waiting forever.
    """
    if task is None:
        return True
    loop = asyncio.get_running_loop()
    deadline = loop.time() + grace
    while not task.done():
        left = deadline - loop.time()
        if left <= 0:
            log.error("task %s did not stop within %.0f s; left running", task.get_name(), grace)
            return False
        task.cancel()
        await asyncio.wait({task}, timeout=min(0.2, left))
    if not task.cancelled() and task.exception() is not None:
        log.warning("task %s ended with %s", task.get_name(), type(task.exception()).__name__)
    return True


async def stop_tasks(tasks, grace: float = STOP_GRACE_S) -> None:
    """`stop_task` for several tasks at once (one shared grace)."""
    await asyncio.gather(*(stop_task(t, grace) for t in tasks if t is not None))


async def within(aw, timeout: float | None):
    """`await aw`, raising TimeoutError after `timeout` seconds: `asyncio.wait_for` without the swallowed cancel.

    Not `asyncio.timeout()`: that needs a current task, and a FastAGI route's
    first step runs before it has one (ivr/agi/server.py starts routes eagerly).
    """
    if timeout is None:
        return await aw
    fut = asyncio.ensure_future(aw)
    try:
        done, _ = await asyncio.wait({fut}, timeout=timeout)
    except asyncio.CancelledError:
        fut.cancel()
        raise
    if not done:
        fut.cancel()
        await asyncio.wait({fut}, timeout=1.0)  # let it unwind, as wait_for does, but never hang on it
        raise TimeoutError
    return fut.result()
