"""Every HOTLINE_* name the generated dialplans use is one of ivr/dialplan/variables.py,
and every name there is used: a variable spelt two ways (set by one side,
read under another name by the other) cannot slip in unnoticed."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from ivr.config.loader import load_config
from ivr.dialplan import variables as V
from ivr.dialplan.build import instance_files

REPO = Path(__file__).resolve().parents[2]
CITIES = {"shipped": REPO / "config.yaml", "yancheng": REPO / "tests" / "data" / "yancheng.yaml"}
NAME = re.compile(r"HOTLINE_[A-Z0-9_]*[A-Z0-9]")
SOURCES = ("ivr", "transfer", "callbacks", "agi_scripts")


def rendered(city: str) -> dict[str, str]:
    """Every file `hotline` writes for an instance of this city: the center's and a sub-center's."""
    config = load_config(CITIES[city])
    files = {}
    for kind in ("center", "subcenter"):
        files |= {f"{kind}/{name}": text for name, text in instance_files(config, kind).items()}
    return files


@pytest.mark.parametrize("city", list(CITIES))
def test_the_dialplans_use_only_declared_names(city):
    unknown = {f"{path}: {name}" for path, text in rendered(city).items()
               for name in NAME.findall(text) if name not in V.NAMES}
    assert not unknown, f"not in ivr/dialplan/variables.py: {sorted(unknown)}"


def _code_uses() -> set[str]:
    """Names the Python code uses: `V.CONST` of the module, or spelt out (agi_scripts/ runs
    without the package; a few modules keep literals)."""
    used = set()
    for folder in SOURCES:
        for path in (REPO / folder).rglob("*.py"):
            if path == REPO / "ivr" / "dialplan" / "variables.py":
                continue
            text = path.read_text(encoding="utf-8")
            used |= {getattr(V, const) for const in re.findall(r"\bV\.([A-Z][A-Z0-9_]*)\b", text)
                     if isinstance(getattr(V, const, None), str)}
            used |= set(NAME.findall(text))
    return used


def test_every_declared_name_is_used():
    used = _code_uses()
    for city in CITIES:
        for text in rendered(city).values():
            used |= set(NAME.findall(text))
    assert not V.NAMES - used, f"declared but used nowhere: {sorted(V.NAMES - used)}"


def test_the_standalone_agi_script_reads_declared_names():
    script = (REPO / "agi_scripts" / "transcribe.py").read_text(encoding="utf-8")
    read = set(re.findall(r"get_variable\(\"(HOTLINE_\w+)\"\)", script))
    assert read and read <= V.NAMES, read


def test_the_names_are_what_asterisk_accepts():
    """Upper case, HOTLINE_ prefixed, unique: two constants with one name would hide a typo."""
    values = [v for k, v in vars(V).items() if k.isupper() and isinstance(v, str) and k not in ("PREFIX", "TEST_PREFIX")]
    assert len(values) == len(set(values)) == len(V.NAMES)
    assert all(NAME.fullmatch(v) for v in values)
    assert V.inherited(V.LINE) == "__HOTLINE_LINE"


def test_every_dialplan_text_in_the_code_uses_declared_names():
    """The feature plugins' dialplans render only when their feature is on (the reference
    cities leave rating, queue callback and recording off), so their source is read too."""
    env_vars = {"HOTLINE_AGENT_PASSWORDS"}  # a process environment variable, not a channel's
    found = {}
    for folder in ("ivr/dialplan", "ivr/seats", "transfer", "callbacks", "recordings", "supervision"):
        for path in (REPO / folder).rglob("*.py"):
            if path.name == "variables.py":
                continue
            for name in NAME.findall(path.read_text(encoding="utf-8")):
                if not name.startswith(V.TEST_PREFIX) and name not in env_vars:
                    found.setdefault(name, path.relative_to(REPO).as_posix())
    unknown = {f"{path}: {name}" for name, path in found.items() if name not in V.NAMES}
    assert not unknown, f"not in ivr/dialplan/variables.py: {sorted(unknown)}"
