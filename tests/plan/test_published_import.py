"""Merge lists as cities publish them: the two real annexes, and a table with every layout quirk."""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from ivr.config.loader import load_config
from ivr.plan import Plan
from ivr.plan.importer import import_file
from ivr.plan.render import render_yaml
from ivr.plan.merge_list import MergeListError

# The two annexes as published (copies of ../shared/reference/*_published.*) and our CSV versions of them.
PUBLISHED = Path(__file__).parent / "data"
OURS = Path(__file__).resolve().parents[1] / "data"
SH = ZoneInfo("Asia/Shanghai")
EFFECTIVE = dt.date(2021, 11, 20)


def imported(path: Path, days: int = 30, **kw):
    return import_file(path, effective_from=EFFECTIVE, transition_days=days, **kw)


def plan_of(result, tmp_path: Path) -> Plan:
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "config.yaml"
    path.write_text(render_yaml(result), encoding="utf-8")
    return Plan(load_config(path, env={}))


def without_place(text: str) -> str:
    return re.sub(r"^(CSV line \d+|\S+ (工作表「[^」]*」 )?第 \d+ 行)", "@", text)


@pytest.mark.parametrize("published, ours, footnotes", [
    ("baiyin_published.xlsx", "baiyin_merge_list.csv", []),
    ("yancheng_published.tsv", "yancheng_merge_list.csv", ["注：热线号码在一些地区已经取消的，原则上不再恢复。"]),
])
def test_published_annex_imports_like_our_csv(published, ours, footnotes, tmp_path):
    pub, csv = imported(PUBLISHED / published), imported(OURS / ours)
    assert pub.config == csv.config  # same lines, numbers, modes, seats, queues, dates, names, notes
    reported = [d for d in pub.decisions if "footnote" in d]
    assert [d.split("「", 1)[1].rstrip("」") for d in reported] == footnotes
    rest = [d for d in pub.decisions if d not in reported]
    assert [without_place(d) for d in rest] == [without_place(d) for d in csv.decisions]
    # ...and the config routes every number the same way in every phase.
    a, b = plan_of(pub, tmp_path / "a"), plan_of(csv, tmp_path / "b")
    for line in csv.config["lines"]:
        for day in (dt.date(2021, 11, 19), dt.date(2021, 12, 1), dt.date(2022, 1, 1)):
            at = dt.datetime(day.year, day.month, day.day, 10, tzinfo=SH)
            assert a.decide(line["numbers"][0], at) == b.decide(line["numbers"][0], at)


def test_baiyin_workbook_details():
    result = imported(PUBLISHED / "baiyin_published.xlsx")
    lines = {ln["id"]: ln for ln in result.config["lines"]}
    assert len(lines) == 17
    # Wrapped cells fold: no line break, no stray space between Chinese characters.
    assert lines["line-12312"]["name"] == "全国统一商务领域举报投诉咨询服务电话"
    assert lines["line-12333"]["notes"] == "座席并入，设专家坐席"
    assert (lines["line-12333"]["mode"], lines["line-12333"]["seats"], lines["line-12333"]["queue"]) == (
        "dual_number", "pooled", "line-12333-expert")
    assert lines["line-12315"]["seats"] == "retained"
    assert lines["line-12313"]["mode"] == "sub_center"  # header 「备 注」 with a space still read


def test_yancheng_repeated_header_and_sections():
    result = imported(PUBLISHED / "yancheng_published.tsv")
    modes = [(ln["numbers"][0], ln["mode"]) for ln in result.config["lines"]]
    assert len(modes) == 30 and modes[17] == ("88880110", "full_merge")  # the row after the repeated header
    assert modes[-1] == ("12366", "sub_center")
    assert not any("序号" in str(ln) for ln in result.config["lines"])


# --- a table with every quirk -------------------------------------------------

QUIRKS = [
    ["某市12345热线整合归并清单", "", "", "", "", "", "", ""],
    ["（2021年11月）", "", "", "", "", "", "", ""],
    ["（一）整体并入（3 条）", "", "", "", "", "", "", ""],
    ["序号", "热线名称", "号码", "责任单位", "热线层级", "国家归并要求", "省级归并措施", "市级归并方案"],
    ["1", "全国统一民政\n服务电话", "12349", "市民政局", "省市两级", "整体并入", "保留号码", ""],
    ["2", "某市旅游服务电话", "88348666-1、88348667", "市文广旅局", "", "", "", ""],
    ["3", "交通服务热线", "96196", "市交通局", "", "", "设置专家座席", "座席并入"],
    ["", "", "96197", "", "", "", "", ""],
    ["（二）双号并行", "", "", "", "", "", "", ""],
    ["序号", "热线名称", "号码", "责任单位", "热线层级", "国家归并要求", "省级归并措施", "市级归并方案"],
    ["1", "12315市场监管投诉举报热线", "12315", "市市场监管局", "", "", "", "保留座席"],
    ["三、设分中心", "", "", "", "", "", "", ""],
    ["1", "全国税务系统统一电话", "12366", "市税务局", "", "", "", ""],
    ["注：热线号码在一些地区已经取消的，原则上不再恢复。", "", "", "", "", "", "", ""],
    ["2. 本表由市政务服务中心负责解释。", "", "", "", "", "", "", ""],
]


def shown_row(n: int, fmt: str) -> int:
    """Row n as the file shows it: in text files row 5's wrapped name takes two lines."""
    return n + 1 if fmt != "xlsx" and n > 5 else n


def write_table(tmp_path: Path, rows: list[list[str]], fmt: str) -> Path:
    if fmt == "xlsx":
        path = tmp_path / "清单.xlsx"
        book = openpyxl.Workbook()
        sheet = book.active
        sheet.title = "附件1"
        for row in rows:
            sheet.append([int(c) if c.isdigit() else (c or None) for c in row])
        for i, row in enumerate(rows[1:], 2):  # a number-only row: the cells above it merged over it, as printed
            if row[2].isdigit() and not any(c for j, c in enumerate(row) if j != 2):
                for col in "ABDEFGH"[:len(row) - 1]:
                    sheet.merge_cells(f"{col}{i - 1}:{col}{i}")
        book.save(path)
    elif fmt == "gb18030.csv":
        path = tmp_path / "清单.csv"
        path.write_bytes(_csv(rows, ",").encode("gb18030"))
    else:
        path = tmp_path / "清单.tsv"
        path.write_text("\ufeff" + _csv(rows, "\t"), encoding="utf-8")
    return path


def _csv(rows: list[list[str]], sep: str) -> str:
    def q(c: str) -> str:
        return f'"{c}"' if any(ch in c for ch in f'{sep}"\n') else c
    return "".join(sep.join(q(c) for c in row) + "\n" for row in rows)


@pytest.mark.parametrize("fmt", ["xlsx", "gb18030.csv", "utf8.tsv"])
def test_every_layout_quirk(fmt, tmp_path):
    path = write_table(tmp_path, QUIRKS, fmt)
    result = imported(path)
    lines = {ln["id"]: ln for ln in result.config["lines"]}
    assert list(lines) == ["line-12349", "line-88348666-1", "line-96196", "line-12315", "line-12366"]
    assert lines["line-12349"]["name"] == "全国统一民政服务电话"
    assert lines["line-88348666-1"]["numbers"] == ["88348666-1", "88348667"]  # 「、」 list
    assert lines["line-96196"]["numbers"] == ["96196", "96197"]                  # number-only row continues
    assert lines["line-96196"]["notes"] == "座席并入"    # 市级 wins over 省级
    assert lines["line-12349"]["notes"] == "保留号码"    # 省级 wins over 国家
    assert [lines[i]["mode"] for i in lines] == ["full_merge"] * 3 + ["dual_number", "sub_center"]
    assert lines["line-12315"]["seats"] == "retained"
    sheet = " 工作表「附件1」" if fmt == "xlsx" else ""
    name = path.name
    reported = [d for d in result.decisions if "not imported" in d or "overridden" in d]
    assert f"{name}{sheet} 第 {shown_row(14, fmt)} 行: 脚注未导入，请阅读并按需处理 (footnote, not imported): 「注：热线号码在一些地区" \
           "已经取消的，原则上不再恢复。」" in reported
    assert any(d.startswith(f"{name}{sheet} 第 {shown_row(15, fmt)} 行") and "本表由" in d for d in reported)
    assert any(d.startswith(f"{name}{sheet} 第 {shown_row(7, fmt)} 行") and "「省级归并措施」(设置专家座席)" in d for d in reported)
    assert not any("某市12345" in d or "2021年11月" in d for d in result.decisions)  # titles skipped
    plan = plan_of(result, tmp_path)
    at = dt.datetime(2021, 12, 1, 10, tzinfo=SH)
    assert plan.decide("96197", at).line == "line-96196"
    assert plan.decide("88348667", at).line == "line-88348666-1"


@pytest.mark.parametrize("fmt", ["xlsx", "utf8.tsv"])
@pytest.mark.parametrize("bad, message", [
    (["4", "某热线", "1234x", "市某局", "", "", "", ""], "号码格式不对 '1234x'"),
    (["4", "某热线", "12399", "", "", "", "", ""], "「责任单位」为空"),
    (["4", "", "12399", "市某局", "", "", "", ""], "「名称」为空"),
])
def test_unreadable_row_names_file_sheet_and_row(fmt, bad, message, tmp_path):
    path = write_table(tmp_path, QUIRKS[:5] + [bad] + QUIRKS[5:], fmt)
    with pytest.raises(MergeListError) as exc:
        imported(path)
    sheet = " 工作表「附件1」" if fmt == "xlsx" else ""
    assert str(exc.value).startswith(f"{path.name}{sheet} 第 {shown_row(6, fmt)} 行: {message}")


def test_number_only_row_right_after_a_section_is_an_error(tmp_path):
    # row 7 of the table; line 8 of the file (row 5 has a wrapped name)
    path = write_table(tmp_path, QUIRKS[:5] + [["（四）其他"] + [""] * 7, ["", "", "12398"] + [""] * 5], "utf8.tsv")
    with pytest.raises(MergeListError, match=r"^清单.tsv 第 8 行: 只有号码的行上面没有热线"):
        imported(path)


def test_control_character_is_refused_with_its_place(tmp_path):
    rows = QUIRKS[:4] + [["1", "民政\x1b[2J热线", "12349", "市民政局", "", "", "", ""]]
    path = write_table(tmp_path, rows, "utf8.tsv")
    with pytest.raises(MergeListError) as exc:
        imported(path)
    assert str(exc.value).startswith(f"{path.name} 第 5 行 第 2 列: 单元格含控制字符 U+001B")


def test_wrapped_note_and_name_in_our_own_csv_layout(tmp_path):
    path = tmp_path / "list.csv"
    path.write_text('mode,seq,name,number,department,levels,note\n'
                    '双号并行,1,"全国交通运输服务\r\n监督电话",12328,市交通运输局,,"座席并入，\n设专家坐席"\n'
                    '双号并行,2,"Traffic\nhotline",12329,市交通运输局,,\n', encoding="utf-8")
    lines = imported(path).config["lines"]
    assert (lines[0]["name"], lines[0]["notes"], lines[0]["queue"]) == (
        "全国交通运输服务监督电话", "座席并入，设专家坐席", "line-12328-expert")
    assert lines[1]["name"] == "Traffic hotline"


def test_number_lists_in_our_own_csv_layout(tmp_path):
    path = tmp_path / "list.csv"
    path.write_text("mode,seq,name,number,department,levels,note\n"
                    "整体并入,1,旅游服务电话,88348666-1、88348667,市文广旅局,,\n"
                    "整体并入,2,民政服务电话,12349、110,市民政局,,\n", encoding="utf-8")
    result = imported(path)
    assert [ln["numbers"] for ln in result.config["lines"]] == [["88348666-1", "88348667"], ["12349"]]
    assert any(d.startswith("CSV line 3 (民政服务电话, 110): 110 is an emergency number") for d in result.decisions)


def test_not_a_workbook(tmp_path):
    path = tmp_path / "x.xlsx"
    path.write_bytes(b"not a zip")
    with pytest.raises(MergeListError, match=r"^x.xlsx: 不是可读的 XLSX 工作簿"):
        imported(path)


def test_long_table_reports_progress(tmp_path):
    rows = QUIRKS[:4] + [[str(i), f"热线{i}", str(20000 + i), "某局", "", "", "", ""] for i in range(1, 601)]
    messages: list[str] = []
    result = imported(write_table(tmp_path, rows, "xlsx"), progress=messages.append)
    assert len(result.config["lines"]) == 600
    assert messages == ["已读取 清单.xlsx 工作表「附件1」：604 行，共 600 条热线"]


def test_merged_department_and_mode_cells(tmp_path):
    # One 责任单位 and one 归并方式 cell merged over several lines, as printed annexes often do.
    path = tmp_path / "merged.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["序号", "名称", "号码", "责任单位", "归并方式", "备注"])
    sheet.append([1, "全国统一知识产权维权援助公益服务电话", 12330, "市市场监管局", "整体并入", None])
    sheet.append([2, "全国统一食品药品监督举报服务电话", 12331, None, None, None])
    sheet.append([3, "全国价格投诉举报统一电话", 12358, None, None, None])
    sheet.append([4, "全国交通运输服务监督电话", 12328, "市交通运输局", "双号并行", "座席并入"])
    sheet.append([None, None, 96196, None, None, None])
    sheet.merge_cells("D2:D4")
    sheet.merge_cells("E2:E4")
    for col in "ABDEF":
        sheet.merge_cells(f"{col}5:{col}6")
    book.save(path)
    lines = imported(path).config["lines"]
    assert [(ln["numbers"], ln["department"], ln["mode"]) for ln in lines] == [
        (["12330"], "市市场监管局", "full_merge"), (["12331"], "市市场监管局", "full_merge"),
        (["12358"], "市市场监管局", "full_merge"), (["12328", "96196"], "市交通运输局", "dual_number")]
    assert lines[3]["notes"] == "座席并入"
