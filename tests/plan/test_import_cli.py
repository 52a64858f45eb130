"""`hotline plan import` on published annexes, as an operator runs it (subprocess)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ivr.config.loader import load_config

REFERENCE = Path("/work/shared/reference")
ROOT = Path(__file__).resolve().parents[2]


def hotline(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "ivr.cli", *args], capture_output=True, text=True,
                          timeout=60, env=env, cwd=ROOT)


def test_import_published_workbook(tmp_path):
    out = tmp_path / "config.yaml"
    proc = hotline("plan", "import", str(REFERENCE / "baiyin_published.xlsx"), "--effective-from", "2021-09-01",
                   "--transition-days", "30", "--city", "白银", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "NEEDS A HUMAN DECISION" in proc.stderr
    config = load_config(out, env={})
    assert len(config.lines) == 17 and config.lines[0].name == "全国统一商务领域举报投诉咨询服务电话"
    check = hotline("config", "check", "-c", str(out))
    assert check.returncode == 0, check.stderr


def test_import_published_tsv_reports_the_footnote():
    proc = hotline("plan", "import", str(REFERENCE / "yancheng_published.tsv"), "--effective-from", "2021-11-20",
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
