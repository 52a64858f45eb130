"""一企来 enterprise callers and language seats in the plan: what a call gets, and why."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from ivr.plan.decide import Plan
from tests.plan.test_import_cli import hotline
from tests.support.plan_fixtures import config_data, make_config

SH = dt.timezone(dt.timedelta(hours=8))
DURING = dt.datetime(2026, 12, 1, 10, 0, tzinfo=SH)
FIRM = "13800000001"
CITIZEN = "13912345678"


def fast_data(menu: bool = False, **enterprise) -> dict:
    data = config_data(menu=menu, options={"1": {"label": "市级业务", "target": "queue:general"}})
    data["queues"] += [{"id": "enterprise", "name": "涉企专席"}, {"id": "lang-en", "name": "English seats"}]
    data["enterprise"] = {"numbers": [FIRM, "0943-8221234"], **enterprise}
    data["languages"] = [{"id": "en", "name": "English", "queue": "lang-en", "key": "9" if menu else None,
                          "prompt": "For English, press 9."}]
    return data


def test_enterprise_caller_waits_ahead_in_the_same_queue():
    plan = Plan(make_config(fast_data()))
    citizen = plan.decide("12345", DURING, caller=CITIZEN)
    firm = plan.decide("12345", DURING, caller=FIRM)
    assert (citizen.queue, citizen.priority, citizen.tags) == ("general", 0, ())
    assert (firm.queue, firm.priority, firm.tags) == ("general", 10, ("enterprise",))
    assert "registered enterprise" in firm.reason and "priority 10" in firm.reason
    assert firm.channel_vars()["HOTLINE_TAGS"] == "enterprise"
    assert firm.channel_vars()["HOTLINE_PRIORITY"] == "10"
    assert "HOTLINE_PRIORITY" not in citizen.channel_vars() and "HOTLINE_TAGS" not in citizen.channel_vars()


@pytest.mark.parametrize("caller", ["+8613800000001", "008613800000001", "09438221234", "0943-8221234"])
def test_enterprise_numbers_match_as_caller_ids_arrive(caller):
    assert Plan(make_config(fast_data())).decide("12345", DURING, caller=caller).tags == ("enterprise",)


def test_enterprise_queue_replaces_the_pool_only():
    plan = Plan(make_config(fast_data(queue="enterprise", priority=50)))
    pooled = plan.decide("12328", DURING, caller=FIRM)          # dual number, pooled into general
    assert (pooled.action, pooled.queue, pooled.priority) == ("queue", "enterprise", 50)
    assert "涉企专席 queue:enterprise" in pooled.reason
    merged = plan.decide("12315", DURING, caller=FIRM)          # full merge in transition: prompt first
    assert (merged.action, merged.queue, merged.prompt_id) == ("prompt_then_forward", "enterprise", "merged-scm-12315")
    expert = plan.decide("12333", DURING, caller=FIRM)          # an expert queue stays the expert queue
    assert (expert.queue, expert.overflow_queue, expert.priority) == ("hrss-expert", "general", 50)
    unknown = plan.decide("99999", DURING, caller=FIRM)
    assert (unknown.queue, unknown.tags) == ("enterprise", ("enterprise",))


def test_enterprise_never_changes_emergency_forwards_or_hangups():
    plan = Plan(make_config(fast_data(queue="enterprise")))
    later = dt.datetime(2026, 12, 16, 10, 0, tzinfo=SH)      # the tax sub-center is live
    for number, at in (("110", DURING), ("12366", later), ("12369", DURING), ("12119", DURING)):
        citizen, firm = plan.decide(number, at, caller=CITIZEN), plan.decide(number, at, caller=FIRM)
        assert (firm.action, firm.dial, firm.queue, firm.priority) == \
            (citizen.action, citizen.dial, citizen.queue, 0), number
    assert plan.decide("110", DURING, caller=FIRM).tags == ()
    assert plan.decide("12366", later, caller=FIRM).tags == ("enterprise",)   # tagged for the sub-center pop


def test_enterprise_caller_skips_the_menu():
    plan = Plan(make_config(fast_data(menu=True, queue="enterprise")))
    assert plan.decide("12345", DURING, caller=CITIZEN).action == "menu"
    firm = plan.decide("12345", DURING, caller=FIRM)
    assert (firm.action, firm.queue, firm.priority, firm.prompt_id) == ("queue", "enterprise", 10, "welcome")
    assert "menu skipped" in firm.reason


def test_language_key_reaches_its_queue_with_a_reason():
    plan = Plan(make_config(fast_data(menu=True, key="8")))
    english = plan.menu_choice("9", DURING)
    assert (english.action, english.queue, english.tags) == ("queue", "lang-en", ("language:en",))
    assert english.reason.startswith("key 9 at the 12345 menu: English seats (外籍人士服务热线)")
    firm = plan.menu_choice("8", DURING)
    assert (firm.queue, firm.tags, firm.priority) == ("general", ("enterprise",), 10)
    assert plan.menu_choice("1", DURING).tags == ()
    assert plan.menu_choice("7", DURING) is None


def test_without_enterprise_numbers_the_caller_changes_nothing():
    data = config_data()
    plan = Plan(make_config(data))
    assert plan.decide("12345", DURING, caller=FIRM) == plan.decide("12345", DURING)


def test_plan_route_cli_explains_a_menu_key_and_an_enterprise_caller():
    config = str(Path(__file__).parents[1] / "data" / "fasttrack.yaml")
    english = hotline("plan", "route", "12345", "--key", "9", "-c", config)
    assert english.returncode == 0, english.stderr
    d = json.loads(english.stdout)
    assert (d["queue"], d["tags"]) == ("lang-en", ["language:en"]) and "外籍人士服务热线" in d["reason"]
    firm = json.loads(hotline("plan", "route", "12345", "--caller", "0943 822 1234", "-c", config).stdout)
    assert (firm["action"], firm["tags"], firm["priority"]) == ("queue", ["enterprise"], 10)
    wrong = hotline("plan", "route", "12345", "--key", "7", "-c", config)
    assert wrong.returncode == 2 and "no menu key '7'" in wrong.stderr
