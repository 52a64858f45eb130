"""The trained department/category vote (ivr/tickets/topic_vote.py) as an agent and a city see it.

Sentences here are written for these tests, none is taken from a labelled set.
Asserted: where the rules name nothing the vote fills in and the draft says
which words led to it; where the rules are sure they win; what a city's
config switches (and its mistakes reported with file and line); the vote only
names the city's own departments; the shipped model is exactly what the
training script makes from the repo's data.
"""
from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ivr.config.loader import load_config
from tests.support.config_text import assert_check_reports, city_with_tickets
from ivr.config.model import Config
from ivr.tickets.draft import NO_DEPARTMENT, draft_ticket

ROOT = Path(__file__).resolve().parents[2]
BAIYIN_YAML = ROOT / "tests" / "data" / "ticket_baiyin.yaml"
AT = dt.datetime(2024, 11, 20, 10, 0)
WAGES = "老板说干完这个月 一起结 结果到现在三个月了 一分钱没见着"      # no department word the rules know
CIGARETTES = "学校 门口 小卖部 卖 散烟 给 娃娃"
FUND_QUESTION = "公积金贷款的额度 跟 工资 有关系没"                   # no word that asks: the rules' 投诉


def _city(tmp_path: Path, vote_yaml: str) -> Path:
    return city_with_tickets(tmp_path, BAIYIN_YAML, "vote", vote_yaml)


def test_no_department_word_the_vote_names_one_and_the_words_that_led_to_it():
    d = draft_ticket(WAGES, load_config(BAIYIN_YAML), at=AT)
    assert d.department == "市人社局" and d.department_line == "hrss-12333"
    assert d.why["department_basis"] == "vote" and "vote:department:市人社局" in d.keywords
    reason = d.why["department"][0]
    assert reason.startswith("模型(") and "老板说" in reason
    assert all(w in WAGES.replace(" ", "") for w in reason[3:-1].split("、"))   # words the caller said


def test_no_request_word_the_vote_names_the_category():
    d = draft_ticket(FUND_QUESTION, load_config(BAIYIN_YAML), at=AT)
    assert d.department == "市住房公积金管理中心" and d.why["department_basis"] == "words"   # the rules were sure
    assert d.category == "咨询" and d.why["category"][0].startswith("模型(") and "额度" in d.why["category"][0]


def test_rules_that_are_sure_win():
    d = draft_ticket("我想问一下 公积金 怎么提取", load_config(BAIYIN_YAML), at=AT)
    assert d.why["department"] == ["公积金(3)"] and not any(k.startswith("vote:") for k in d.keywords)


def test_a_city_switches_the_vote_off_or_asks_for_more_certainty(tmp_path):
    for setting in ("    enabled: false\n", "    department: {margin: 200}\n"):
        d = draft_ticket(WAGES, load_config(_city(tmp_path, setting)), at=AT)
        assert d.department == "12345热线" and d.why["department"] == [NO_DEPARTMENT], setting
    d = draft_ticket(FUND_QUESTION, load_config(_city(tmp_path, "    category: {margin: 200}\n")), at=AT)
    assert d.category == "投诉" and d.why["category"] == ["未提出诉求，按投诉"]


def test_a_city_lets_the_vote_overrule_weak_rule_words(tmp_path):
    said = "我家隔壁那个修车铺子 天天往下水道倒废机油 一股子味道"   # 下水道(3): the rules say housing
    assert draft_ticket(said, load_config(BAIYIN_YAML), at=AT).department == "市住建局"
    eager = load_config(_city(tmp_path, "    department: {margin: 0, rules_win_at: 10}\n"))
    d = draft_ticket(said, eager, at=AT)
    assert d.department == "市生态环境局" and d.why["department_basis"] == "vote"


def test_the_vote_names_only_the_citys_own_departments():
    data = yaml.safe_load(BAIYIN_YAML.read_text(encoding="utf-8"))
    assert draft_ticket(CIGARETTES, Config.model_validate(data), at=AT).department == "市烟草专卖局"
    data["lines"] = [ln for ln in data["lines"] if ln["department"] != "市烟草专卖局"]
    data["sub_centers"] = [s for s in data["sub_centers"] if s["id"] != "tobacco"]
    assert draft_ticket(CIGARETTES, Config.model_validate(data), at=AT).department != "市烟草专卖局"


@pytest.mark.parametrize("entry, at, field, reason", [
    ("    department: {margin: -1}\n", 3, "tickets.vote.department.margin", "Input should be greater than or equal to 0"),
    ("    enable: false\n", 3, "tickets.vote.enable", "unknown field 'enable' (did you mean 'enabled'?)"),
])
def test_bad_setting_is_reported_with_file_and_line(tmp_path, capsys, entry, at, field, reason):
    line = len(BAIYIN_YAML.read_text(encoding="utf-8").splitlines()) + at   # 1 = `tickets:`
    assert_check_reports(capsys, _city(tmp_path, entry), line, field, reason)


def test_shipped_model_is_what_the_training_script_makes():
    run = subprocess.run([sys.executable, str(ROOT / "scripts" / "train_topics.py"), "--check"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
