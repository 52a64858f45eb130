"""config.yaml loading and checking: every problem with its own line, the shipped plan, the CLI."""
from __future__ import annotations

import csv
import datetime as dt
import subprocess
from pathlib import Path

import pytest

from ivr.config.check import check_config
from ivr.config.destinations import Destination, DestinationError, parse_destination
from ivr.config.loader import ConfigError, Problem, default_config_path, load_config
from ivr.config.model import Mode, Seats

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "config.yaml"
HOTLINE = ROOT / ".venv" / "bin" / "hotline"
BAIYIN_CSV = Path("/work/shared/reference/baiyin_merge_list.csv")
CSV_MODES = {"整体并入": Mode.full_merge, "双号并行": Mode.dual_number, "设分中心": Mode.sub_center}

# A small valid file; the `lines:` entries a test appends start at line 15.
BASE = """\
hotline:
  name: 测试热线
  number: "12345"
queues:
  - id: general
    name: 综合座席
trunks:
  pstn: {type: local, context: sim-outside}
sub_centers:
  - id: tax
    name: 税务分中心
    trunk: pstn
    numbers: ["12366"]
lines:
"""

# One valid line (lines 15-20 when it is the first entry).
MARKET = """\
  - id: market-12315
    name: 12315市场监管投诉举报热线
    numbers: ["12315"]
    department: 市市场监管局
    mode: dual_number
    effective: 2026-11-15
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def problems(tmp_path: Path, text: str, env: dict | None = None) -> list[Problem]:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text), env=env or {})
    return info.value.problems


def only(found: list[Problem], field: str) -> Problem:
    matching = [p for p in found if p.field == field]
    assert len(matching) == 1, f"expected one problem on {field}, got: {[str(p) for p in found]}"
    return matching[0]


# --- good files ---------------------------------------------------------------

def test_base_and_one_line_pass(tmp_path):
    config = load_config(write(tmp_path, BASE + MARKET), env={})
    assert [ln.id for ln in config.lines] == ["market-12315"]
    assert config.lines[0].effective == dt.date(2026, 11, 15)


def test_shipped_config_is_baiyins_whole_plan():
    config = load_config(SHIPPED, env={})
    rows = list(csv.DictReader(BAIYIN_CSV.open(encoding="utf-8")))
    assert len(config.lines) == len(rows) == 17
    by_number = {ln.numbers[0]: ln for ln in config.lines}
    for row in rows:
        line = by_number[row["number"]]
        assert (line.name, line.department, line.levels) == (row["name"], row["department"], row["levels"])
        assert line.mode == CSV_MODES[row["mode"]]
        assert line.notes == row["note"]
    phases = {Mode.full_merge: dt.date(2026, 11, 1), Mode.dual_number: dt.date(2026, 11, 15),
              Mode.sub_center: dt.date(2026, 12, 15)}
    assert all(ln.effective == phases[ln.mode] for ln in config.lines)
    assert {ln.transition_end for ln in config.lines if ln.mode == Mode.full_merge} == {dt.date(2026, 12, 31)}
    assert config.line("hrss-12333").queue == "hrss-expert"
    hpf = config.line("hpf-12329")
    assert (hpf.seats, hpf.queue) == (Seats.retained, "hpf-expert") and hpf.department_target.startswith("trunk:pstn/0943")
    assert {q.id: q.overflow_to for q in config.queues} == {"general": None, "hrss-expert": "general", "hpf-expert": "general"}
    assert {s.id: s.numbers for s in config.sub_centers} == {"tax": ["12366"], "tobacco": ["12313"]}
    assert config.asterisk.ami.secret == ""
    assert check_config(config) == []


def test_env_overrides_file_and_cli_overrides_env(tmp_path):
    path = write(tmp_path, BASE + MARKET + "web:\n  port: 8080\n  tokens: {old: agent9}\n")
    env = {"HOTLINE_AMI_SECRET": "s3cret", "HOTLINE_DATABASE_URL": "sqlite:////tmp/x.db",
           "HOTLINE_WEB_TOKENS": " t1=agent1001 , t2=agent1002,", "HOTLINE_CONFIG": "x"}
    config = load_config(path, env=env, overrides={"web.port": 8081, "asterisk.ami.secret": "cli"})
    assert config.asterisk.ami.secret == "cli"
    assert config.database.url == "sqlite:////tmp/x.db"
    assert config.web.tokens == {"t1": "agent1001", "t2": "agent1002"}  # replaced, not merged
    assert config.web.port == 8081
    assert "cli" not in repr(config.asterisk) and "t1" not in repr(config.web)


def test_default_config_path():
    assert default_config_path({"HOTLINE_CONFIG": "/etc/hotline/config.yaml"}) == Path("/etc/hotline/config.yaml")
    assert default_config_path({}) == Path("config.yaml")


def test_unquoted_numbers_stay_text_with_leading_zero(tmp_path):
    line = MARKET.replace('["12315"]', "[12315, 0943123]")
    config = load_config(write(tmp_path, BASE + line), env={})
    assert config.lines[0].numbers == ["12315", "0943123"]


# --- one test per problem kind --------------------------------------------------

def test_unknown_mode_lists_allowed_modes_in_chinese(tmp_path):
    p = only(problems(tmp_path, BASE + MARKET.replace("dual_number", "merge")), "lines[0].mode")
    assert p.line == 19 and p.label == "market-12315"
    assert "'merge'" in p.reason and "full_merge (整体并入)" in p.reason and "sub_center (设分中心)" in p.reason


def test_number_on_two_lines_reported_at_second(tmp_path):
    second = MARKET.replace("market-12315", "market2").replace('["12315"]', '["12312", "12315"]')
    p = only(problems(tmp_path, BASE + MARKET + second), "lines[1].numbers[1]")
    assert p.line == 23
    assert "market-12315" in p.reason and "line 17" in p.reason


def test_alias_equal_to_main_hotline_number(tmp_path):
    text = BASE + MARKET + '    aliases: ["12345"]\n'
    p = only(problems(tmp_path, text), "lines[0].aliases[0]")
    assert p.line == 21 and "main hotline number" in p.reason


def test_sub_center_number_owned_by_its_line_but_not_by_another(tmp_path):
    tax_line = """\
  - id: tax-12366
    name: 全国税务系统统一电话
    numbers: ["12366"]
    department: 市税务局
    mode: sub_center
    sub_center: tax
    effective: 2026-12-15
"""
    load_config(write(tmp_path, BASE + tax_line), env={})  # the same place: no problem
    other = tax_line.replace("sub_center: tax", "seats: pooled").replace("mode: sub_center", "mode: dual_number")
    p = only(problems(tmp_path, BASE + other), "lines[0].numbers[0]")
    assert p.line == 17 and "sub-center tax" in p.reason and "line 13" in p.reason


@pytest.mark.parametrize("number", ["110", "119", "120", "122"])
def test_emergency_numbers_are_never_merged(tmp_path, number):
    text = BASE + MARKET + f"    aliases:\n      - \"12312\"\n      - \"{number}\"\n"
    p = only(problems(tmp_path, text), "lines[0].aliases[1]")
    assert p.line == 23 and "emergency numbers are never merged" in p.reason


def test_transition_end_before_effective(tmp_path):
    line = MARKET.replace("dual_number", "full_merge") + "    transition_end: 2026-11-14\n"
    p = only(problems(tmp_path, BASE + line), "lines[0].transition_end")
    assert p.line == 21 and "before effective" in p.reason


def test_transition_end_date_is_inclusive_last_day(tmp_path):
    # effective at 10:00, transition ending the same calendar day: still a valid (14 hour) transition.
    line = MARKET.replace("2026-11-15", "2026-11-15 10:00:00") + "    transition_end: 2026-11-15\n"
    config = load_config(write(tmp_path, BASE + line), env={})
    assert config.lines[0].transition_end == dt.date(2026, 11, 15)


@pytest.mark.parametrize(
    "extra, line, field, missing",
    [
        ("    queue: hrss-expert\n", 21, "lines[0].queue", "queue 'hrss-expert'"),
        ("    sub_center: tobacco\n", 21, "lines[0].sub_center", "sub-center 'tobacco'"),
        ('    department_target: "trunk:gateway/09438212315"\n', 21, "lines[0].department_target", "trunk 'gateway'"),
        ('    department_target: "subcenter:tobacco"\n', 21, "lines[0].department_target", "sub-center 'tobacco'"),
        ('    department_target: "queue:nope"\n', 21, "lines[0].department_target", "queue 'nope'"),
    ],
)
def test_reference_to_missing_thing_on_a_line(tmp_path, extra, line, field, missing):
    p = only(problems(tmp_path, BASE + MARKET + extra), field)
    assert p.line == line and f"unknown {missing}" in p.reason


@pytest.mark.parametrize(
    "text, line, field, missing",
    [
        (BASE.replace('  number: "12345"\n', '  number: "12345"\n  entry: {default: "queue:pool"}\n'),
         4, "hotline.entry.default", "queue 'pool'"),
        (BASE.replace('  number: "12345"\n', '  number: "12345"\n  entry:\n    options:\n'
                      '      "2": {label: 省级, target: "trunk:province/093112345"}\n'),
         6, "hotline.entry.options.2.target", "trunk 'province'"),
        (BASE.replace("    name: 综合座席\n", "    name: 综合座席\n    overflow_after: 30\n    overflow_to: expert\n"),
         8, "queues[0].overflow_to", "queue 'expert'"),
        (BASE.replace("    trunk: pstn\n", "    trunk: subcenter\n"), 12, "sub_centers[0].trunk", "trunk 'subcenter'"),
        (BASE + "  []\nemergency:\n  trunk: gw\n", 17, "emergency.trunk", "trunk 'gw'"),
        (BASE + "  []\nutilities:\n  - {number: \"09438220001\", name: 供水, trunk: water}\n",
         17, "utilities[0].trunk", "trunk 'water'"),
        (BASE + "  []\nprovincial:\n  number: \"093112345\"\n  name: 甘肃省12345\n  trunk: gansu\n",
         19, "provincial.trunk", "trunk 'gansu'"),
    ],
)
def test_reference_to_missing_thing_elsewhere(tmp_path, text, line, field, missing):
    p = only(problems(tmp_path, text), field)
    assert p.line == line and f"unknown {missing}" in p.reason


def test_malformed_destination(tmp_path):
    p = only(problems(tmp_path, BASE + MARKET + '    department_target: "pstn:12315"\n'), "lines[0].department_target")
    assert p.line == 21 and "malformed destination 'pstn:12315'" in p.reason


def test_every_malformed_number_with_its_own_line(tmp_path):
    line = MARKET.replace('    numbers: ["12315"]\n', '    numbers:\n      - "12315"\n      - "123a5"\n      - 8834-8666-1\n')
    found = problems(tmp_path, BASE + line + '    department_target: "trunk:pstn/12-x"\n')
    assert (only(found, "lines[0].numbers[1]").line, only(found, "lines[0].numbers[2]").line) == (19, 20)
    assert "malformed number '123a5'" in only(found, "lines[0].numbers[1]").reason
    assert only(found, "lines[0].department_target").line == 24
    assert len(found) == 3


def test_sub_center_mode_without_sub_center(tmp_path):
    p = only(problems(tmp_path, BASE + MARKET.replace("dual_number", "sub_center")), "lines[0].sub_center")
    assert p.line == 19 and "needs sub_center" in p.reason  # points at the mode


def test_retained_seats_without_department_target(tmp_path):
    p = only(problems(tmp_path, BASE + MARKET + "    seats: retained\n"), "lines[0].department_target")
    assert p.line == 21 and "保留座席" in p.reason  # points at seats


@pytest.mark.parametrize(
    "text, line, field",
    [
        (BASE + MARKET + MARKET.replace('"12315"', '"12312"'), 21, "lines[1].id"),
        (BASE.replace("    name: 综合座席\n", "    name: 综合座席\n  - id: general\n    name: again\n"), 7, "queues[1].id"),
        (BASE.replace("lines:\n", '  - {id: tax, name: x, trunk: pstn, numbers: ["12313"]}\nlines:\n  []\n'),
         14, "sub_centers[1].id"),
    ],
)
def test_duplicate_ids(tmp_path, text, line, field):
    p = only(problems(tmp_path, text), field)
    assert p.line == line and "duplicate id" in p.reason


def test_duplicate_yaml_key(tmp_path):
    p = only(problems(tmp_path, BASE + "  []\ntrunks:\n  gw: {type: pjsip, endpoint: gw}\n"), "trunks")
    assert p.line == 16 and "duplicate key 'trunks' (first at line 7)" in p.reason


def test_general_queue_must_exist(tmp_path):
    p = only(problems(tmp_path, BASE.replace("id: general", "id: pool") + MARKET), "queues")
    assert p.line == 4 and "'general'" in p.reason


def test_missing_field_points_at_its_item_and_typo_gets_a_hint(tmp_path):
    line = MARKET.replace("    department: 市市场监管局\n", "    departmnt: 市市场监管局\n")
    found = problems(tmp_path, BASE + line)
    assert only(found, "lines[0].department").line == 15
    hint = only(found, "lines[0].departmnt")
    assert hint.line == 18 and "did you mean 'department'" in hint.reason


def test_validation_and_cross_checks_reported_together(tmp_path):
    second = MARKET.replace("market-12315", "b").replace("2026-11-15", "2026-13-01")
    found = problems(tmp_path, BASE + MARKET.replace("dual_number", "whole") + second)
    assert {(p.field, p.line) for p in found} == {
        ("lines[0].mode", 19), ("lines[1].effective", 26), ("lines[1].numbers[0]", 23)}
    text = str(ConfigError(found))
    assert f"{tmp_path / 'bad.yaml'}:26: lines[1].effective [b]: expected a date" in text


def test_yaml_syntax_error_has_its_line(tmp_path):
    p = only(problems(tmp_path, BASE + "  - id: x\n   name: [unclosed\n"), "")
    assert p.line == 16 and "YAML syntax error" in p.reason


def test_missing_file_names_the_file(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "nowhere.yaml", env={})
    assert str(info.value) == f"{tmp_path / 'nowhere.yaml'}: file not found (give one with -c FILE or $HOTLINE_CONFIG)"


def test_secrets_never_in_messages(tmp_path):
    text = BASE + "  []\nasterisk:\n  ami: {secret: [hunter2]}\n"
    p = only(problems(tmp_path, text), "asterisk.ami.secret")
    assert p.line == 17 and "hunter2" not in str(p)
    found = problems(tmp_path, BASE + MARKET, env={"HOTLINE_WEB_TOKENS": "tok-secret=agent1,tok-other"})
    p = only(found, "web.tokens")
    assert str(p) == "$HOTLINE_WEB_TOKENS: web.tokens: item 2 is not token=agent"


# --- destinations -----------------------------------------------------------------

def test_parse_destination():
    assert parse_destination("queue:general") == Destination("queue", "general")
    assert parse_destination(" subcenter:tax ") == Destination("subcenter", "tax")
    dest = parse_destination("trunk:pstn/88348666-1")
    assert (dest.kind, dest.id, dest.number, str(dest)) == ("trunk", "pstn", "88348666-1", "trunk:pstn/88348666-1")
    assert parse_destination("hangup") == Destination("hangup")
    for bad in ("queue:", "queue:Gen eral", "trunk:pstn", "trunk:pstn/12;34", "dial:123", "", None):
        with pytest.raises(DestinationError):
            parse_destination(bad)


# --- the command line ---------------------------------------------------------------

def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(HOTLINE), "config", "check", *args], capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin"})


def test_cli_good_file():
    result = run_cli("-c", str(SHIPPED))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        f"{SHIPPED}: OK — 17 lines (9 full merge, 6 dual number, 2 sub-center), 3 queues, 2 sub-centers")


def test_cli_bad_file_prints_every_problem(tmp_path):
    second = MARKET.replace("market-12315", "b").replace("dual_number", "whole")
    path = write(tmp_path, BASE + MARKET + second + '    queue: nope\n')
    result = run_cli("-c", str(path))
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"{path}:23: lines[1].numbers[0] [b]: number 12315 is already used by line market-12315 at line 17",
        f"{path}:25: lines[1].mode [b]: unknown mode 'whole': allowed are full_merge (整体并入), "
        "dual_number (双号并行), sub_center (设分中心)",
        f"{path}:27: lines[1].queue [b]: unknown queue 'nope' (known: general)",
        f"{path}: 3 problems",
    ]
    assert result.stdout == ""


def test_cli_missing_file_uses_hotline_config(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOTLINE_CONFIG": str(tmp_path / "absent.yaml")}
    result = subprocess.run([str(HOTLINE), "config", "check"], capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 2 and f"{tmp_path / 'absent.yaml'}: file not found" in result.stderr
