"""`enterprise:` and `languages:` in config.yaml: each problem with its own file and line,
the numbers file's problems with the numbers file's line, and `hotline config check`."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ivr.config.loader import load_config
from tests.config.test_config import BASE, only, problems

HOTLINE = Path(sys.executable).parent / "hotline"
# BASE ends with `lines:` (empty); these sections start at line 16.
MENU_OFF = BASE + "  []\n"
FAST = BASE + """  []
enterprise:
  numbers: ["138 0000 0001", "+8613800000002"]
  queue: enterprise
languages:
  - {id: en, name: English, queue: lang-en, key: "9", prompt: "For English, press 9."}
"""


def test_good_sections_load_with_numbers_normalised(tmp_path):
    text = FAST.replace("queues:\n", "queues:\n  - {id: enterprise, name: 涉企专席}\n  - {id: lang-en, name: English}\n")
    text = text.replace('  number: "12345"\n', '  number: "12345"\n  entry: {menu: true}\n')
    config = load_config(_write(tmp_path, text), env={})
    assert config.enterprise.numbers == ["13800000001", "13800000002"]
    assert config.languages[0].queue == "lang-en" and config.enterprise.priority == 10


def test_unknown_queues_and_a_key_with_the_menu_off(tmp_path):
    found = problems(tmp_path, FAST)
    assert only(found, "enterprise.queue").line == 18
    assert "unknown queue 'enterprise'" in only(found, "enterprise.queue").reason
    assert only(found, "languages[0].queue").line == 20
    key = only(found, "languages[0].key")
    assert key.line == 20 and "the entry menu is off" in key.reason


def test_a_key_taken_twice(tmp_path):
    text = BASE.replace('  number: "12345"\n', '  number: "12345"\n  entry:\n    menu: true\n    options:\n'
                        '      "9": {label: 市级, target: "queue:general"}\n') + """  []
enterprise: {key: "9"}
languages:
  - {id: en, name: English, queue: general, key: "9"}
  - {id: en, name: Englisch, queue: general}
"""
    found = problems(tmp_path, text)
    assert "already used by hotline.entry.options.9" in only(found, "enterprise.key").reason
    assert "already used" in only(found, "languages[0].key").reason
    assert "duplicate language id 'en'" in only(found, "languages[1].id").reason


def test_malformed_enterprise_numbers_and_keys(tmp_path):
    found = problems(tmp_path, MENU_OFF + 'enterprise:\n  numbers: ["12ab5", "138"]\n  key: "10"\n  priority: 0\n')
    assert {p.field for p in found} >= {"enterprise.numbers[0]", "enterprise.numbers[1]", "enterprise.key",
                                        "enterprise.priority"}
    assert "malformed caller number '12ab5'" in only(found, "enterprise.numbers[0]").reason


def test_numbers_file_problems_name_that_file_and_line(tmp_path):
    (tmp_path / "firms.yaml").write_text('# register\n- {number: "13800000001", name: 甲公司}\n'
                                         '- {number: "1380000x", name: 乙公司}\n- name: 丙公司\n', encoding="utf-8")
    found = problems(tmp_path, MENU_OFF + "enterprise:\n  numbers_file: firms.yaml\n")
    bad = [p for p in found if p.file.endswith("firms.yaml")]
    assert [(p.line, p.field) for p in bad] == [(3, "[1]"), (4, "[2]")], [str(p) for p in found]
    assert "malformed caller number '1380000x'" in bad[0].reason


def test_numbers_file_missing_is_reported_at_the_config_line(tmp_path):
    found = problems(tmp_path, MENU_OFF + "enterprise:\n  numbers_file: nowhere.yaml\n")
    missing = only(found, "enterprise.numbers_file")
    assert missing.line == 17 and "cannot read nowhere.yaml" in missing.reason


def test_numbers_file_numbers_join_the_list(tmp_path):
    (tmp_path / "firms.yaml").write_text('- {number: "0943-8221234", name: 甲公司}\n- "13800000001"\n',
                                         encoding="utf-8")
    path = _write(tmp_path, MENU_OFF + 'enterprise:\n  numbers: ["13800000001"]\n  numbers_file: firms.yaml\n')
    assert load_config(path, env={}).enterprise.numbers == ["13800000001", "09438221234"]


def test_config_check_cli_validates_the_fast_tracks(tmp_path):
    path = _write(tmp_path, FAST)
    proc = subprocess.run([str(HOTLINE), "config", "check", "-c", str(path)], capture_output=True, text=True)
    assert proc.returncode == 2
    assert f"{path}:18: enterprise.queue: unknown queue 'enterprise'" in proc.stderr
    good = Path(__file__).parents[1] / "data" / "fasttrack.yaml"   # numbers inline and from its numbers file
    proc = subprocess.run([str(HOTLINE), "config", "check", "-c", str(good)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().endswith("fast tracks: 3 enterprise numbers, 1 language queue")


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path
