"""The outbound engine against real Asterisk: a center calling a simulated outside world."""
from __future__ import annotations

import asyncio
import datetime as dt

import aiohttp
import pytest

from callbacks import repo
from ivr.storage.models import Ticket

pytestmark = pytest.mark.asterisk

WOS = {"Authorization": "Bearer tok-workorder-system-0123456789"}


def _add_ticket(session, ticket_id: str) -> None:
    session.add(Ticket(id=ticket_id, status="closed", summary="路灯不亮"))


def _ticket_extra(session, ticket_id: str) -> dict:
    return dict(session.get(Ticket, ticket_id).extra or {})


async def test_survey_answered_with_2_stores_basically_satisfied_on_the_ticket(cblab):
    store = cblab.server.services.store
    await store.run(_add_ticket, "T20261204-0001")
    url = f"http://127.0.0.1:{cblab.server.web_port}/api/callbacks"
    body = {"ticket": "T20261204-0001", "number": "13900000011", "kind": "survey", "campaign": "c2026w49"}
    async with aiohttp.ClientSession(headers=WOS) as http:
        async with http.post(url, json=body) as r:
            assert r.status == 201, await r.text()
            task = await r.json()
        async with http.post(url, json=body) as r:  # the work-order system retries: same task
            assert r.status == 200 and (await r.json())["id"] == task["id"]
    [done] = await cblab.settled([task["id"]])
    assert done["state"] == "done" and done["result"] == "answered"
    assert done["answers"]["satisfaction"]["text"] == "基本满意"
    survey = (await store.run(_ticket_extra, "T20261204-0001"))["回访"]
    assert survey["satisfaction"] == "基本满意" and survey["redo"] is False
    [attempt] = done["attempt_log"]
    assert attempt["cause"] == "answered" and attempt["answered_at"] and attempt["ended_at"]
    [seen] = cblab.outside_calls("13900000011")
    assert seen["Caller"] == "12345"  # the citizen's phone shows 12345
    async with aiohttp.ClientSession(headers=WOS) as http:
        async with http.get(f"{url}/{task['id']}") as r:
            assert (await r.json())["answers"]["satisfaction"]["key"] == "2"
        async with http.get(url, params={"ticket": "T20261204-0001"}) as r:  # the work-order system fetches
            [by_ticket] = (await r.json())["tasks"]
            assert by_ticket["id"] == task["id"] and by_ticket["answers"]["satisfaction"]["text"] == "基本满意"
        async with http.get(url, params={"ticket": "T1;DROP"}) as r:
            assert r.status == 400


async def test_not_satisfied_flags_the_ticket_for_redo(cblab):
    store = cblab.server.services.store
    await store.run(_add_ticket, "T20261204-0002")
    task, _ = await cblab.engine.add("survey", "13900000017", ticket="T20261204-0002")
    [done] = await cblab.settled([task["id"]])
    assert done["answers"]["satisfaction"]["text"] == "不满意"
    assert (await store.run(_ticket_extra, "T20261204-0002"))["回访"]["redo"] is True


async def test_each_cause_is_stored_and_retried_per_policy(cblab):
    expected = {"13900000012": "busy", "13900000013": "no_answer", "13900000014": "rejected",
                "13900000015": "congestion", "13900000016": "unreachable"}
    ids = {n: (await cblab.engine.add("survey", n))[0]["id"] for n in expected}
    tasks = await cblab.settled(list(ids.values()), timeout=90)
    for number, task in zip(ids, tasks):
        causes = [a["cause"] for a in task["attempt_log"]]
        # max_attempts 2: tried twice, same cause both times, then given up with a reason.
        assert causes == [expected[number]] * 2, (number, causes, task["attempt_log"])
        assert task["state"] == "done" and "最多2次" in task["reason"]
        first, second = task["attempt_log"]
        gap = dt.datetime.fromisoformat(second["started_at"]) - dt.datetime.fromisoformat(first["ended_at"])
        assert gap >= dt.timedelta(seconds=1)  # retry_after 1 s for every cause
        assert len(cblab.outside_calls(number)) == 2  # the outside world saw exactly the two attempts


async def test_the_cap_is_never_exceeded(cblab):
    engine = cblab.engine
    numbers = [f"1390000010{i}" for i in range(6)]
    ids = [(await engine.add("survey", n))[0]["id"] for n in numbers]
    most = 0
    for _ in range(300):  # sample the engine's open attempts until every task is done
        most = max(most, len(engine.live))
        if all(t["state"] == "done" for t in [await engine.store.run(repo.get_task, i) for i in ids]):
            break
        await asyncio.sleep(0.05)
    tasks = await cblab.settled(ids)
    assert all(t["result"] == "answered" for t in tasks)
    assert most == engine.policy.cap == 2 and engine.peak <= 2
    assert all(len(cblab.outside_calls(n)) == 1 for n in numbers)


async def test_do_not_call_and_dedupe_are_refused_over_http(cblab):
    url = f"http://127.0.0.1:{cblab.server.web_port}/api/callbacks"
    async with aiohttp.ClientSession(headers=WOS) as http:
        async with http.post(url, json={"number": "13900000011", "kind": "survey"}) as r:  # called today already
            assert r.status == 422 and "dedupe" in (await r.json())["detail"]
        async with http.post(url, json={"number": "139;Hangup", "kind": "survey"}) as r:
            assert r.status == 422 and "号码格式错误" in (await r.json())["detail"]
    async with aiohttp.ClientSession(headers={"Authorization": "Bearer tok-general-agent-g1-0123456789"}) as http:
        async with http.post(url, json={"number": "13900000099"}) as r:
            assert r.status == 403
