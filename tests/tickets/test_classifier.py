"""The trained emergency vote (ivr/tickets/classifier.py) as an agent and a city see it.

Sentences here are written for these tests, none is taken from a labelled set.
Asserted: what the agent is shown (可能紧急，请核实, the number, the n-grams
that weighed most), when a call is handed over (only when rules and model
agree), what a city's config switches, and that the shipped model is exactly
what the training script makes from the repo's data.
"""
from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest

from ivr.config.loader import load_config
from tests.support.config_text import assert_check_reports, city_with_tickets
from ivr.tickets.classifier import features
from ivr.tickets.draft import draft_ticket
from ivr.tickets.emergency import detect_emergency
from ivr.tickets.lexicon import lexicon_for
from ivr.tickets.possible import VERIFY, hands_over

ROOT = Path(__file__).resolve().parents[2]
BAIYIN_YAML = ROOT / "tests" / "data" / "ticket_baiyin.yaml"
AT = dt.datetime(2024, 11, 20, 10, 0)
UNSEEN = "我家老爷子在院子里一头栽下去 脸色发青 人软得跟面条一样"   # no rule tier knows this wording
STROKE = "我媳妇刚才说话突然说不清了 一边胳膊没劲"                  # the concept tier is unsure (可能紧急)
RULES_ONLY = {"classifier": {"enabled": False}}


def _city(tmp_path: Path, possible_yaml: str) -> Path:
    return city_with_tickets(tmp_path, BAIYIN_YAML, "possible", possible_yaml)


def test_unseen_wording_asks_the_agent_to_verify_with_the_words_that_weighed():
    assert detect_emergency(UNSEEN, lexicon_for(None, RULES_ONLY)) is None
    found = detect_emergency(UNSEEN)
    assert found["by"] == "model" and found["target"] == "120" and not hands_over(found)
    assert found["reason"].startswith(f"{VERIFY}：模型(") and "栽" in found["reason"]
    assert found["phrase"] in UNSEEN.replace(" ", "")            # the first reason is words the caller said


def test_rules_and_model_agreeing_hand_the_call_over():
    alone = detect_emergency(STROKE, lexicon_for(None, {"classifier": {"agree_hands_over": False}}))
    assert alone["by"] == "concepts" and not hands_over(alone)
    agreed = detect_emergency(STROKE)
    assert agreed["target"] == "120" and hands_over(agreed)
    assert agreed["reason"].startswith("紧急情况：") and "说不清(medical)" in agreed["reason"] and "模型同意" in agreed["reason"]


def test_ordinary_talk_about_danger_is_no_vote():
    for text in ["我想问一下去年我家着火保险公司一直不赔咋办", "小区游泳池没有救生员 我建议物业配一个",
                 "喂你好我想问一下公积金怎么提取需要带什么材料"]:
        assert detect_emergency(text) is None, text


def test_a_city_switches_the_model_off_or_sets_its_threshold(tmp_path):
    off = load_config(_city(tmp_path, "    classifier: {enabled: false}\n"))
    assert draft_ticket(UNSEEN, off, at=AT).emergency is None
    strict = load_config(_city(tmp_path, "    classifier: {threshold: 150}\n"))
    assert draft_ticket(UNSEEN, strict, at=AT).emergency is None
    shipped = draft_ticket(UNSEEN, load_config(BAIYIN_YAML), at=AT)
    assert shipped.emergency["by"] == "model" and shipped.emergency["reason"].startswith(VERIFY)
    assert shipped.category == "投诉" and shipped.urgency == "5workdays"   # the words' reading until the agent agrees


def test_a_city_sets_the_possible_tier_thresholds(tmp_path):
    plain = lexicon_for(None, {"classifier": {"enabled": False}})
    assert not hands_over(detect_emergency(STROKE, plain))
    eager = load_config(_city(tmp_path, "    alert: 2\n    hand_over: 3\n    classifier: {enabled: false}\n"))
    assert hands_over(draft_ticket(STROKE, eager, at=AT).emergency)
    deaf = load_config(_city(tmp_path, "    alert: 40\n    hand_over: 45\n    classifier: {enabled: false}\n"))
    assert draft_ticket(STROKE, deaf, at=AT).emergency is None


@pytest.mark.parametrize("entry, at, field, reason", [
    ("    alert: 6\n    hand_over: 4\n", 2, "tickets.possible", "hand_over 4.0 is below alert 6.0"),
    ("    classifier: {threshold: 9999}\n", 3, "tickets.possible.classifier.threshold",
     "Input should be less than or equal to 200"),
    ("    clasifier: {enabled: false}\n", 3, "tickets.possible.clasifier",
     "unknown field 'clasifier' (did you mean 'classifier'?)"),
])
def test_bad_setting_is_reported_with_file_and_line(tmp_path, capsys, entry, at, field, reason):
    line = len(BAIYIN_YAML.read_text(encoding="utf-8").splitlines()) + at   # 1 = `tickets:`
    assert_check_reports(capsys, _city(tmp_path, entry), line, field, reason)


def test_features_read_characters_and_sound():
    feats = features("着活了")
    assert {"c:着活", "c:着活了", "p:huo2"} <= set(feats) and feats == sorted(set(feats))


def test_shipped_model_is_what_the_training_script_makes():
    run = subprocess.run([sys.executable, str(ROOT / "scripts" / "train_emergency.py"), "--check"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
