"""`callbacks.offer_agent` (pure): strict config with FILE:LINE, the dialplan it gives, what an answer means."""
from __future__ import annotations

from callbacks import surveys
from callbacks.dialplan import render
from ivr.config.model import Config
from tests.support.config_text import config_problems

BASE = """\
hotline: {name: 测试热线, number: "12345"}
queues:
  - {id: general, name: 综合座席}
  - {id: revisit, name: 回访转人工}
trunks:
  pstn: {type: local, context: sim-outside}
callbacks:
  enabled: true
  campaigns:
    c1:
      - {id: solved, prompt: 已解决请按1, keys: {"1": 已解决, "2": 未解决}, redo: ["2"]}
      - {id: happy, prompt: 满意请按1, keys: {"1": 满意, "3": 不满意}}
  offer_agent:
OFFERS
"""


def _problems(tmp_path, offers: str) -> list[str]:
    return config_problems(tmp_path, BASE.replace("OFFERS", offers))


def _config(offers: dict) -> Config:
    return Config.model_validate({"hotline": {"name": "测试热线"}, "queues": [{"id": "general", "name": "综合"}],
                                  "callbacks": {"enabled": True, "offer_agent": offers, "campaigns": {"c1": [
                                      {"id": "solved", "prompt": "p", "keys": {"1": "已解决", "2": "未解决"},
                                       "redo": ["2"]},
                                      {"id": "happy", "prompt": "p", "keys": {"1": "满意", "3": "不满意"}}]}}})


def test_good_offers_pass_and_bad_ones_say_file_line_field(tmp_path):
    assert _problems(tmp_path, "    default: {queue: revisit}\n    c1: {queue: general, prompt: 转人工请按0}") == []
    path = tmp_path / "config.yaml"
    [p] = _problems(tmp_path, "    c1: {queue: expert}")
    assert p.startswith(f"{path}:14: callbacks.offer_agent.c1.queue") and "unknown queue 'expert'" in p, p
    [p] = _problems(tmp_path, "    c9: {queue: general}")
    assert p.startswith(f"{path}:13: callbacks.offer_agent") and "'c9': not a campaign" in p, p
    [p] = _problems(tmp_path, "    c1: {queue: general, key: 9}")
    assert ":14: callbacks.offer_agent.c1.key" in p, p
    reserved = config_problems(tmp_path, BASE.replace("id: happy", "id: offer").replace("OFFERS", "    {}"))
    assert any("'offer' is reserved" in p for p in reserved), reserved


def test_a_redo_answer_leads_to_the_offer_and_0_joins_the_queue_with_the_ticket():
    text = render(_config({"default": {"queue": "general"}, "c1": {"queue": "general"}}))["extensions_callbacks.conf"]
    c1 = text[text.index("[hotline-survey-c1]"):]
    c1 = c1[:c1.index("\n\n")]
    assert '${REGEX("^[2]$" ${HOTLINE_CB_DIGIT})}]?Set(HOTLINE_CB_REDO=1)' in c1   # solved: 未解决
    assert c1.count("HOTLINE_CB_REDO=1") == 1                                     # happy has no redo keys
    assert c1.index("HOTLINE_CB_REDO}\" = \"1\"]?hotline-survey-offer-c1") > c1.rindex("hotline-survey-ask")
    offer = text[text.index("[hotline-survey-offer-c1]"):]
    assert "Read(HOTLINE_CB_DIGIT,hotline/callback-offer-c1,1,,1,6)" in offer
    assert "Set(__HOTLINE_CALLBACK=survey)" in offer and "Set(__HOTLINE_QUEUE=general)" in offer
    assert "Set(__HOTLINE_TICKET=${HOTLINE_TICKET})" in offer and "Set(TIMEOUT(absolute)=0)" in offer
    assert "?hotline-survey-offer-default,s,1)" in text and "[hotline-survey-offer-default]" in text
    plain = render(_config({}))["extensions_callbacks.conf"]
    assert "[hotline-survey-offer-" not in plain and "HOTLINE_CB_REDO" not in plain
    assert _config({"c1": {"queue": "general"}}).callbacks.prompts()["callback-offer-c1"] == "如需人工服务请按0，结束请挂机。"


def test_the_answer_to_the_offer_is_recorded_on_the_ticket():
    assert surveys.meaning({}, None, "offer", "0") == ("要求转人工", False)
    assert surveys.meaning({}, None, "offer", "none") == ("未转人工", False)
    first = surveys.ticket_result(None, 7, "satisfaction", "不满意", "3", True, "t1")
    after = surveys.ticket_result(first, 7, "offer", "要求转人工", "0", False, "t2")
    assert after["redo"] is True and after["agent_asked"] is True and after["offer"] == "要求转人工"
    assert after["answers"]["satisfaction"]["key"] == "3"
    assert surveys.ticket_result(first, 7, "offer", "未转人工", "none", False, "t2")["agent_asked"] is False
