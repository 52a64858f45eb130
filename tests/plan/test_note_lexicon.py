"""Notes read by the phrase lexicon: each phrase's effect on the imported line and what is left for a human."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ivr.plan.importer import import_file, transition_end
from ivr.plan.notes import BUILTIN, LexiconError, load_phrases, parse_note
from tests.plan.test_published_import import plan_of, write_table

SH = ZoneInfo("Asia/Shanghai")
EFFECTIVE = dt.date(2021, 11, 20)


@pytest.mark.parametrize("text, expected", [
    ("保留座席", {"seats": "retained"}),
    ("保留号码和座席，与12345建立电话转接机制", {"seats": "retained"}),
    ("保留话务座席", {"seats": "retained"}),
    ("座席并入", {"seats": "pooled"}),
    ("呼叫转移至12345", {"seats": "pooled"}),
    ("保留号码", {"keep_number": True, "seats": None}),
    ("设专家坐席", {"expert": True}),
    ("设置专家座", {"expert": True}),
    ("远程专家座席", {"expert": True, "remote_expert": True}),
    ("设远端座席", {"expert": True, "remote_expert": True}),
    ("整体并入远程专家座席", {"mode": "full_merge", "remote_expert": True}),
    ("座席并入12345，半年过渡期后取消号码", {"seats": "pooled", "transition": (6, 0), "cancel_number": True}),
    ("三个月过渡期", {"transition": (3, 0)}),
    ("过渡期30天", {"transition": (0, 30)}),
    ("撤销号码、座席", {"withdrawn": True}),
    ("已呼叫转移至12345", {"forwarded": True, "seats": None}),
    ("已归并12345", {"forwarded": True}),
    ("座席已撤销，取消号码", {"withdrawn": True, "cancel_number": True}),
    ("已整合12320、12321，座席并入", {"aliases": ("12320", "12321"), "seats": "pooled"}),
    ("设立分中心", {"sub_center": True}),
    ("保留号码和座席，设涉企专席", {"seats": "retained", "enterprise": True}),
    ("一企来", {"enterprise": True}),
    ("座席并入12345，设外语坐席", {"seats": "pooled", "language": True}),
    ("外籍人士服务热线", {"language": True}),
])
def test_each_phrase(text, expected):
    note = parse_note(text)
    assert note.unknown == ()
    for field, value in expected.items():
        assert getattr(note, field) == value, field
    assert note.reasons and all("→" in r for r in note.reasons)


def test_what_is_not_understood_is_kept():
    assert parse_note("座席并入，按季度评估").unknown == ("按季度评估",)
    assert parse_note("保留座席，座席并入").unknown == ("保留座席与座席并入同时出现 (保留座席，座席并入)",)


def test_transition_end_counts_months_and_days():
    assert transition_end(EFFECTIVE, 6, 0) == dt.date(2022, 5, 19)
    assert transition_end(dt.date(2021, 8, 31), 6, 0) == dt.date(2022, 2, 27)  # 28 Feb is the 6-month day
    assert transition_end(EFFECTIVE, 0, 30) == dt.date(2021, 12, 19)
    assert transition_end(EFFECTIVE, 0, 0) is None


BLANK = ["", "", "", "", ""]
NOTES = [
    ["某市12345热线归并清单", "", "", "", ""],
    ["一、整体并入", "", "", "", ""],
    ["序号", "热线名称", "号码", "责任单位", "备注"],
    ["1", "甲热线", "12301", "甲局", "座席并入12345，半年过渡期后取消号码"],
    ["2", "乙热线", "12302", "乙局", "撤销号码、座席"],
    ["3", "丙热线", "12303", "丙局", "已呼叫转移至12345"],
    ["4", "丁热线", "12304", "丁局", "整体并入远程专家座席"],
    ["5", "戊热线", "12305", "戊局", "3个月过渡期"],
    ["6", "己热线", "12306", "己局", "保留号码"],
    ["二、双号并行", "", "", "", ""],
    ["1", "庚热线", "12311", "庚局", "保留号码和座席，\n与12345建立电话转接机制"],
    ["2", "辛热线", "12313", "辛局", "呼叫转移至12345"],
    ["3", "壬热线", "12314", "壬局", "保留号码"],
    ["4", "癸热线", "12316", "癸局", "设远端座席，座席并入"],
    ["5", "子热线", "12317", "子局", "设置专家座"],
    ["6", "丑热线", "12318", "丑局", "已整合12320、12321，座席并入"],
    ["7", "寅热线", "12319", "寅局", "按季度评估"],
    ["8", "卯热线", "12322", "卯局", "半年过渡期"],
    ["9", "辰热线", "12323", "辰局", "整体并入，座席并入"],
    ["10", "午热线", "12325", "午局", "座席并入，设涉企专席"],
    ["11", "未热线", "12326", "未局", "座席并入，设外语坐席"],
    ["四、其他", "", "", "", ""],
    ["1", "巳热线", "12324", "巳局", "双号并行，座席并入"],
]


@pytest.fixture(params=["xlsx", "utf8.tsv"])
def notes_import(request, tmp_path):
    path = write_table(tmp_path, NOTES, request.param)
    return import_file(path, effective_from=EFFECTIVE, transition_days=30), tmp_path


def test_expected_decision_per_number(notes_import):
    result, tmp_path = notes_import
    lines = {ln["numbers"][0]: ln for ln in result.config["lines"]}
    # full merge: per-line transition lengths, cancellation, withdrawal
    assert (lines["12301"]["transition_end"], lines["12301"]["after"]) == (dt.date(2022, 5, 19), "not_in_service")
    assert "transition_end" not in lines["12302"] and lines["12302"]["after"] == "not_in_service"
    assert lines["12303"]["transition_end"] == dt.date(2021, 12, 19) and "after" not in lines["12303"]
    assert lines["12305"]["transition_end"] == dt.date(2022, 2, 19)
    queues = {q["id"]: q for q in result.config["queues"]}
    assert lines["12304"]["queue"] == "line-12304-expert" and queues["line-12304-expert"]["name"] == "丁热线远程专家座席"
    # dual number: seats
    assert (lines["12311"]["seats"], lines["12311"]["department_target"]) == ("retained", "trunk:pstn/12311")
    assert [lines[n]["seats"] for n in ("12313", "12314", "12316", "12317", "12318")] == ["pooled"] * 5
    assert lines["12316"]["queue"] == "line-12316-expert" and lines["12317"]["queue"] == "line-12317-expert"
    assert lines["12318"]["aliases"] == ["12320", "12321"]

    decisions = "\n".join(result.decisions)
    assert "'按季度评估' not understood" in decisions                      # unknown → human, with its row
    assert "(己热线, 12306): note says 保留号码" in decisions                 # full merge that keeps its number
    assert "(卯热线, 12322): note says 过渡期 but the mode is dual_number" in decisions
    assert "(子热线, 12317): dual number without 座席并入/保留座席" in decisions  # 设置专家座 says nothing of seats
    assert "queue line-12304-expert is a remote expert queue" in decisions
    assert "(午热线, 12325): the note asks for the enterprise fast track" in decisions
    assert "(未热线, 12326): the note asks for language seats" in decisions
    assert (lines["12325"]["seats"], lines["12326"]["seats"]) == ("pooled", "pooled")
    assert "(辰热线, 12323): the note names mode full_merge but the table says '双号并行'" in decisions
    assert (lines["12323"]["mode"], lines["12324"]["mode"]) == ("dual_number", "dual_number")
    assert "line-12324: mode dual_number（备注写明" in "\n".join(result.readings)
    for number in ("12301", "12302", "12303", "12304", "12305", "12311", "12313", "12314", "12316", "12318"):
        assert f"{number}): " not in decisions.replace("line-", ""), number  # understood: no row-level item
    readings = "\n".join(result.readings)
    assert "line-12301: 「半年过渡期」→" in readings and "line-12311: 「与12345建立电话转接机制」→" in readings

    plan = plan_of(result, tmp_path / "plan")
    first = dt.datetime(2021, 11, 20, 9, tzinfo=SH)
    assert plan.decide("12302", first).action == "not_in_service"          # withdrawn: at once
    assert plan.decide("12301", dt.datetime(2022, 5, 19, 9, tzinfo=SH)).phase == "transition"
    assert plan.decide("12301", dt.datetime(2022, 5, 20, 9, tzinfo=SH)).action == "not_in_service"
    assert plan.decide("12311", first).action == "forward"
    assert plan.decide("12321", first).line == "line-12318"


def test_a_city_extends_the_lexicon(tmp_path):
    phrases = tmp_path / "phrases.yaml"
    phrases.write_text("- effect: retained\n  pattern: 部门自接\n  meaning: 部门自接：部门自己的座席接听\n",
                       encoding="utf-8")
    assert parse_note("部门自接").unknown == ("部门自接",)
    note = parse_note("部门自接", load_phrases(phrases) + BUILTIN)
    assert (note.seats, note.unknown, note.reasons) == ("retained", (), ("「部门自接」→ 部门自接：部门自己的座席接听",))


@pytest.mark.parametrize("text, message", [
    ("- effect: magic\n  pattern: x\n", "entry 1: unknown effect 'magic'"),
    ("- effect: retained\n  pattern: '('\n", "is not a regular expression"),
    ("- effect: retained\n  pattern: 'a*'\n", "matches the empty string"),
    ("effect: retained\n", "expected a list"),
])
def test_bad_phrase_file(text, message, tmp_path):
    path = tmp_path / "phrases.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(LexiconError, match=message):
        load_phrases(path)
