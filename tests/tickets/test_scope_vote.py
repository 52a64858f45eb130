"""The trained out-of-scope vote (ivr/tickets/scope_vote.py) as an agent and a city see it.

Sentences here are written for these tests, none is taken from a labelled set.
Asserted: a 不受理 matter described without the plan's words is flagged, and
the draft names the words that led to it; where the rules excused a mention
(a negation, a how-to question) their reading stands; an ordinary matter is
not flagged; what a city's config switches (and its mistakes reported with
file and line); the shipped model is exactly what the training script makes.
"""
from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest

from ivr.config.loader import load_config
from ivr.tickets.draft import draft_ticket
from ivr.tickets.scope_vote import REASON
from tests.support.config_text import assert_check_reports, city_with_tickets

ROOT = Path(__file__).resolve().parents[2]
BAIYIN_YAML = ROOT / "tests" / "data" / "ticket_baiyin.yaml"
AT = dt.datetime(2024, 11, 20, 10, 0)
GIFT = "我们乡上那个副乡长 给他送了两箱酒 低保才批下来"        # a bribe, said without 受贿/纪委
JUDGED = "那个案子开了两次庭了 判下来我也不服 你们给我做主"     # a court case, said without 法院/起诉


def _city(tmp_path: Path, body: str) -> Path:
    return city_with_tickets(tmp_path, BAIYIN_YAML, "scope_vote", body)


@pytest.mark.parametrize("said", [GIFT, JUDGED])
def test_a_matter_described_without_the_plans_words_is_flagged_with_the_words_that_led_to_it(said):
    d = draft_ticket(said, load_config(BAIYIN_YAML), at=AT)
    assert d.out_of_scope and d.out_of_scope_reason == REASON
    words = next(k for k in d.keywords if k.startswith("out_of_scope:"))[len("out_of_scope:"):].split("、")
    assert words and all(w.strip("[]") and (w in said.replace(" ", "") or w.startswith("[")) for w in words)


@pytest.mark.parametrize("said", ["我不想打官司 你们帮我跟物业协调一下", "我想问一下劳动仲裁怎么申请",
                                  "小区门口的垃圾好几天没人收了", "我要举报那个饭馆后厨老鼠乱跑"])
def test_excused_mentions_and_ordinary_matters_are_not_flagged(said):
    assert not draft_ticket(said, load_config(BAIYIN_YAML), at=AT).out_of_scope


def test_the_plans_words_still_name_their_reason():
    d = draft_ticket("法院判了他还是不还钱", load_config(BAIYIN_YAML), at=AT)
    assert d.out_of_scope and d.out_of_scope_reason == "诉讼"


def test_a_city_switches_the_vote_off_or_sets_its_threshold(tmp_path):
    for body in ("    enabled: false\n", "    threshold: 150\n"):
        d = draft_ticket(GIFT, load_config(_city(tmp_path, body)), at=AT)
        assert not d.out_of_scope and not any(k.startswith("out_of_scope:") for k in d.keywords), body


@pytest.mark.parametrize("entry, field, reason", [
    ("    threshold: 9999\n", "tickets.scope_vote.threshold", "Input should be less than or equal to 200"),
    ("    enabeld: false\n", "tickets.scope_vote.enabeld", "unknown field 'enabeld' (did you mean 'enabled'?)"),
])
def test_bad_setting_is_reported_with_file_and_line(tmp_path, capsys, entry, field, reason):
    line = len(BAIYIN_YAML.read_text(encoding="utf-8").splitlines()) + 3   # 1 = `tickets:`, 2 = `scope_vote:`
    assert_check_reports(capsys, _city(tmp_path, entry), line, field, reason)


def test_shipped_model_is_what_the_training_script_makes():
    run = subprocess.run([sys.executable, str(ROOT / "scripts" / "train_scope.py"), "--check"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
