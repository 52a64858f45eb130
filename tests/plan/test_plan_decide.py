"""Every mode × phase of the merged number plan, aliases, extensions, 12345, emergency, unknown."""
from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest

from ivr.config.model import DEFAULT_MERGED_PROMPT, DEFAULT_NOT_IN_SERVICE_PROMPT
from ivr.plan import Plan, PlanError
from tests.support.plan_fixtures import config_data, make_config

SH = ZoneInfo("Asia/Shanghai")
BEFORE = dt.datetime(2026, 11, 1, 10, 0, tzinfo=SH)
DURING = dt.datetime(2026, 12, 1, 10, 0, tzinfo=SH)
AFTER = dt.datetime(2027, 1, 5, 10, 0, tzinfo=SH)


@pytest.fixture(scope="module")
def plan() -> Plan:
    return Plan(make_config())


# --- full merge (整体并入) --------------------------------------------------

def test_full_merge_before_effective_keeps_the_old_behaviour(plan):
    d = plan.decide("12315", BEFORE)
    assert (d.mode, d.phase, d.action) == ("full_merge", "before", "department")
    assert d.target == "trunk:pstn/12315"
    assert d.dial == "Local/12315@sim-outside"
    assert d.prompt is None and d.queue is None


def test_full_merge_before_effective_without_department_target_goes_to_general(plan):
    d = plan.decide("12333", BEFORE)
    assert (d.phase, d.action, d.queue, d.target) == ("before", "queue", "general", "queue:general")
    assert "no department_target" in d.reason


def test_full_merge_transition_prompts_then_forwards_to_general(plan):
    d = plan.decide("12315", DURING)
    assert (d.mode, d.phase, d.action) == ("full_merge", "transition", "prompt_then_forward")
    assert d.prompt == DEFAULT_MERGED_PROMPT
    assert d.prompt_id == "merged-scm-12315"
    assert d.prompt_sound == "hotline/merged-scm-12315"
    assert (d.target, d.queue, d.dial) == ("queue:general", "general", None)
    assert d.skip_key == "1"
    assert (d.line, d.department) == ("scm-12315", "市市场监管局")


def test_full_merge_transition_with_expert_queue_and_own_prompt(plan):
    d = plan.decide("12333", DURING)
    assert d.action == "prompt_then_forward"
    assert (d.target, d.queue) == ("queue:hrss-expert", "hrss-expert")
    assert (d.overflow_queue, d.overflow_after) == ("general", 30)
    assert d.prompt == "您好，12333已并入12345，请稍候"
    assert d.skip_key == "#"


def test_full_merge_transition_hangup_line(plan):
    d = plan.decide("12119", DURING)
    assert (d.action, d.target, d.queue, d.dial) == ("prompt_then_hangup", "hangup", None, None)
    assert d.prompt == DEFAULT_MERGED_PROMPT and d.prompt_id == "merged-forest-12119"
    assert d.skip_key is None  # nothing to skip to


def test_full_merge_after_five_digit_is_not_in_service(plan):
    d = plan.decide("12315", AFTER)
    assert (d.phase, d.action, d.target) == ("after", "not_in_service", "hangup")
    assert d.prompt == DEFAULT_NOT_IN_SERVICE_PROMPT
    assert d.prompt_id == "not-in-service" and d.prompt_sound == "hotline/not-in-service"
    assert d.queue is None and d.dial is None


def test_full_merge_after_local_number_goes_back_to_department(plan):
    d = plan.decide("88348666-1", AFTER)
    assert (d.phase, d.action, d.target) == ("after", "department", "trunk:pstn/88348666-1")
    assert d.dial == "Local/88348666-1@sim-outside"


def test_full_merge_after_local_number_without_target_goes_to_general(plan):
    d = plan.decide("81610000", AFTER)
    assert (d.phase, d.action, d.queue) == ("after", "queue", "general")
    assert "no department_target" in d.reason


def test_explicit_after_overrides_the_number_length(plan):
    five = plan.decide("96119", AFTER)
    assert (five.action, five.dial) == ("department", "Local/96119@sim-outside")
    eight = plan.decide("88210110", AFTER)
    assert eight.action == "not_in_service"


def test_full_merge_without_transition_end_is_after_at_once(plan):
    d = plan.decide("88210110", dt.datetime(2026, 11, 21, 0, 0, tzinfo=SH))
    assert (d.phase, d.action) == ("after", "not_in_service")
    assert plan.decide("88210110", BEFORE).phase == "before"


# --- several numbers, aliases, extensions -----------------------------------

@pytest.mark.parametrize("alias", ["12312", "12330", "12331"])
def test_aliases_resolve_to_their_line(plan, alias):
    d = plan.decide(alias, DURING)
    assert (d.line, d.number, d.dialed) == ("scm-12315", alias, alias)
    assert d.action == "prompt_then_forward"
    assert "alias" in d.reason


def test_a_line_with_several_numbers_decides_per_number(plan):
    local, short = plan.decide("88348666-1", DURING), plan.decide("12318", DURING)
    assert local.line == short.line == "tour"
    assert local.action == short.action == "prompt_then_forward"
    # After the transition the 5-digit number is cancelled, the local one goes home.
    assert plan.decide("12318", AFTER).action == "not_in_service"
    assert plan.decide("88348666-1", AFTER).action == "department"


@pytest.mark.parametrize("dialed", ["88348666-1", "883486661", " 8834 8666-1 ", "+86883486661"])
def test_extension_numbers_match_with_and_without_dash(plan, dialed):
    d = plan.decide(dialed, DURING)
    assert (d.line, d.number, d.dialed) == ("tour", "88348666-1", dialed)


def test_a_real_number_wins_over_the_dashless_form_of_an_extension():
    data = config_data()
    data["lines"].append({"id": "nine", "name": "九位号码", "numbers": ["883486661"], "department": "某局",
                          "mode": "dual_number", "effective": "2026-11-21", "seats": "pooled"})
    plan = Plan(make_config(data))
    assert plan.decide("883486661", DURING).line == "nine"
    assert plan.decide("88348666-1", DURING).line == "tour"


def test_a_dialed_dash_finds_a_number_configured_without_one(plan):
    assert plan.decide("1231-5", DURING).line == "scm-12315"


def test_the_bare_switchboard_number_is_not_the_extension(plan):
    assert plan.decide("88348666", DURING).mode == "unknown"


# --- dual number (双号并行) and sub-center (设分中心) --------------------------

def test_dual_number_pooled_goes_to_general_tagged_with_department(plan):
    d = plan.decide("12328", DURING)
    assert (d.mode, d.phase, d.action) == ("dual_number", "active", "queue")
    assert (d.queue, d.department) == ("general", "市交通运输局")
    assert d.prompt is None


def test_dual_number_pooled_with_expert_queue(plan):
    d = plan.decide("12329", AFTER)
    assert (d.action, d.queue, d.overflow_queue, d.overflow_after) == ("queue", "fund-expert", "general", 45)


def test_dual_number_retained_forwards_to_department(plan):
    d = plan.decide("12369", DURING)
    assert (d.mode, d.phase, d.action) == ("dual_number", "active", "forward")
    assert (d.target, d.dial) == ("trunk:pstn/12369", "Local/12369@sim-outside")


def test_dual_number_before_effective(plan):
    d = plan.decide("12328", BEFORE)
    assert (d.phase, d.action, d.dial) == ("before", "department", "Local/12328@sim-outside")


def test_sub_center_forwards_through_its_trunk(plan):
    d = plan.decide("12366", dt.datetime(2026, 12, 15, tzinfo=SH))
    assert (d.mode, d.phase, d.action) == ("sub_center", "active", "forward")
    assert (d.target, d.dial) == ("subcenter:tax", "PJSIP/12366@subcenter-tax")


def test_sub_center_before_its_own_later_phase(plan):
    d = plan.decide("12366", DURING)  # other lines are live, the sub-center starts on 15 December
    assert (d.phase, d.action, d.queue) == ("before", "queue", "general")


# --- 12345 itself, emergency, unknown --------------------------------------

def test_12345_without_menu_goes_straight_to_an_agent(plan):
    d = plan.decide("12345", DURING)
    assert (d.mode, d.phase, d.action, d.line) == ("main", "active", "queue", None)
    assert (d.target, d.queue, d.prompt_id) == ("queue:general", "general", "welcome")


def test_12345_with_menu():
    data = config_data(menu=True, default="queue:general",
                       options={"1": {"label": "市级", "target": "queue:general"},
                                "2": {"label": "省级", "target": "trunk:pstn/12345"}})
    d = Plan(make_config(data)).decide("12345", DURING)
    assert (d.mode, d.action, d.target, d.queue) == ("main", "menu", "queue:general", "general")
    assert d.prompt_sound == "hotline/welcome"


@pytest.mark.parametrize("number", ["110", "119", "120", "122"])
def test_emergency_numbers_pass_straight_through(plan, number):
    for at in (BEFORE, DURING, AFTER):
        d = plan.decide(number, at)
        assert (d.mode, d.phase, d.action) == ("emergency", "active", "passthrough")
        assert (d.target, d.dial) == (f"trunk:pstn/{number}", f"Local/{number}@sim-outside")
        assert d.prompt is None and d.queue is None


def test_emergency_is_never_captured_even_by_an_unchecked_line():
    data = config_data()
    data["lines"][0]["aliases"].append("119")  # the config check forbids this; the plan still refuses it
    d = Plan(make_config(data, checked=False)).decide("119", DURING)
    assert (d.mode, d.action, d.dial) == ("emergency", "passthrough", "Local/119@sim-outside")


@pytest.mark.parametrize("dialed, number", [("99999", "99999"), ("", ""), ("12a45", ""), ("*99#", "")])
def test_unknown_and_malformed_numbers_go_to_general(plan, dialed, number):
    d = plan.decide(dialed, DURING)
    assert (d.mode, d.action, d.queue, d.line, d.number) == ("unknown", "queue", "general", None, number)
    assert d.dialed == dialed


# --- the Decision object ----------------------------------------------------

def test_channel_vars(plan):
    assert plan.decide("12333", DURING).channel_vars() == {
        "HOTLINE_DIALED": "12333",
        "HOTLINE_LINE": "hrss-12333",
        "HOTLINE_DEPARTMENT": "市人社局",
        "HOTLINE_MODE": "full_merge",
        "HOTLINE_PHASE": "transition",
        "HOTLINE_ACTION": "prompt_then_forward",
        "HOTLINE_TARGET": "queue:hrss-expert",
        "HOTLINE_DIAL": "",
        "HOTLINE_PROMPT": "hotline/merged-hrss-12333",
        "HOTLINE_SKIP_KEY": "#",
        "HOTLINE_QUEUE": "hrss-expert",
        "HOTLINE_OVERFLOW": "general,30",
    }
    fwd = plan.decide("12366", AFTER).channel_vars()
    assert (fwd["HOTLINE_DIAL"], fwd["HOTLINE_QUEUE"], fwd["HOTLINE_OVERFLOW"]) == ("PJSIP/12366@subcenter-tax", "", "")


def test_channel_vars_are_safe_for_asterisk():
    data = config_data()
    # (control characters never get this far: the config refuses them, tests/security/test_injection.py)
    data["lines"][0]["department"] = '市"市场"监管局${SHELL};x|y&z'
    plan = Plan(make_config(data))
    values = plan.decide("12315", DURING).channel_vars()
    assert values["HOTLINE_DEPARTMENT"] == "市市场监管局SHELLxyz"
    junk = plan.decide('12315"\n;$(x)', DURING)
    assert junk.mode == "unknown"
    assert junk.channel_vars()["HOTLINE_DIALED"] == "12315"  # only dialable characters reach the dialplan
    for value in [*values.values(), *junk.channel_vars().values()]:
        assert not any(c in value for c in '"\'\n\r\\$;{}|&')


def test_decision_to_dict_is_json(plan):
    d = plan.decide("883486661", DURING)
    out = json.loads(json.dumps(d.to_dict(), ensure_ascii=False))
    assert out["number"] == "88348666-1" and out["dialed"] == "883486661"
    assert out["at"] == "2026-12-01T10:00:00+08:00"
    assert set(out) >= {"line", "line_name", "department", "mode", "phase", "action", "prompt", "prompt_id",
                        "target", "dial", "queue", "overflow_queue", "overflow_after", "skip_key", "reason"}


def test_decision_is_frozen(plan):
    d = plan.decide("12315", DURING)
    with pytest.raises(AttributeError):
        d.action = "queue"  # type: ignore[misc]


def test_caller_does_not_change_the_merge_rules(plan):
    assert plan.decide("12315", DURING, caller="13912345678") == plan.decide("12315", DURING)


# --- building the plan ------------------------------------------------------

def test_naive_at_is_refused(plan):
    with pytest.raises(ValueError, match="timezone-aware"):
        plan.decide("12315", dt.datetime(2026, 12, 1, 10, 0))


def test_a_missing_trunk_fails_when_the_plan_is_built():
    data = config_data()
    data["lines"][0]["department_target"] = "trunk:nowhere/12315"
    with pytest.raises(PlanError, match="nowhere"):
        Plan(make_config(data, checked=False))


def test_a_number_on_two_lines_fails_when_the_plan_is_built():
    data = config_data()
    data["lines"][1]["aliases"] = ["12312"]
    with pytest.raises(PlanError, match="12312"):
        Plan(make_config(data, checked=False))


def test_sounds_dir_comes_from_config():
    data = config_data()
    data["asterisk"] = {"sounds_dir": "custom/prompts"}
    d = Plan(make_config(data)).decide("12315", DURING)
    assert d.channel_vars()["HOTLINE_PROMPT"] == "custom/prompts/merged-scm-12315"
