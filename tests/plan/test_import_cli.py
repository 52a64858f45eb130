"""`hotline plan import` on published annexes, as an operator runs it (subprocess)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ivr.config.loader import load_config

ROOT = Path(__file__).resolve().parents[2]
PUBLISHED = ROOT / "tests" / "plan" / "data"


def hotline(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "ivr.cli", *args], capture_output=True, text=True,
                          timeout=60, env=env, cwd=ROOT)


def test_import_published_workbook(tmp_path):
    out = tmp_path / "config.yaml"
    proc = hotline("plan", "import", str(PUBLISHED / "baiyin_published.xlsx"), "--effective-from", "2021-09-01",
                   "--transition-days", "30", "--city", "白银", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "NEEDS A HUMAN DECISION" in proc.stderr
    config = load_config(out, env={})
    assert len(config.lines) == 17 and config.lines[0].name == "全国统一商务领域举报投诉咨询服务电话"
    check = hotline("config", "check", "-c", str(out))
    assert check.returncode == 0, check.stderr


def test_import_published_tsv_reports_the_footnote():
    proc = hotline("plan", "import", str(PUBLISHED / "yancheng_published.tsv"), "--effective-from", "2021-11-20",
                   "--transition-days", "30")
    assert proc.returncode == 0, proc.stderr
    assert "yancheng_published.tsv 第 37 行: 脚注未导入" in proc.stderr


def test_unreadable_row_exit_2_names_the_place(tmp_path):
    path = tmp_path / "附件.tsv"
    path.write_text("序号\t名称\t号码\t责任单位\n1\t民政热线\t12349\t市民政局\n2\t商务热线\t12-31-2\t市商务局\n",
                    encoding="utf-8")
    proc = hotline("plan", "import", str(path), "--effective-from", "2021-11-20", "--transition-days", "30")
    assert proc.returncode == 2 and proc.stdout == ""
    assert "附件.tsv 第 3 行: 号码格式不对 '12-31-2'" in proc.stderr


def test_city_with_a_control_character_is_refused():
    proc = hotline("plan", "import", str(ROOT / "tests" / "data" / "yancheng_merge_list.csv"), "--effective-from", "2021-11-20",
                   "--transition-days", "30", "--city", "盐城\nexten => 1,1,System(id)")
    assert proc.returncode == 2 and proc.stdout == "" and proc.stderr.startswith("--city: ")


def test_city_phrases_file(tmp_path):
    path = tmp_path / "list.tsv"
    path.write_text("二、双号并行\n序号\t名称\t号码\t责任单位\t备注\n1\t某热线\t12399\t市某局\t部门自接\n", encoding="utf-8")
    args = ("plan", "import", str(path), "--effective-from", "2021-11-20", "--transition-days", "30")
    assert "'部门自接' not understood" in hotline(*args).stderr
    phrases = tmp_path / "phrases.yaml"
    phrases.write_text("- {effect: retained, pattern: 部门自接, meaning: 部门自己接听}\n", encoding="utf-8")
    proc = hotline(*args, "--phrases", str(phrases))
    assert proc.returncode == 0, proc.stderr
    assert "not understood" not in proc.stderr and "line-12399: 「部门自接」→ 部门自己接听" in proc.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("- {effect: magic, pattern: x}\n", encoding="utf-8")
    assert hotline(*args, "--phrases", str(bad)).returncode == 2


def test_row_without_any_mode_is_not_imported(tmp_path):
    path = tmp_path / "list.tsv"
    path.write_text("序号\t名称\t号码\t责任单位\n1\t某热线\t12399\t市某局\n", encoding="utf-8")
    proc = hotline("plan", "import", str(path), "--effective-from", "2021-11-20", "--transition-days", "30")
    assert proc.returncode == 0, proc.stderr
    assert "list.tsv 第 2 行 (某热线, 12399): no mode (no section row such as 「一、整体并入」" in proc.stderr
