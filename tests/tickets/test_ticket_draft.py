"""Ticket drafting against hand-labelled hotline utterances, plus focused rules.

The labelled sets (tests/data/utterances*.jsonl) were written and labelled by
hand; the accuracy test prints per-field accuracy and holds floors. See
docs/tickets.md for the labelling guide and for which set was written when
(holdout and blind were written after the rules, to measure generalisation).
"""
from __future__ import annotations

import datetime as dt
import json
import os
import time
from pathlib import Path

import pytest
import yaml

from ivr.cli import main as cli_main
from ivr.config.loader import load_config
from ivr.config.model import Config
from ivr.tickets.deadlines import WorkCalendar, add_workdays, deadline
from ivr.tickets.lexicon import default
from ivr.tickets.numerals import compact, normalize_address_numbers
from ivr.tickets.possible import hands_over
from ivr.tickets.draft import detect_emergency, draft_ticket

DATA = Path(__file__).parents[1] / "data"
GENERAL_POOL = default().general_pool
REPO = Path(__file__).resolve().parents[2]
CST = dt.timezone(dt.timedelta(hours=8))
WEDNESDAY_10AM = dt.datetime(2024, 11, 20, 10, 0, tzinfo=CST)
FIELDS = ("category", "department", "urgency", "address", "phone", "out_of_scope", "emergency")
FLOORS = {"category": 0.90, "department": 0.90, "urgency": 0.90, "address": 0.85, "phone": 0.95,
          "out_of_scope": 0.95, "emergency": 1.0}


def _city(name: str) -> Config:
    return Config.model_validate(yaml.safe_load((DATA / f"ticket_{name}.yaml").read_text(encoding="utf-8")))


CITIES = {"baiyin": _city("baiyin"), "yancheng": _city("yancheng")}
BAIYIN = CITIES["baiyin"]
YANCHENG = CITIES["yancheng"]


def _rows(name: str) -> list[dict]:
    return [json.loads(line) for line in (DATA / name).read_text(encoding="utf-8").splitlines() if line.strip()]


def _address(a: str | None) -> str | None:
    return compact(normalize_address_numbers(a)) if a else None


def _phone(p: str | None) -> str | None:
    return p.replace("-", "") if p else None


def _observed(row: dict) -> tuple[dict, dict]:
    at = dt.datetime.fromisoformat(row["at"]) if "at" in row else WEDNESDAY_10AM
    d = draft_ticket(row["text"], CITIES[row.get("city", "baiyin")], at=at)
    got = {"category": d.category, "department": d.department, "urgency": d.urgency,
           "address": _address(d.address), "phone": _phone(d.phone), "out_of_scope": d.out_of_scope,
           "emergency": d.emergency["target"] if d.emergency else None,
           "verify_only": bool(d.emergency) and not hands_over(d.emergency)}
    want = {"category": row["category"], "department": row["department"], "urgency": row["urgency"],
            "address": _address(row.get("address")), "phone": _phone(row.get("phone")),
            "out_of_scope": row.get("out_of_scope", False), "emergency": row.get("emergency_target")}
    return got, want


DATASETS = ["utterances.jsonl", "utterances_holdout.jsonl", "utterances_blind.jsonl"]


@pytest.mark.parametrize("dataset", DATASETS)
def test_labelled_utterances(dataset):
    rows = _rows(dataset)
    assert len(rows) >= (220 if dataset == "utterances.jsonl" else 50)
    right = dict.fromkeys(FIELDS, 0)
    misses: list[str] = []
    emergencies = false_alarms = to_verify = caught = 0
    for row in rows:
        got, want = _observed(row)
        if got.pop("verify_only") and not want["emergency"]:  # 可能紧急，请核实: the agent decides, nothing moves
            to_verify += 1
            misses.append(f"asked to verify: {got['emergency']} | {row['text'][:40]}")
            got["emergency"] = None
        for f in FIELDS:
            if got[f] == want[f]:
                right[f] += 1
            else:
                misses.append(f"{f}: got {got[f]!r} want {want[f]!r} | {row['text'][:40]}")
        if want["emergency"]:
            emergencies += 1
            caught += got["emergency"] == want["emergency"]
        elif got["emergency"]:
            false_alarms += 1
    acc = {f: right[f] / len(rows) for f in FIELDS}
    print(f"\n{dataset}: {len(rows)} utterances, {emergencies} emergencies")
    for f in FIELDS:
        print(f"  {f:13} {right[f]:3}/{len(rows)} = {acc[f]:.1%}  (floor {FLOORS[f]:.0%})")
    print("  misses:\n    " + "\n    ".join(misses))
    assert caught == emergencies, "every emergency must be caught with the right number"
    assert false_alarms == 0, "no non-emergency may be handed over"
    assert to_verify <= 0.03 * (len(rows) - emergencies), "agents asked to verify too often (issue 17: 3 %)"
    low = {f: round(a, 3) for f, a in acc.items() if a < FLOORS[f]}
    assert not low, f"below floor: {low}"


def test_labels_name_departments_of_the_shipped_baiyin_config():
    """The Baiyin labels use the departments config.yaml ships, plus the general pool."""
    shipped = {ln.department for ln in load_config(REPO / "config.yaml").lines} | {GENERAL_POOL}
    labels = {r["department"] for n in DATASETS for r in _rows(n)
              if r.get("city", "baiyin") == "baiyin"}
    assert labels <= shipped, labels - shipped


# ------------------------------------------------------------ departments

@pytest.mark.parametrize(
    "text, baiyin, yancheng",
    [
        ("公积金怎么提取", "市住房公积金管理中心", "市公积金管理中心"),
        ("邻居私搭乱建盖了个棚子", "市住建局", "市自然资源和规划局"),   # Yancheng has a 违章建设 line
        ("医保报销要带什么材料", "市人社局", "市医保局"),                 # Baiyin: no 医保 line, 人社 takes it
        ("早点摊占道经营", GENERAL_POOL, "市城管局"),
        ("种子出苗率不到一半", GENERAL_POOL, "市农业农村局"),
    ],
)
def test_department_is_named_as_in_each_city(text, baiyin, yancheng):
    assert draft_ticket(text, BAIYIN, at=WEDNESDAY_10AM).department == baiyin
    assert draft_ticket(text, YANCHENG, at=WEDNESDAY_10AM).department == yancheng


def test_old_hotline_number_picks_its_line():
    d = draft_ticket("我打幺二三三三一直打不通，想问个事", BAIYIN, at=WEDNESDAY_10AM)
    assert (d.department, d.department_line) == ("市人社局", "hrss-12333")
    assert "number:12333" in d.keywords


def test_dialed_line_is_the_fallback_and_unknown_goes_to_the_pool():
    vague = "你好，我想问个事情"
    assert draft_ticket(vague, BAIYIN, at=WEDNESDAY_10AM, line_id="fund-12329").department == "市住房公积金管理中心"
    d = draft_ticket(vague, BAIYIN, at=WEDNESDAY_10AM)
    assert (d.department, d.department_line) == (GENERAL_POOL, None)
    # The words win over the dialed line.
    assert draft_ticket("发票开不出来", BAIYIN, at=WEDNESDAY_10AM, line_id="fund-12329").department == "市税务局"


# ----------------------------------------------------------- out of scope

@pytest.mark.parametrize(
    "text, reason",
    [
        ("我已经起诉到法院了，你们帮我催催法官", "诉讼"),
        ("仲裁委到现在还没开庭", "仲裁"),
        ("举报村主任贪污扶贫款", "纪检监察"),
        ("我已经申请了行政复议", "行政复议"),
        ("我要申请政府信息公开", "政府信息公开"),
        ("这事我去信访局反映过好几次了", "已进入信访渠道"),
        ("帮我查一下这个人的手机号和住址", "涉及国家秘密、商业秘密或个人隐私"),
        ("他们泄露了我们的商业秘密", "涉及国家秘密、商业秘密或个人隐私"),
    ],
)
def test_out_of_scope_reasons(text, reason):
    d = draft_ticket(text, BAIYIN, at=WEDNESDAY_10AM)
    assert d.out_of_scope and d.out_of_scope_reason == reason


@pytest.mark.parametrize(
    "text",
    [
        "我不想打官司，就想请你们协调一下",      # negated
        "我想问一下劳动仲裁怎么申请",            # how-to question: 12345 answers it
        "想找法律援助，官司打不起",              # legal aid is a service
        "公积金提取需要什么材料",
    ],
)
def test_in_scope(text):
    d = draft_ticket(text, BAIYIN, at=WEDNESDAY_10AM)
    assert not d.out_of_scope and d.out_of_scope_reason is None


# -------------------------------------------------------------- emergency

@pytest.mark.parametrize(
    "text, kind, target",
    [
        ("着火了着火了，快来人", "fire", "119"),
        ("着火 了 着火 了 四龙路", "fire", "119"),                  # raw ASR spacing
        ("隔壁冒黑烟，是不是着火了", "fire", "119"),                # a question is no negation
        ("我家煤气泄漏了，满屋子都是煤气味", "gas_leak", "119"),
        ("前面出车祸了，有人受伤了", "traffic", "122"),              # a crash is 122's even with injuries
        ("小孩掉到河里了", "drowning", "120"),                      # drowning is 120's (issue 17 taxonomy)
        ("救命啊，有人拿刀砍人", "weapon", "110"),
        ("我刚才被人抢劫了，人往北跑了", "robbery", "110"),         # just now still counts
        ("我爸突然晕倒了叫不醒", "unconscious", "120"),
    ],
)
def test_emergency_detected(text, kind, target):
    found = detect_emergency(text)
    assert found and found["kind"] == kind and found["target"] == target and found["phrase"]
    d = draft_ticket(text, BAIYIN, at=WEDNESDAY_10AM)
    assert d.emergency == found and d.urgency == "immediate" and d.category == "求助"
    assert d.deadline == WEDNESDAY_10AM.isoformat()


@pytest.mark.parametrize(
    "text",
    [
        "上次着火的隐患还没整改",                 # past, and a hazard
        "去年我家着火，保险到现在不赔",           # past
        "没有着火，就是烟味大",                   # negation
        "不是着火，是烧烤的油烟",
        "这要是着火了谁跑得出去",                 # hypothesis
        "如果家里着火了物业管不管",
        "那个司机简直就是抢劫",                   # figure of speech
        "这是我的救命钱",
        "火灾隐患举报",
        "我上次出车祸受了伤，保险公司不赔",
        "",
    ],
)
def test_no_false_emergency(text):
    assert detect_emergency(text) is None
    assert draft_ticket(text, BAIYIN, at=WEDNESDAY_10AM).emergency is None


def test_emergency_detection_is_cheap_enough_for_every_partial():
    partials = ["喂你好我想问一下公积金怎么提取需要带什么材料"[:n] for n in range(1, 24)] * 200
    # CPU time of this thread, not the wall clock: other jobs on the machine (xdist workers,
    # CI neighbours) must not decide the test. The live path checks every partial (~5 a second).
    start = time.thread_time()
    for p in partials:
        detect_emergency(p)
    per_call = (time.thread_time() - start) / len(partials)
    print(f"\ndetect_emergency: {per_call * 1e6:.1f} µs of CPU per partial transcript")
    assert per_call < 0.001


# ---------------------------------------------------------------- urgency

def test_night_construction_by_words_or_by_the_clock():
    said = "旁边工地现在还在施工，吵死了"
    night = dt.datetime(2024, 11, 20, 23, 10, tzinfo=CST)
    assert draft_ticket(said, BAIYIN, at=night).urgency == "immediate"
    assert draft_ticket(said, BAIYIN, at=WEDNESDAY_10AM).urgency == "5workdays"
    assert draft_ticket("工地半夜施工，吵得睡不着", BAIYIN, at=WEDNESDAY_10AM).urgency == "immediate"


@pytest.mark.parametrize(
    "text, urgency",
    [
        ("我们家停水了", "30min"),
        ("暖气一点都不热", "30min"),
        ("加油站旁边私自卖散装汽油，安全隐患很大", "same_day"),
        ("井盖没了，很危险", "3days"),
        ("我们公司想问一下稳岗补贴", "15workdays"),
        ("一企来吗，想了解招商政策", "15workdays"),
        ("我们公司拖欠我三个月工资", "5workdays"),     # an employee, not the company
        ("公积金怎么提取", "5workdays"),
    ],
)
def test_urgency_rules(text, urgency):
    assert draft_ticket(text, BAIYIN, at=WEDNESDAY_10AM).urgency == urgency


# -------------------------------------------------------------- deadlines

@pytest.fixture
def utc_process(monkeypatch):
    """Run with the process in UTC, as servers often are: results must not move."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_deadlines_use_hotline_time_not_process_time(utc_process):
    # Thursday 16:30 UTC is Friday 00:30 in Shanghai: the count starts from Friday.
    at = dt.datetime(2024, 11, 21, 16, 30, tzinfo=dt.timezone.utc)
    assert deadline("5workdays", at, "Asia/Shanghai").isoformat() == "2024-11-29T23:59:59+08:00"
    assert deadline("same_day", at, "Asia/Shanghai").isoformat() == "2024-11-22T23:59:59+08:00"
    assert deadline("immediate", at, "Asia/Shanghai").isoformat() == "2024-11-22T00:30:00+08:00"


def test_deadlines_across_midnight_and_weekends(utc_process):
    late_friday = dt.datetime(2024, 11, 22, 23, 45, tzinfo=CST)
    assert deadline("30min", late_friday, "Asia/Shanghai").isoformat() == "2024-11-23T00:15:00+08:00"
    assert deadline("3days", late_friday, "Asia/Shanghai").isoformat() == "2024-11-25T23:59:59+08:00"
    # Friday: Mon 25 .. Fri 29 are the five working days.
    assert deadline("5workdays", late_friday, "Asia/Shanghai").date() == dt.date(2024, 11, 29)
    # Saturday and Sunday calls count from Monday too.
    saturday = dt.datetime(2024, 11, 23, 9, 0)  # naive = hotline time
    assert deadline("5workdays", saturday, "Asia/Shanghai").date() == dt.date(2024, 11, 29)
    assert deadline("15workdays", saturday, "Asia/Shanghai").date() == dt.date(2024, 12, 13)


def test_holidays_and_make_up_workdays(tmp_path):
    # National Day 2024: Oct 1-7 off; Sunday Sep 29 and Saturday Oct 12 worked (调休).
    f = tmp_path / "cal.yaml"
    f.write_text("holidays: [2024-10-01, 2024-10-02, 2024-10-03, 2024-10-04, 2024-10-07]\n"
                 "workdays: [2024-09-29, 2024-10-12]\n", encoding="utf-8")
    cal = WorkCalendar.from_file(f)
    # From Friday Sep 27: Sep 29, Sep 30, Oct 8, Oct 9, Oct 10.
    assert add_workdays(dt.date(2024, 9, 27), 5, cal) == dt.date(2024, 10, 10)
    assert add_workdays(dt.date(2024, 9, 27), 5) == dt.date(2024, 10, 4)
    d = draft_ticket("公积金怎么提取", BAIYIN, at=dt.datetime(2024, 9, 27, 15, 0, tzinfo=CST), calendar=cal)
    assert d.deadline == "2024-10-10T23:59:59+08:00"


@pytest.mark.parametrize("content", ["holidays: [not-a-date]\n", "- 2024-10-01\n", "vacations: []\n"])
def test_bad_holiday_file_is_a_clear_error(tmp_path, content):
    f = tmp_path / "cal.yaml"
    f.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError):
        WorkCalendar.from_file(f)


def test_unknown_urgency_is_rejected():
    with pytest.raises(ValueError, match="unknown urgency"):
        deadline("someday", WEDNESDAY_10AM, "Asia/Shanghai")


# ------------------------------------------------------------ the draft

def test_draft_fields_and_json():
    d = draft_ticket("喂，你好，那个我们家从早上就停水了，白银区公园路金鱼小区三号楼二单元，电话幺三九幺二三四五六七八",
                     BAIYIN, at=WEDNESDAY_10AM, caller="13900001111")
    data = json.loads(json.dumps(d.to_dict(), ensure_ascii=False))
    assert data["category"] == "求助" and data["department"] == "市住建局" and data["department_line"] == "housing-12319"
    assert data["urgency"] == "30min" and data["deadline"] == "2024-11-20T10:30:00+08:00"
    assert data["address"] == "白银区公园路金鱼小区3号楼2单元" and data["phone"] == "13912345678"
    assert data["caller"] == "13900001111" and data["emergency"] is None and data["out_of_scope"] is False
    assert data["summary"].startswith("我们家从早上就停水了") and len(data["summary"]) <= 40
    assert "housing:停水" in data["keywords"]


@pytest.mark.parametrize("text", ["", "   ", "嗯", "？？？", "a" * 5000])
def test_odd_input_still_drafts(text):
    d = draft_ticket(text, BAIYIN, at=WEDNESDAY_10AM)
    assert d.category in ("咨询", "求助", "投诉", "举报", "意见建议") and d.department
    assert len(d.summary) <= 40


# -------------------------------------------------------------------- CLI

def test_cli_prints_one_json_object(capsys):
    rc = cli_main(["ticket", "draft", "我要举报白银区五一街有个小卖部卖假烟", "-c", str(DATA / "ticket_baiyin.yaml"),
                   "--at", "2024-11-22T17:00:00+08:00"])
    out = capsys.readouterr().out
    assert rc == 0 and out.count("\n") == 1
    data = json.loads(out)
    assert {k: data[k] for k in ("category", "department", "urgency", "deadline", "address", "phone",
                                 "out_of_scope", "emergency")} == {
        "category": "举报", "department": "市烟草专卖局", "urgency": "5workdays",
        "deadline": "2024-11-29T23:59:59+08:00", "address": "白银区五一街", "phone": None,
        "out_of_scope": False, "emergency": None}


def test_cli_uses_hotline_config_env_and_reports_bad_input(capsys, monkeypatch):
    monkeypatch.setenv("HOTLINE_CONFIG", str(DATA / "ticket_yancheng.yaml"))
    assert cli_main(["ticket", "draft", "公积金怎么提取", "--at", "2024-11-20T10:00:00"]) == 0
    assert json.loads(capsys.readouterr().out)["department"] == "市公积金管理中心"
    assert cli_main(["ticket", "draft", "x", "--at", "yesterday"]) == 2
    assert "--at" in capsys.readouterr().err
    assert cli_main(["ticket", "draft", "x", "--line", "no-such-line"]) == 2
    assert "no-such-line" in capsys.readouterr().err
    monkeypatch.setenv("HOTLINE_CONFIG", os.devnull + ".missing")
    with pytest.raises(SystemExit) as exc:
        cli_main(["ticket", "draft", "x"])
    assert exc.value.code == 2
