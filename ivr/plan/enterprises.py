"""The 一企来 register as a city keeps it: a table of enterprises and their phone numbers (pure).

`hotline plan enterprises import F.csv` reads the table with `ivr.plan.tables`
(CSV/TSV in UTF-8 or GB18030, or XLSX) and this module decides what its cells
mean: the number column by its header (号码, 电话, 联系电话, 手机, number,
phone), the name by 企业名称/名称/单位名称 (name); a table without a header
row is read as number, name. A cell may list several numbers (「、」「，」「/」).
Every number is validated as config.yaml validates `enterprise.numbers`; each
bad one is an error naming file, sheet and row, and nothing is written until
there are none. The output is the YAML list `enterprise.numbers_file` names.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from ivr.config.fasttrack_model import caller_number
from ivr.plan.tables import Grid

NUMBER_HEADERS = ("号码", "电话", "联系电话", "企业电话", "手机", "手机号码", "number", "phone")
NAME_HEADERS = ("企业名称", "名称", "单位名称", "企业", "name", "company")
_SPLIT = re.compile(r"[、，,/；;]+")
_HEADER_ROWS = 10   # a header, if any, is among the first rows (after a title)


@dataclass
class Register:
    numbers: dict[str, str] = field(default_factory=dict)   # number -> enterprise name (first row wins)
    errors: list[str] = field(default_factory=list)         # bad cells: nothing may be written
    reported: list[str] = field(default_factory=list)       # duplicates, skipped rows: for the operator


def _norm(text: str) -> str:
    return re.sub(r"\s+", "", text).lower()


def _columns(grid: Grid) -> tuple[int, int | None, int]:
    """(number column, name column or None, index of the first data row) of a sheet."""
    for i, (_, cells) in enumerate(grid.rows[:_HEADER_ROWS]):
        names = [_norm(c) for c in cells]
        number = next((j for j, c in enumerate(names) if c in NUMBER_HEADERS), None)
        if number is not None:
            name = next((j for j, c in enumerate(names) if c in NAME_HEADERS), None)
            return number, name, i + 1
    return 0, 1, 0   # no header: number, name


def read_register(grids: list[Grid]) -> Register:
    out = Register()
    for grid in grids:
        number_col, name_col, first = _columns(grid)
        for row_no, cells in grid.rows[first:]:
            if not any(cells):
                continue
            where = grid.where(row_no)
            cell = cells[number_col] if number_col < len(cells) else ""
            name = cells[name_col] if name_col is not None and name_col < len(cells) else ""
            if not cell:
                out.reported.append(f"{where}: 没有号码，跳过 (no number, skipped){f'：{name}' if name else ''}")
                continue
            for text in filter(None, (t.strip() for t in _SPLIT.split(cell))):
                try:
                    number = caller_number(text)
                except ValueError:
                    out.errors.append(f"{where}: 号码格式不对 {text[:40]!r} (5-20 digits, +86 allowed)")
                    continue
                if number in out.numbers:
                    out.reported.append(f"{where}: 号码重复 {number} (duplicate, first: {out.numbers[number] or '-'})")
                    continue
                out.numbers[number] = name
    return out


def render_register(register: Register, source: str) -> str:
    """The numbers file: one `{number, name}` per line, numbers quoted (a leading 0 must survive)."""
    head = f"# 一企来 registered enterprise numbers ({len(register.numbers)}), from {json.dumps(source, ensure_ascii=False)}\n" \
           "# by `hotline plan enterprises import`; name it in config.yaml as enterprise.numbers_file.\n"
    rows = [f"- {{number: \"{n}\", name: {json.dumps(name, ensure_ascii=False)}}}\n"
            for n, name in register.numbers.items()]
    return head + "".join(rows) if rows else head + "[]\n"
