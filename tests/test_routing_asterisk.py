"""Every number of the shipped plan, before / inside / after its transition,
called through the real Asterisk: the call ends where the plan says, with the
line's variables on the channel, and the caller hears the right prompt."""
from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from ivr.plan.decide import Plan
from tests.audio import contains
from tests.routing_calls import collect, heard, place

pytestmark = pytest.mark.asterisk

SH = dt.timezone(dt.timedelta(hours=8))
MOMENTS = {
    "before": dt.datetime(2026, 10, 20, 10, 0, tzinfo=SH),      # no line live yet
    "during": dt.datetime(2026, 12, 20, 10, 0, tzinfo=SH),      # full merge in transition, others active
    "after": dt.datetime(2027, 1, 10, 10, 0, tzinfo=SH),        # transitions over
}
PROMPT_MATCH = 0.8  # normalised correlation of the prompt found in the caller's recording


def plan_numbers(config) -> list[str]:
    numbers = [config.hotline.number, "110"]
    for line in config.lines:
        numbers += line.numbers + line.aliases
    return numbers


def check(call, decision, center) -> list[str]:
    """What differs between the decision and what Asterisk reports for this call."""
    problems = []
    got = call.variables()
    if not call.events:
        return ["no events: the call never reached Asterisk's plan"]
    for var in ("HOTLINE_MODE", "HOTLINE_ACTION") + (("HOTLINE_LINE",) if decision.line else ()):
        want = decision.channel_vars()[var]
        if got.get(var) != want:
            problems.append(f"{var}={got.get(var)!r}, want {want!r}")
    if decision.mode != "emergency" and not got.get("HOTLINE_TICKET", "").startswith("T"):
        problems.append("no ticket id on the channel")
    action = decision.action
    if decision.prompt_id and action != "menu":
        score = contains(heard(center.host / "recordings", call), center.sounds / f"{decision.prompt_id}.wav")
        if score < PROMPT_MATCH:
            problems.append(f"prompt {decision.prompt_id} not heard by the caller (match {score:.2f})")
    if action in ("queue", "prompt_then_forward"):
        tried = call.apps("Queue")
        if not tried or not tried[0].startswith(f"hotline-{decision.queue},"):
            problems.append(f"queue tried {tried}, want hotline-{decision.queue}")
        # an expert queue with nobody logged in overflows to the general pool at once
        final = decision.overflow_queue or decision.queue
        if f"hotline-{final}" not in call.queues_joined():
            problems.append(f"waiting in {call.queues_joined()}, want hotline-{final}")
    elif action in ("department", "forward", "passthrough"):
        dials = call.apps("Dial")
        if not dials or not dials[0].startswith(decision.dial):
            problems.append(f"dialed {dials}, want {decision.dial}")
        if decision.dial.endswith("@sim-outside"):
            number = decision.dial.split("/")[1].split("@")[0]
            if number not in [e.get("Number") for e in call.user_events("SimOutside")]:
                problems.append(f"outside number {number} never answered")
    elif action in ("not_in_service", "prompt_then_hangup"):
        if call.queues_joined() or call.apps("Dial"):
            problems.append("call went on after the prompt instead of ending")
        if not call.hung_up():
            problems.append("call was not ended")
    return problems


@pytest.mark.parametrize("moment", list(MOMENTS))
async def test_every_number_ends_where_the_plan_says(moment, hotline_server, center, center_ami, shipped_config):
    server = await hotline_server()
    server.clock.now = MOMENTS[moment]
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
    server = await hotline_server()
    server.clock.now = dt.datetime(2026, 12, 1, 9, 30, tzinfo=SH)
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
