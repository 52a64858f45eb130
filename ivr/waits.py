"""Waiting for an asyncio.Event with a timeout, in loops that must stop when cancelled.

Not `asyncio.wait_for(event.wait(), t)`: on Python 3.11 it can swallow a
cancellation that arrives just as the event is set (CPython gh-86296, fixed in
3.12), and a background loop built on it then never stops: the wallboard's
poll, poked by every queue event, made a server's stop hang that way.
`asyncio.wait` never swallows a cancellation.
"""
from __future__ import annotations

import asyncio


async def wait_event(event: asyncio.Event, timeout: float) -> bool:
    """Wait until `event` is set or `timeout` seconds pass; True if it is set."""
    if event.is_set():
        return True
    waiter = asyncio.ensure_future(event.wait())
    try:
        await asyncio.wait({waiter}, timeout=timeout)
    finally:
        waiter.cancel()
    return event.is_set()
