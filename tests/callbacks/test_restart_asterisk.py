"""A server restart in the middle of a campaign loses and doubles nothing."""
from __future__ import annotations

import asyncio

import pytest

from callbacks import repo

pytestmark = pytest.mark.asterisk


async def test_restart_mid_campaign_loses_and_doubles_nothing(cblab):
    numbers = [f"1390000020{i}" for i in range(3)]  # answer, press 1 after 8 s
    ids = [(await cblab.engine.add("survey", n))[0]["id"] for n in numbers]
    for _ in range(100):  # the cap (2) lets two calls out; the third waits
        if len(cblab.outside_calls()) and sum(len(cblab.outside_calls(n)) for n in numbers) >= 2:
            break
        await asyncio.sleep(0.1)
    states = sorted(t["state"] for t in [await cblab.engine.store.run(repo.get_task, i) for i in ids])
    assert states == ["dialing", "dialing", "pending"]
    await cblab.stop_server()            # both calls stay up on Asterisk, in the survey
    await cblab.start_server()           # a new process would see exactly this database
    tasks = await cblab.settled(ids, timeout=60)
    for number, task in zip(numbers, tasks):
        assert task["state"] == "done" and task["result"] == "answered", task
        assert task["attempts"] == 1 and len(task["attempt_log"]) == 1, task
        assert task["answers"]["satisfaction"]["text"] == "满意", task  # pressed after the restart
        assert len(cblab.outside_calls(number)) == 1  # nobody was called twice
