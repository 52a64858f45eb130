"""`hotline plan enterprises import`: a city's 一企来 register as it keeps it becomes the
numbers file config.yaml names, and those callers are then routed as enterprises."""
from __future__ import annotations

import datetime as dt

import openpyxl

from ivr.config.loader import load_config
from ivr.plan.decide import Plan
from ivr.plan.enterprises import read_register
from ivr.plan.tables import read_grids, text_grid
from tests.plan.test_import_cli import hotline

REGISTER = "一企来重点企业名录（2026年第4期）\n序号,企业名称,联系电话\n1,甲制造有限公司,13800000001\n" \
           "2,乙商贸有限公司,\"0943-8221234、+86 138 0000 0003\"\n,,\n3,丙公司,\n4,丁公司,13800000001\n"


def test_register_as_kept_headers_title_lists_and_duplicates():
    reg = read_register([text_grid(REGISTER, "名录.csv")])
    assert reg.numbers == {"13800000001": "甲制造有限公司", "09438221234": "乙商贸有限公司",
                           "13800000003": "乙商贸有限公司"}
    assert reg.errors == []
    assert reg.reported == ["名录.csv 第 6 行: 没有号码，跳过 (no number, skipped)：丙公司",
                            "名录.csv 第 7 行: 号码重复 13800000001 (duplicate, first: 甲制造有限公司)"]


def test_headerless_table_and_bad_numbers_name_the_row():
    reg = read_register([text_grid("13800000001,甲\n1234x,乙\n12,丙\n", "raw.csv")])
    assert list(reg.numbers) == ["13800000001"]
    assert reg.errors == ["raw.csv 第 2 行: 号码格式不对 '1234x' (5-20 digits, +86 allowed)",
                          "raw.csv 第 3 行: 号码格式不对 '12' (5-20 digits, +86 allowed)"]


def test_xlsx_sheet_and_row_in_errors(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "企业"
    for row in (["企业名称", "电话"], ["甲公司", "13800000001"], ["乙公司", "phone?"]):
        sheet.append(row)
    book.save(tmp_path / "名录.xlsx")
    reg = read_register(read_grids(tmp_path / "名录.xlsx"))
    assert reg.errors == ["名录.xlsx 工作表「企业」 第 3 行: 号码格式不对 'phone?' (5-20 digits, +86 allowed)"]


def test_cli_writes_the_numbers_file_the_config_loads(tmp_path):
    (tmp_path / "名录.csv").write_bytes(REGISTER.encode("gb18030"))   # as Chinese Excel saves it
    out = tmp_path / "enterprises.yaml"
    proc = hotline("plan", "enterprises", "import", str(tmp_path / "名录.csv"), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "3 enterprise numbers" in proc.stderr and "第 7 行: 号码重复" in proc.stderr
    cfg = tmp_path / "config.yaml"   # next to the numbers file it names
    cfg.write_text("hotline: {name: 测试热线}\nqueues: [{id: general, name: 综合座席}]\n"
                   "trunks: {pstn: {type: local, context: sim-outside}}\n"
                   "enterprise: {numbers_file: enterprises.yaml}\n", encoding="utf-8")
    plan = Plan(load_config(cfg, env={}))
    now = dt.datetime(2026, 12, 1, 10, tzinfo=dt.timezone.utc)
    assert plan.decide("12345", now, caller="09438221234").tags == ("enterprise",)
    assert plan.decide("12345", now, caller="13912345678").tags == ()


def test_cli_refuses_to_write_with_a_bad_number(tmp_path):
    (tmp_path / "bad.csv").write_text("企业名称,联系电话\n甲,13800000001\n乙,1380x\n", encoding="utf-8")
    out = tmp_path / "enterprises.yaml"
    proc = hotline("plan", "enterprises", "import", str(tmp_path / "bad.csv"), "-o", str(out))
    assert proc.returncode == 2 and not out.exists()
    assert "bad.csv 第 3 行: 号码格式不对 '1380x'" in proc.stderr
