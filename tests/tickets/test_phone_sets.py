"""Ticket drafting on phone speech: the labelled sets of issue 17, and what an agent sees.

Two parts, reported apart (docs/tickets.md, "Measured"):
- tuned on: phone_holdout, phone_tune, phone_blind (each measured once
  untouched, then tuned on) and phone_tune_more. Every set must keep every
  emergency (right number) and hold the floors below; false alarms are
  bounded over the sets together (a set of 25 ordinary matters cannot show 3 %).
- untuned: phone_untuned.jsonl, a third of the utterances, written and
  committed before any tuning and never tuned on, and phone_untuned_2.jsonl,
  written before the cue tier (docs/tickets.md), phone_untuned_3.jsonl,
  written blind before the possible-emergency tier, and phone_untuned_4.jsonl,
  written blind between its two rounds, phone_untuned_5.jsonl, written
  blind before the trained classifier, phone_untuned_6.jsonl, written blind
  before the department/category vote, phone_untuned_7.jsonl, written blind
  before the session-22 retraining, and phone_untuned_8.jsonl, written blind by
  another new hand after it (_3 to _8 never trained on); their file hashes are
  pinned so an edit after seeing results shows. Two tests read them: one holds
  the figures measured when they were first read (no change may make them
  worse), and one holds the issue's targets, marked as an expected failure
  (strict) while issue 17 is open: it reports the gap in every run, and the
  day the targets are met it fails until the mark is removed.
The tests print per-field figures and every miss.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import pytest
import yaml

from ivr.cli import main as cli_main
from ivr.config.model import Config
from ivr.tickets.evaluate import evaluate, load_rows
from ivr.tickets.draft import NO_DEPARTMENT, draft_ticket

DATA = Path(__file__).resolve().parents[1] / "data"
BAIYIN_YAML = DATA / "ticket_baiyin.yaml"
BAIYIN = Config.model_validate(yaml.safe_load(BAIYIN_YAML.read_text(encoding="utf-8")))
AT = dt.datetime(2024, 11, 20, 10, 0)
FALSE_ALARM_MAX = 0.03   # of ordinary matters (issue 17)
FLOORS = {"department_accuracy": 0.90, "category_accuracy": 0.90, "out_of_scope_recall": 0.90}


SETS = ["phone_holdout.jsonl", "phone_tune.jsonl", "phone_blind.jsonl", "phone_tune_more.jsonl"]
# Never tuned on, pinned as committed: phone_untuned before any tuning, phone_untuned_2 before the cue tier,
# phone_untuned_3 (blind: written by a new hand before the possible-emergency tier) before any of its work,
# phone_untuned_4 (blind again) after the tier's first round and before its second, its misses never read;
# phone_untuned_5 (blind) before the trained classifier, never trained on, its misses never read;
# phone_untuned_6 (blind) before the department/category vote, never trained on, its misses never read;
# phone_untuned_7 (blind: a new hand, 145 rows) before the session-22 retraining, never trained on, misses never read;
# phone_untuned_8 (blind: another new hand, 189 rows, long calls with the emergency buried) after it, likewise.
UNTUNED = {"phone_untuned.jsonl": "434fbe33bc3d92733355d203650bc2b6b658ccb031066d020b4f36ae7bd6d096",
           "phone_untuned_2.jsonl": "baf75830cc2abc982049118bc573b1891c02e34d1121bc8e4112108b23124ac2",
           "phone_untuned_3.jsonl": "62a9923c6e046817cd61786f53bd643115bef87c0459d19ed96b0ce40f3c866a",
           "phone_untuned_4.jsonl": "f1b2146fc02c333a55ab61baaef086dfb52d6928c87bcae8e90f69be809e5feb",
           "phone_untuned_5.jsonl": "03f3b17228a833b1f3bb7a3da688b4f6ba2f4901da98899d5af6bcaab220c59e",
           "phone_untuned_6.jsonl": "02193f5a379f7e7c96885293dbaa85b43939400ef255e41f20fd2f4202fd594a",
           "phone_untuned_7.jsonl": "5049a23aedcd361b1042e56d8dc120c193fe0868b6729d053bd431e642325f4a",
           "phone_untuned_8.jsonl": "374ec1a85e584eb23cd48138adea95ca09fe0c6eec079cb6d096090e30b75873"}
TARGETS = {"department_accuracy": 0.90, "category_accuracy": 0.90, "out_of_scope_recall": 0.90, "emergency_recall": 1.0}
TAXONOMY = {"fire", "explosion", "gas_leak", "injury", "unconscious", "not_breathing", "poisoning", "drowning",
            "electrocution", "violence", "weapon", "threat", "domestic_violence", "missing_child", "robbery",
            "suicide", "traffic_injury"}

@pytest.mark.parametrize("name", SETS)
def test_phone_set(name):
    rows = load_rows(DATA / name)
    assert len(rows) >= 40 and sum(bool(r.get("emergency_target")) for r in rows) >= 15
    result = evaluate(rows, BAIYIN)
    misses = result.pop("misses")
    print(f"\n{name}: {json.dumps(result, ensure_ascii=False)}\n  " + "\n  ".join(misses))
    assert result["emergency_recall"] == 1.0, "every emergency must go to the right number"
    low = {k: result[k] for k, floor in FLOORS.items() if result[k] < floor}
    assert not low, f"below floor: {low}"


def test_false_alarms_over_all_sets():
    ordinary = alarms = 0
    for name in [*SETS, "utterances.jsonl", "utterances_holdout.jsonl", "utterances_blind.jsonl"]:
        rows = load_rows(DATA / name)
        result = evaluate(rows, BAIYIN)
        ordinary += sum(not r.get("emergency_target") for r in rows)
        alarms += result["false_alarms"]
    print(f"\nfalse alarms: {alarms}/{ordinary} ordinary matters")
    assert ordinary >= 400 and alarms / ordinary <= FALSE_ALARM_MAX


# Measured on the untuned parts, rounded down: floors, not goals, and they only go up; how each moved, and the
# few that went down (with the rows), is told in docs/tickets.md ("Measured", and each round's section).
# Blind (never trained on, misses never read): _3.._6 and _7 (written before session 22's retraining, looked at
# before and after each round), _8 (written after its first round, looked at before and after the second).
# Last set at session 22's end: all three models retrained on the merged training data, one look per set.
MEASURED = {"phone_untuned.jsonl": {"emergency_recall": 1.0, "department_accuracy": 0.98,
                                    "category_accuracy": 0.93, "out_of_scope_recall": 1.0},
            "phone_untuned_2.jsonl": {"emergency_recall": 0.97, "department_accuracy": 0.92,
                                      "category_accuracy": 0.92},
            "phone_untuned_3.jsonl": {"emergency_recall": 0.94, "department_accuracy": 0.68,
                                      "category_accuracy": 0.75, "out_of_scope_recall": 1.0},
            "phone_untuned_4.jsonl": {"emergency_recall": 0.93, "department_accuracy": 0.75,
                                      "category_accuracy": 0.83, "out_of_scope_recall": 1.0},
            "phone_untuned_5.jsonl": {"emergency_recall": 0.92, "department_accuracy": 0.69,
                                      "category_accuracy": 0.75, "out_of_scope_recall": 0.87},
            "phone_untuned_6.jsonl": {"emergency_recall": 1.0, "department_accuracy": 0.89,
                                      "category_accuracy": 0.88, "out_of_scope_recall": 0.92},
            "phone_untuned_7.jsonl": {"emergency_recall": 0.97, "department_accuracy": 0.91,
                                      "category_accuracy": 0.79, "out_of_scope_recall": 0.86},
            "phone_untuned_8.jsonl": {"emergency_recall": 0.88, "department_accuracy": 0.81,
                                      "category_accuracy": 0.69, "out_of_scope_recall": 0.82}}
# False alarms on each untuned part's ordinary matters, as measured: ceilings that only go down. Above the
# issue's 3 % on the small parts (one alarm in 14 is 7 %); the strict xfail below reports it.
# Rule alarms and the classifier's alarms (verify only, never handed over) are capped apart.
ALARMS = {"phone_untuned.jsonl": 1, "phone_untuned_2.jsonl": 0, "phone_untuned_3.jsonl": 3, "phone_untuned_4.jsonl": 1,
          "phone_untuned_5.jsonl": 7, "phone_untuned_6.jsonl": 0, "phone_untuned_7.jsonl": 6,
          "phone_untuned_8.jsonl": 8}
MODEL_ALARMS = {"phone_untuned.jsonl": 0, "phone_untuned_2.jsonl": 0, "phone_untuned_3.jsonl": 0,
                "phone_untuned_4.jsonl": 1, "phone_untuned_5.jsonl": 0, "phone_untuned_6.jsonl": 0,
                "phone_untuned_7.jsonl": 0, "phone_untuned_8.jsonl": 0}
# Ordinary matters flagged out of scope (the out-of-scope vote's price, ivr/tickets/scope_vote.py), as measured:
# ceilings that only go down.
SCOPE_FALSE_FLAGS = {"phone_untuned.jsonl": 0, "phone_untuned_2.jsonl": 0, "phone_untuned_3.jsonl": 0,
                     "phone_untuned_4.jsonl": 3, "phone_untuned_5.jsonl": 0, "phone_untuned_6.jsonl": 2,
                     "phone_untuned_7.jsonl": 0, "phone_untuned_8.jsonl": 1}


@pytest.mark.parametrize("name", UNTUNED)
def test_untuned_part_is_no_worse_than_first_measured(name):
    result = evaluate(load_rows(DATA / name), BAIYIN)
    result.pop("misses")
    worse = {k: result[k] for k, floor in MEASURED[name].items() if result[k] < floor}
    if result["false_alarms"] - result["false_alarms_by_model"] > ALARMS[name]:
        worse["false_alarms"] = result["false_alarms"]
    if result["false_alarms_by_model"] > MODEL_ALARMS[name]:
        worse["false_alarms_by_model"] = result["false_alarms_by_model"]
    if result["out_of_scope_false_flags"] > SCOPE_FALSE_FLAGS[name]:
        worse["out_of_scope_false_flags"] = result["out_of_scope_false_flags"]
    assert not worse, f"untuned part worse than first measured: {worse}"


# phone_untuned.jsonl meets the targets since the category round (category 0.918; it is a training set of the vote).
MEETS_TARGETS = {"phone_untuned.jsonl"}
_SHORT = pytest.mark.xfail(strict=True, reason="issue 17 blocked: blind emergency recall 89-100 %, department 69-93 %, "
                                               "category 70-93 %, out-of-scope 82-100 %, false alarms 0-16 %")


@pytest.mark.parametrize("name", [n if n in MEETS_TARGETS else pytest.param(n, marks=_SHORT) for n in UNTUNED])
def test_untuned_part_meets_the_issue_targets(name):
    rows = load_rows(DATA / name)
    result = evaluate(rows, BAIYIN)
    misses = result.pop("misses")
    print(f"\nUNTUNED {name}: " + ", ".join(f"{k} {v}" for k, v in result.items()) + "\n  " + "\n  ".join(misses))
    low = {k: result[k] for k, target in TARGETS.items() if result[k] is not None and result[k] < target}
    if result["false_alarm_rate"] > FALSE_ALARM_MAX:
        low["false_alarm_rate"] = result["false_alarm_rate"]
    assert not low, f"untuned part below the issue's targets: {low}"


def test_labelled_set_size_taxonomy_and_untouched_third():
    for name, sha256 in UNTUNED.items():
        assert hashlib.sha256((DATA / name).read_bytes()).hexdigest() == sha256, f"{name} was edited"
    parts = {name: load_rows(DATA / name) for name in [*SETS, *UNTUNED]}
    rows = [r for part in parts.values() for r in part]
    untuned = [r for name in UNTUNED for r in parts[name]]
    assert len(rows) >= 300 and len(untuned) * 3 >= len(rows)
    emergencies = [r for r in rows if r.get("emergency_target")]
    assert len(emergencies) >= 60 and {r["group"] for r in emergencies} >= TAXONOMY
    assert {r["group"] for r in parts["phone_untuned.jsonl"] if r.get("emergency_target")} >= TAXONOMY
    assert sum(bool(r.get("harmless")) for r in rows) >= 40
    assert sum(bool(r.get("out_of_scope")) for r in rows) >= 30


def test_why_names_the_words_and_sound_matches():
    d = draft_ticket("嗯 那个 我想问一下 公鸡金 提取 要啥材料", BAIYIN, at=AT)
    assert d.department == "市住房公积金管理中心" and d.category == "咨询"
    assert d.why["department_basis"] == "words" and any("公鸡金≈公积金" in w for w in d.why["department"])
    assert d.why["category"]


def test_no_department_word_is_said_not_hidden():
    d = draft_ticket("喂 你好 我想反映个事情", BAIYIN, at=AT)
    assert d.why == {"department": [NO_DEPARTMENT], "department_basis": "none", "category": d.why["category"]}


def test_dialect_is_read_as_mandarin():
    d = draft_ticket("我克税务局开票 他们说系统坏了 让我明天再克", BAIYIN, at=AT)
    assert d.department == "市税务局"
    d = draft_ticket("个税汇算多交了咋退回来", BAIYIN, at=AT)
    assert d.category == "咨询"                       # 咋 = 怎么, a question


def test_eval_command_prints_json_last(capsys):
    assert cli_main(["ticket", "eval", "--config", str(BAIYIN_YAML), str(DATA / "phone_holdout.jsonl")]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    figures = json.loads(last)[str(DATA / "phone_holdout.jsonl")]
    assert figures["emergency_recall"] == 1.0 and figures["utterances"] == 50
