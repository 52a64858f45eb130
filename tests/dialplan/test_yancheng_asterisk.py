"""Yancheng's merge list, imported (tests/data/yancheng.yaml), runs with no code
change: its generated dialplan, queues and prompts in an Asterisk of its own,
real calls to representative numbers inside and after the transition end
where the plan says, and the caller hears the right prompt."""
from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest

from ivr.config.loader import load_config
from ivr.plan.decide import Plan
from ivr.prompts.build import build
from ivr.prompts.manifest import prompts_for
from tests.support.private_center import private_center
from tests.support.routing_calls import check, collect, place

pytestmark = pytest.mark.asterisk

YANCHENG = Path(__file__).parents[1] / "data" / "yancheng.yaml"
SH = dt.timezone(dt.timedelta(hours=8))
# Every line: effective 2021-11-20, last transition day 2021-12-19.
MOMENTS = {
    "during": dt.datetime(2021, 12, 1, 10, 0, tzinfo=SH),
    "after": dt.datetime(2022, 1, 10, 10, 0, tzinfo=SH),
}
NUMBERS = [
    "12345",       # 12345 itself: welcome, then the pool
    "12366",       # 设分中心: forwarded to the tax sub-center's trunk
    "81610000",    # local 8-digit number: prompt during, its department after
    "12333",       # 设置专家座席: prompt, its expert queue, overflow to general (no expert there)
    "96510",       # 5-digit full merge: prompt during, not in service after
    "883486661",   # 88348666-1 dialed without the dash
    "110",         # emergency: straight out, never intercepted
    "99999",       # unknown: the general queue
]
EXPECTED = {
    "during": {"12345": "queue", "12366": "forward", "81610000": "prompt_then_forward",
               "12333": "prompt_then_forward", "96510": "prompt_then_forward",
               "883486661": "prompt_then_forward", "110": "passthrough", "99999": "queue"},
    "after": {"12345": "queue", "12366": "forward", "81610000": "department", "12333": "not_in_service",
              "96510": "not_in_service", "883486661": "department", "110": "passthrough", "99999": "queue"},
}
# Seconds the caller stays on: the merged prompt (~12 s) then the queue, or the
# not-in-service prompt played twice (~16 s) and the hang-up.
HOLD = {"during": 15, "after": 18}


@pytest.fixture(scope="module")
def yancheng_prompts(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("yancheng-prompts")
    # no operator recordings for Yancheng: every prompt is a placeholder from its text
    build(prompts_for(load_config(YANCHENG), out / "no-manifest.yaml"), out)
    return out


@pytest.fixture(scope="module")
async def yancheng(yancheng_prompts, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("yancheng")
    async with private_center("yancheng", YANCHENG, tmp, at=MOMENTS["during"], prompts=yancheng_prompts) as pc:
        yield pc


def plan_ended_call(call, context: str) -> bool:
    return any(e.get("Event") == "Newexten" and e.get("Context") == context and e.get("Application") == "Hangup"
               for e in call.events)


@pytest.mark.parametrize("moment", list(MOMENTS))
async def test_yancheng_numbers_end_where_the_plan_says(moment, yancheng):
    pc = yancheng
    await pc.move_clock(MOMENTS[moment])  # the worker's clock too: the path production runs
    plan = Plan(pc.config)
    since = len(pc.ami.events)
    calls = await asyncio.gather(*(place(pc.ami, n, hold=HOLD[moment]) for n in NUMBERS))
    await collect(pc.ami, calls, settle=HOLD[moment] + 1, since=since)
    pc.inst.rx("channel request hangup all")
    by_number = {c.number: c for c in calls}

    failures = {}
    for call in calls:
        decision = plan.decide(call.number, MOMENTS[moment])
        problems = check(call, decision, pc.inst)
        if problems:
            failures[f"{call.number} ({decision.mode}/{decision.phase} -> {decision.action})"] = problems
    assert not failures, failures

    # what the plan module says, checked against the plan written out by hand
    assert {n: plan.decide(n, MOMENTS[moment]).action for n in NUMBERS} == EXPECTED[moment]
    if moment == "during":
        expert = by_number["12333"]
        # the expert queue exists (generated from Yancheng's list) and is empty: it overflowed to the pool
        assert expert.apps("Queue")[0].startswith("hotline-line-12333-expert,")
        assert expert.variables().get("HOTLINE_OVERFLOWED") == "line-12333-expert"
        assert "JOINEMPTY" in [e.get("Value") for e in expert.events
                               if e.get("Event") == "VarSet" and e.get("Variable") == "QUEUESTATUS"]
    else:
        assert "81610000" in [e.get("Number") for e in by_number["81610000"].user_events("SimOutside")]
        for number in ("96510", "12333"):  # the plan ended these calls, not the caller hanging up
            assert plan_ended_call(by_number[number], "hotline-act-not_in_service"), number
    dash = by_number["883486661"].variables()
    assert dash.get("HOTLINE_LINE") == "line-88348666-1" and dash.get("HOTLINE_DIALED") == "883486661"
    assert by_number["12366"].apps("Dial")[0].startswith("PJSIP/12366@subcenter")
    assert by_number["12366"].variables().get("HOTLINE_DEPARTMENT") == "市税务局"
