"""`hotline plan route` and `hotline plan import` as an operator runs them (subprocess)."""
from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import yaml

from ivr.config.loader import load_config
from ivr.plan import Plan

DATA = Path(__file__).parents[1] / "data"
YANCHENG = DATA / "yancheng.yaml"
SHIPPED = Path(__file__).resolve().parents[2] / "config.yaml"


def hotline(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ivr.cli", *args], capture_output=True, text=True,
                          timeout=60, env=env)


def test_what_happens_if_someone_dials_12328_on_1_december():
    proc = hotline("plan", "route", "12328", "--at", "2021-12-01T10:00", "-c", str(YANCHENG))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1  # one JSON object, nothing else on stdout
    d = json.loads(lines[0])
    assert (d["line"], d["mode"], d["phase"], d["action"]) == (
        "line-12328", "full_merge", "transition", "prompt_then_forward")
    assert (d["queue"], d["overflow_queue"], d["overflow_after"]) == ("line-12328-expert", "general", 30)
    assert d["department"] == "市交通局"  # ensure_ascii=False: readable Chinese
    assert "市交通局" in proc.stdout
    assert d["at"] == "2021-12-01T10:00:00+08:00"


def test_route_defaults_to_now():
    proc = hotline("plan", "route", "12366", "-c", str(YANCHENG))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["action"] == "forward"  # the sub-center is active since 2021


def test_route_bad_config_prints_the_config_error(tmp_path):
    bad = tmp_path / "config.yaml"
    bad.write_text("hotline:\n  name: x\nlines:\n  - id: a\n    name: a\n    numbers: ['12315']\n"
                   "    department: d\n    mode: full\n    effective: 2026-11-21\n", encoding="utf-8")
    proc = hotline("plan", "route", "12315", "-c", str(bad))
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert f"{bad}:8" in proc.stderr and "mode" in proc.stderr


def test_route_bad_at():
    proc = hotline("plan", "route", "12315", "--at", "1 December", "-c", str(YANCHENG))
    assert proc.returncode == 2 and "--at" in proc.stderr and proc.stdout == ""


def test_route_masks_the_caller_in_logs():
    proc = hotline("-v", "plan", "route", "12315", "--caller", "13912345678", "--at", "2021-12-01",
                   "-c", str(YANCHENG))
    assert proc.returncode == 0, proc.stderr
    assert "139******78" in proc.stderr
    assert "13912345678" not in proc.stderr + proc.stdout


def test_import_writes_a_config_that_loads_and_lists_decisions(tmp_path):
    out = tmp_path / "config.yaml"
    proc = hotline("plan", "import", str(DATA / "baiyin_merge_list.csv"), "--effective-from", "2021-09-01",
                   "--transition-days", "30", "--city", "白银", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    assert "NEEDS A HUMAN DECISION" in proc.stderr and "\n 1. " in proc.stderr
    assert "line-12315" in proc.stderr
    config = load_config(out, env={})
    assert config.hotline.city == "白银" and len(config.lines) == 17


def test_import_to_stdout_reproduces_the_committed_yancheng_file():
    proc = hotline("plan", "import", str(DATA / "yancheng_merge_list.csv"), "--effective-from", "2021-11-20",
                   "--transition-days", "30", "--city", "盐城")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == YANCHENG.read_text(encoding="utf-8")


def test_import_reads_gb18030_csv(tmp_path):
    csv = tmp_path / "list.csv"
    csv.write_bytes((DATA / "yancheng_merge_list.csv").read_text(encoding="utf-8").encode("gb18030"))
    proc = hotline("plan", "import", str(csv), "--effective-from", "2021-11-20", "--transition-days", "30")
    assert proc.returncode == 0, proc.stderr
    assert yaml.safe_load(proc.stdout)["lines"][0]["name"] == "全国统一民政服务电话"


def test_import_malformed_csv_exit_2_with_line(tmp_path):
    csv = tmp_path / "list.csv"
    csv.write_text("mode,seq,name,number,department,levels,note\n整体并入,1,民政,12349,市民政局,,\n"
                   "整体并入,2,商务,12-31-2,市商务局,,\n", encoding="utf-8")
    proc = hotline("plan", "import", str(csv), "--effective-from", "2021-11-20", "--transition-days", "30")
    assert proc.returncode == 2
    assert "CSV line 3" in proc.stderr and "12-31-2" in proc.stderr
    assert proc.stdout == ""


def test_import_bad_arguments(tmp_path):
    proc = hotline("plan", "import", str(DATA / "yancheng_merge_list.csv"), "--effective-from", "20.11.2021",
                   "--transition-days", "30")
    assert proc.returncode == 2 and "YYYY-MM-DD" in proc.stderr
    missing = hotline("plan", "import", str(tmp_path / "nope.csv"), "--effective-from", "2021-11-20",
                      "--transition-days", "30")
    assert missing.returncode == 2 and "cannot read" in missing.stderr


def test_shipped_config_12328_on_1_december():
    # Baiyin: 12328 is a dual-number line (座席并入) live since 15 November.
    proc = hotline("plan", "route", "12328", "--at", "2026-12-01T10:00", "-c", str(SHIPPED))
    assert proc.returncode == 0, proc.stderr
    d = json.loads(proc.stdout)
    assert (d["mode"], d["phase"], d["action"], d["queue"]) == ("dual_number", "active", "queue", "general")
    assert d["department"] == "市交通运输局"


def test_shipped_config_every_number_decides_in_every_phase():
    config = load_config(SHIPPED, env={})
    plan = Plan(config)
    numbers = [n for line in config.lines for n in [*line.numbers, *line.aliases]]
    for day in ("2026-10-01", "2026-11-20", "2026-12-20", "2027-06-01"):
        at = dt.datetime.fromisoformat(day + "T12:00:00+08:00")
        for number in numbers:
            d = plan.decide(number, at)
            assert d.mode in ("full_merge", "dual_number", "sub_center") and d.line
            assert d.dial or d.queue or d.target == "hangup", d
