"""`enterprise.numbers_file`: the registered enterprises' numbers, kept apart from config.yaml.

A city's 一企来 register holds hundreds or thousands of numbers and changes
every week; config.yaml stays readable when they live in a file of their own
(written by `hotline plan enterprises import F.csv`). The loader calls
`include` before validation: the file's numbers join `enterprise.numbers`, so
the plan (pure, no I/O) sees one list. Every bad entry is a problem with the
numbers file's own name and line.

File format (YAML; numbers quoted, a leading 0 must survive):

    - {number: "13800000001", name: 白银某某有限公司}
    - "0943-8221234"
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ivr.config.fasttrack_model import caller_number
from ivr.config.problems import Problem
from ivr.config.yamlpos import YamlSyntaxError, read_yaml

FIELD = "enterprise.numbers_file"
MAX_BYTES = 20 * 1024 * 1024


def include(data: dict, config_file: str, line_of: Callable[[tuple], int]) -> list[Problem]:
    """Add the numbers file's numbers to `data["enterprise"]["numbers"]`; the problems found."""
    enterprise = data.get("enterprise")
    name = enterprise.get("numbers_file") if isinstance(enterprise, dict) else None
    if not isinstance(name, str) or not name.strip():
        return []  # absent, or a wrong type that pydantic reports
    here = Problem(config_file, line_of(("enterprise", "numbers_file")), FIELD, "")
    path = Path(config_file).parent / name
    try:
        if path.stat().st_size > MAX_BYTES:
            return [_at(here, f"{name}: larger than {MAX_BYTES // 2**20} MB")]
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        return [_at(here, f"cannot read {name}: {exc.strerror or exc}")]
    except UnicodeDecodeError:
        return [_at(here, f"{name} is not UTF-8 text")]
    numbers, problems = read_numbers(text, str(path))
    current = enterprise.get("numbers")
    if current is None:
        enterprise["numbers"] = current = []
    if isinstance(current, list):
        known = set(current)
        current.extend(n for n in numbers if n not in known)
    return problems


def read_numbers(text: str, file: str) -> tuple[list[str], list[Problem]]:
    """The valid numbers of a numbers file's text, and a problem per bad entry (FILE:LINE)."""
    try:
        doc = read_yaml(text)
    except YamlSyntaxError as exc:
        return [], [Problem(file, exc.line, "", f"YAML syntax error: {exc.reason}")]
    items = doc.data if doc.data is not None else []
    if not isinstance(items, list):
        return [], [Problem(file, doc.line_of(()), "", "expected a list of numbers ({number: …, name: …})")]
    numbers: list[str] = []
    problems = [Problem(file, line, f"[{p[0]}]" if p else "", reason) for p, line, reason in doc.issues]
    for i, item in enumerate(items):
        value = item.get("number") if isinstance(item, dict) else item
        try:
            if isinstance(value, bool) or not isinstance(value, (str, int)):
                raise ValueError("each entry is a number or {number: …, name: …}")
            numbers.append(caller_number(value))
        except ValueError as exc:
            problems.append(Problem(file, doc.line_of((i,)), f"[{i}]", str(exc)))
    return list(dict.fromkeys(numbers)), problems


def _at(here: Problem, reason: str) -> Problem:
    return Problem(here.file, here.line, here.field, reason)
