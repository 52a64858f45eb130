"""一次一评 and multi-question 回访 against real Asterisk."""
from __future__ import annotations

import asyncio

import pytest

from callbacks.ratings import CallRating, satisfaction
from ivr.storage.models import Ticket

pytestmark = pytest.mark.asterisk


def _ratings(session) -> list[dict]:
    return [{"agent": r.agent, "queue": r.queue, "key": r.key, "text": r.text, "day": r.day}
            for r in session.query(CallRating).all()]


async def test_caller_rates_the_service_after_the_agent_hangs_up(cblab):
    center, store = cblab.center_ami, cblab.server.services.store
    member = {"Queue": "hotline-vhold", "Interface": "Local/r1@sim-agents/n", "MemberName": "r1"}
    assert (await center.action({"Action": "QueueAdd", **member}, as_list=False)).success
    try:
        # The agent (a real queue member) hangs up after 3 s; the caller presses 2 at 5 s and stays on.
        await center.originate("s", context="hotline-act-queue", caller_context="hotline-testcall",
                               variables={"HOTLINE_PROMPT": "hotline/callback-thanks", "__HOTLINE_QUEUE": "vhold",
                                          "__HOTLINE_TEST_HOLD": "3", "HOTLINE_TEST_DTMF": "2",
                                          "HOTLINE_TEST_DTMF_AFTER": "5"})
        for _ in range(100):
            rows = await store.run(_ratings)
            if rows:
                break
            await asyncio.sleep(0.2)
        assert rows, "no rating stored within 20 s"
        [row] = rows
        assert row["agent"] == "r1" and row["queue"] == "vhold" and row["key"] == "2" and row["text"] == "基本满意"
        report = await store.run(satisfaction, row["day"], row["day"])
        assert report["by_agent"]["r1"]["rated"] == 1 and report["by_agent"]["r1"]["rate"] == 1.0
    finally:
        await center.action({"Action": "QueueRemove", "Queue": "hotline-vhold", "Interface": member["Interface"]},
                            as_list=False)


def _add_ticket(session, ticket_id: str) -> None:
    session.add(Ticket(id=ticket_id, status="closed", summary="噪音扰民"))


def _ticket_extra(session, ticket_id: str) -> dict:
    return dict(session.get(Ticket, ticket_id).extra or {})


async def test_two_question_survey_stores_each_answer_and_not_solved_flags_redo(cblab):
    store = cblab.server.services.store
    await store.run(_add_ticket, "T20261204-0601")
    task, _ = await cblab.engine.add("survey", "13900000601", ticket="T20261204-0601", campaign="c2q")
    [done] = await cblab.settled([task["id"]])
    assert done["answers"]["satisfaction"]["text"] == "满意" and done["answers"]["solved"]["text"] == "未解决"
    survey = (await store.run(_ticket_extra, "T20261204-0601"))["回访"]
    assert survey["satisfaction"] == "满意" and survey["solved"] == "未解决"
    assert survey["redo"] is True   # 未解决: returned to the department (重办)
