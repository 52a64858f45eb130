"""Every number of the shipped plan, before / inside / after its transition,
called through the real Asterisk: the call ends where the plan says, with the
line's variables on the channel, and the caller hears the right prompt."""
from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from ivr.plan.decide import Plan
from tests.support.routing_calls import check, collect, place

pytestmark = pytest.mark.asterisk

SH = dt.timezone(dt.timedelta(hours=8))
MOMENTS = {
    "before": dt.datetime(2026, 10, 20, 10, 0, tzinfo=SH),      # no line live yet
    "during": dt.datetime(2026, 12, 20, 10, 0, tzinfo=SH),      # full merge in transition, others active
    "after": dt.datetime(2027, 1, 10, 10, 0, tzinfo=SH),        # transitions over
}


def plan_numbers(config) -> list[str]:
    numbers = [config.hotline.number, "110"]
    for line in config.lines:
        numbers += line.numbers + line.aliases
    return numbers


@pytest.mark.parametrize("moment", list(MOMENTS))
async def test_every_number_ends_where_the_plan_says(moment, hotline_server, center, center_ami, shipped_config):
    await hotline_server(at=MOMENTS[moment])  # FastAGI in its worker process, as in production
    plan = Plan(shipped_config)
    since = len(center_ami.events)
    calls = await asyncio.gather(*(place(center_ami, n, hold=20) for n in plan_numbers(shipped_config)))
    await collect(center_ami, calls, settle=23, since=since)
    center.rx("channel request hangup all")
    failures = {}
    for call in calls:
        decision = plan.decide(call.number, MOMENTS[moment])
        problems = check(call, decision, center)
        if problems:
            failures[f"{call.number} ({decision.mode}/{decision.phase} -> {decision.action})"] = problems
    assert not failures, failures


async def test_12328_on_1_december_reaches_12345_tagged_with_transport(hotline_server, center, center_ami):
    """Written out by hand, not from the plan module: 双号并行 12328 goes to the 12345 pool."""
    await hotline_server(at=dt.datetime(2026, 12, 1, 9, 30, tzinfo=SH))
    since = len(center_ami.events)
    call = await place(center_ami, "12328", hold=3)
    await collect(center_ami, [call], settle=3, since=since)
    center.rx("channel request hangup all")
    got = call.variables()
    assert got["HOTLINE_DEPARTMENT"] == "市交通运输局"
    assert got["HOTLINE_MODE"] == "dual_number"
    assert got["HOTLINE_DIALED"] == "12328"
    assert "hotline-general" in call.queues_joined()


async def test_skip_key_connects_before_the_prompt_ends(hotline_server, center, center_ami):
    """Routed in the server's own process (a pinned clock; `fastagi.process: false`)."""
    server = await hotline_server()
    server.clock.now = MOMENTS["during"]
    since = len(center_ami.events)
    call = await place(center_ami, "12312", hold=4, dtmf="1", dtmf_after=1.5)
    await collect(center_ami, [call], settle=4.5, since=since)
    center.rx("channel request hangup all")
    # the merged prompt is ~10 s long: reaching the queue within 4.5 s means it was skipped
    assert "hotline-general" in call.queues_joined()
    assert call.variables().get("HOTLINE_PROMPT_SKIPPED") == "1"


async def test_server_down_caller_still_reaches_general_queue(center, center_ami):
    """No FastAGI server at all: the generated dialplan's fail-safe takes over."""
    since = len(center_ami.events)
    call = await place(center_ami, "12333", hold=3)
    await collect(center_ami, [call], settle=3, since=since)
    center.rx("channel request hangup all")
    assert call.variables().get("HOTLINE_FALLBACK") == "1"
    assert "hotline-general" in call.queues_joined()
