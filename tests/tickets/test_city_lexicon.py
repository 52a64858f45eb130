"""A city extends the shipped lexicon from config, and a bad entry is reported with its file and line.

What an operator does: add a phrase under `tickets.lexicon` (inline in
config.yaml, or a file it names) and see the next draft change; misspell a
department or group and see `hotline config check` say where.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from ivr.cli import main as cli_main
from ivr.config.loader import load_config
from ivr.config.model import Config
from ivr.tickets.draft import draft_ticket
from ivr.tickets.lexicon import DEFAULT_FILE, default, overlay_problems

DATA = Path(__file__).resolve().parents[1] / "data"
BAIYIN_YAML = DATA / "ticket_baiyin.yaml"
AT = dt.datetime(2024, 11, 20, 10, 0)


def _city(tmp_path: Path, tickets_yaml: str) -> Path:
    path = tmp_path / "city.yaml"
    path.write_text(BAIYIN_YAML.read_text(encoding="utf-8") + tickets_yaml, encoding="utf-8")
    return path


def _line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if text in line)


def test_shipped_lexicon_is_a_data_file_with_every_group():
    data = yaml.safe_load(DEFAULT_FILE.read_text(encoding="utf-8"))
    assert {"topics", "categories", "dialect", "fillers", "emergency"} <= set(data)
    assert {g.target for g in default().groups.values()} == {"110", "119", "120", "122"}


def test_a_city_phrase_in_config_changes_the_draft(tmp_path):
    plain = load_config(BAIYIN_YAML)
    said = "浪达 能 交 热力公司 的 钱"
    assert draft_ticket(said, plain, at=AT).department == "12345热线"
    city = load_config(_city(tmp_path, (
        "tickets:\n"
        "  lexicon:\n"
        "    dialect: {浪达: 哪里}\n"
        "    topics:\n"
        "      市住建局: {热力公司: 3}\n"       # a department named as in the city's lines
        "    emergency:\n"
        "      drowning: [遭水淹]\n")))
    draft = draft_ticket(said, city, at=AT)
    assert draft.department == "市住建局" and "热力公司(3)" in draft.why["department"]
    assert draft.category == "咨询"                                    # 浪达 read as 哪里: a question
    assert draft_ticket("有个娃遭水淹了", city, at=AT).emergency["target"] == "120"
    assert draft_ticket("有个娃遭水淹了", plain, at=AT).emergency is None


def test_a_weight_of_zero_removes_a_shipped_phrase(tmp_path):
    # The trained vote learnt 发票 from the shipped lexicon and keeps it until retrained (docs/tickets.md):
    # a city removing a word switches the vote off, or retrains, to see the word gone.
    city = load_config(_city(tmp_path, "tickets:\n  vote: {enabled: false}\n  lexicon:\n    topics:\n      tax: {发票: 0}\n"))
    assert draft_ticket("发票 开错了", load_config(BAIYIN_YAML), at=AT).department == "市税务局"
    assert draft_ticket("发票 开错了", city, at=AT).department == "12345热线"


def test_lexicon_file_named_in_config_is_read_relative_to_it(tmp_path):
    (tmp_path / "words.yaml").write_text("emergency:\n  fire: [着了大火]\n  threat:\n    words: [要放火烧]\n",
                                         encoding="utf-8")
    city = load_config(_city(tmp_path, "tickets:\n  lexicon: words.yaml\n"))
    assert draft_ticket("那边山上着了大火", city, at=AT).emergency["kind"] == "fire"


@pytest.mark.parametrize("entry, field, reason", [
    ("    topics:\n      市教育局: {学校: 3}\n", "tickets.lexicon.topics.市教育局", "unknown department '市教育局'"),
    ("    topics:\n      tax: {'': 3}\n", "tickets.lexicon.topics.tax.", "empty phrase"),
    ("    topics:\n      tax: {发票: 9}\n", "tickets.lexicon.topics.tax.发票", "weight 9 must be 0-5"),
    ("    categories:\n      投拆: {不像话: 2}\n", "tickets.lexicon.categories.投拆", "unknown category '投拆'"),
    ("    emergency:\n      flood: [发大水]\n", "tickets.lexicon.emergency.flood", "unknown group 'flood'"),
    ("    emergency:\n      fire:\n        target: 911\n", "tickets.lexicon.emergency.fire.target",
     "bad emergency target '911'"),
    ("    dialect: {'a.*': 哪里}\n", "tickets.lexicon.dialect.a.*", "'a.*' is not a word"),
])
def test_config_check_names_file_line_and_reason(tmp_path, capsys, entry, field, reason):
    path = _city(tmp_path, "tickets:\n  lexicon:\n" + entry)
    bad_line = len(path.read_text(encoding="utf-8").splitlines())
    assert cli_main(["config", "check", "-c", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:{bad_line}: {field}: {reason}" in err, err


def test_bad_entry_in_a_lexicon_file_points_into_that_file(tmp_path, capsys):
    words = tmp_path / "words.yaml"
    words.write_text("# Baiyin's words\ntopics:\n  housing: {热力公司: 3}\n  市水务局: {水表: 3}\n", encoding="utf-8")
    path = _city(tmp_path, "tickets:\n  lexicon: words.yaml\n")
    assert cli_main(["config", "check", "-c", str(path)]) == 2
    assert f"{words}:4: topics.市水务局: unknown department '市水务局'" in capsys.readouterr().err


def test_missing_lexicon_file_is_reported_at_the_config_line(tmp_path, capsys):
    path = _city(tmp_path, "tickets:\n  lexicon: nowhere.yaml\n")
    assert cli_main(["config", "check", "-c", str(path)]) == 2
    assert f"{path}:{_line_of(path, 'nowhere.yaml')}: tickets.lexicon: cannot read nowhere.yaml" in capsys.readouterr().err


def test_config_built_in_code_rejects_bad_entries_too():
    raw = yaml.safe_load(BAIYIN_YAML.read_text(encoding="utf-8"))
    with pytest.raises(ValueError, match="unknown group 'flood'"):
        Config.model_validate(raw | {"tickets": {"lexicon": {"emergency": {"flood": ["发大水"]}}}})


def test_overlay_check_keeps_only_good_entries():
    good, problems = overlay_problems({"fillers": ["你说嘛", ""], "emergency": {"fire": {"also": ["120", "999"]}}})
    assert good == {"fillers": ["你说嘛"], "emergency": {"fire": {"words": [], "also": ["120"]}}}
    assert [p for p, _ in problems] == [("fillers", 1), ("emergency", "fire", "also", 1)]
