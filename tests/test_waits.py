"""ivr/waits.py: a background loop stops even when Python 3.11 swallows one cancellation."""
from __future__ import annotations

import asyncio
import sys

import pytest

from ivr.agi.server import _Started
from ivr.waits import stop_task, wait_event, within


async def _poll_loop(fut_box: list, rounds: list) -> None:
    """The shape of the wallboard's loop: await a reply that arrives every round."""
    while True:
        fut = asyncio.get_running_loop().create_future()
        fut_box.append(fut)
        try:
            await asyncio.wait_for(fut, 5)
        except Exception:
            pass
        rounds.append(1)
        await asyncio.sleep(0)


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="gh-86296 is fixed in 3.12")
async def test_wait_for_swallows_a_cancel_that_races_its_result():
    """The race itself (why the product never uses asyncio.wait_for): cancel and result in one tick."""
    box: list = []
    rounds: list = []
    task = asyncio.create_task(_poll_loop(box, rounds))
    await asyncio.sleep(0.01)
    box[-1].set_result("reply")
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=0.5)
    assert not done, "the loop went on: the cancellation was swallowed"
    assert rounds
    assert await stop_task(task, grace=2.0)  # cancelling again ends it
    assert task.cancelled()


async def test_stop_task_ends_a_loop_that_swallows_the_first_cancel():
    swallowed = []

    async def stubborn() -> None:
        while True:
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                if not swallowed:
                    swallowed.append(1)
                    continue
                raise

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    assert await stop_task(task, grace=2.0)
    assert swallowed == [1] and task.cancelled()


async def test_stop_task_gives_up_after_its_grace_instead_of_hanging(caplog):
    release = asyncio.Event()

    async def immortal() -> None:
        while not release.is_set():
            try:
                await release.wait()
            except asyncio.CancelledError:
                continue

    task = asyncio.create_task(immortal(), name="immortal")
    await asyncio.sleep(0)
    assert not await stop_task(task, grace=0.5)
    assert "immortal did not stop" in caplog.text
    release.set()  # the test ends what it started
    await task


async def test_within_times_out_and_passes_results_and_cancels_through():
    assert await within(asyncio.sleep(0, "ok"), 1) == "ok"
    with pytest.raises(TimeoutError):
        await within(asyncio.sleep(5), 0.05)

    fut = asyncio.get_running_loop().create_future()
    waiter = asyncio.create_task(within(fut, 5))
    await asyncio.sleep(0.01)
    fut.set_result("reply")
    waiter.cancel()  # the same race that wait_for loses
    with pytest.raises(asyncio.CancelledError):
        await waiter


async def test_wait_event_says_whether_the_event_came():
    ev = asyncio.Event()
    assert not await wait_event(ev, 0.05)
    asyncio.get_running_loop().call_later(0.01, ev.set)
    assert await wait_event(ev, 2)


async def test_within_works_before_a_task_exists():
    """A FastAGI route's first step runs in a loop callback, with no current task
    (ivr/agi/server.py `_start_eagerly`); `within` must work there too."""
    async def first_step() -> str:
        return await within(asyncio.sleep(0.01, "answered"), 1)

    loop = asyncio.get_running_loop()
    coro = first_step()
    first: asyncio.Future = loop.create_future()

    def step() -> None:  # as _start_eagerly runs it: from a callback
        assert asyncio.current_task() is None
        try:
            first.set_result(coro.send(None))
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            first.set_exception(exc)

    loop.call_soon(step)
    waiting = await first
    assert await loop.create_task(_Started(coro, waiting)) == "answered"  # a task takes on, as in the server


def test_the_product_never_uses_asyncio_wait_for():
    """The race above hides in any `asyncio.wait_for` on 3.11: the product uses `within` instead."""
    from tests.conftest import REPO

    packages = ["ivr", "agi_scripts", "callbacks", "recordings", "supervision", "transfer"]
    users = [str(p.relative_to(REPO)) for pkg in packages for p in (REPO / pkg).rglob("*.py")
             if "asyncio.wait_for(" in p.read_text(encoding="utf-8") and p.name != "waits.py"]
    assert users == [], f"use ivr.waits.within instead of asyncio.wait_for in {users}"
