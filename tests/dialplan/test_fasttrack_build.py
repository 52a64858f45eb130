"""The fast tracks in the generated dialplan: the menu offers the language and
enterprise keys with their prompts and tags, and every queue join carries the
caller's priority (QUEUE_PRIO) so 一企来 callers wait ahead."""
from __future__ import annotations

from ivr.dialplan.build import render
from ivr.prompts.manifest import config_prompts
from tests.dialplan.test_dialplan_build import dialplan
from tests.support.plan_fixtures import config_data, make_config


def _config(menu: bool = True):
    data = config_data(menu=menu, options={"1": {"label": "市级业务", "target": "queue:general"}})
    data["queues"] += [{"id": "lang-en", "name": "English seats"}, {"id": "enterprise", "name": "涉企专席"}]
    data["enterprise"] = {"numbers": ["13800000001"], "queue": "enterprise", "key": "8" if menu else None,
                          "priority": 20}
    data["languages"] = [{"id": "en", "name": "English", "queue": "lang-en", "key": "9" if menu else None,
                          "prompt": "For English, press 9."}]
    return make_config(data)


def test_menu_offers_language_and_enterprise_keys():
    plan = dialplan(render(_config())["extensions_hotline.conf"])
    menu = plan["hotline-act-menu"]
    assert menu["s"][4:7] == ["Background(hotline/menu)", "Background(hotline/menu-enterprise)",
                              "Background(hotline/menu-language-en)"]
    assert menu["9"] == ["Set(__HOTLINE_MENU=9)", "Set(__HOTLINE_TAGS=language:en)", "Set(__HOTLINE_QUEUE=lang-en)",
                         "Set(HOTLINE_OVERFLOW=)", "Goto(hotline-queue,s,1)"]
    assert menu["8"][:3] == ["Set(__HOTLINE_MENU=8)", "Set(__HOTLINE_TAGS=enterprise)", "Set(__HOTLINE_PRIORITY=20)"]
    assert "Set(__HOTLINE_QUEUE=enterprise)" in menu["8"]
    assert menu["1"][0] == "Set(__HOTLINE_MENU=1)" and not any("TAGS" in s for s in menu["1"])


def test_queue_join_sets_the_priority_from_the_route():
    steps = dialplan(render(_config(menu=False))["extensions_hotline.conf"])["hotline-queue"]["s"]
    prio = steps.index('Set(QUEUE_PRIO=${IF($["${HOTLINE_PRIORITY}" = ""]?0:${HOTLINE_PRIORITY})})')
    assert prio < next(i for i, s in enumerate(steps) if s.startswith("Queue("))


def test_menu_prompts_go_through_the_prompts_pipeline():
    prompts = config_prompts(_config())
    assert prompts["menu-language-en"] == "For English, press 9."
    assert prompts["menu-enterprise"] == "企业办事请按8。"
    assert "menu-language-en" not in config_prompts(make_config(config_data()))
