"""Reading a city's published merge list (整合归并清单) CSV into checked rows (pure).

Columns: mode, seq, name, number, department, levels, note. A malformed row is
an error naming its CSV line: an operator fixes the file, nothing is guessed.
Notes are read by `ivr.plan.notes` (the phrase lexicon); note parts we do not
understand are kept for the human-decision list.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from ivr.config.model import NUMBER_RE
from ivr.plan.cells import CellError, clean_cell
from ivr.plan.notes import Note, parse_note

COLUMNS = ("mode", "seq", "name", "number", "department", "levels", "note")
MODES = {"整体并入": "full_merge", "双号并行": "dual_number", "设分中心": "sub_center"}


class MergeListError(ValueError):
    """The CSV cannot be read; the message names the CSV line."""


@dataclass(frozen=True)
class Row:
    line_no: int        # CSV line where the row starts (for messages)
    mode_text: str
    mode: str | None    # None: not one of MODES
    seq: str
    name: str
    number: str
    department: str
    levels: str
    note_text: str
    note: Note = field(default_factory=Note)
    place: str = ""                     # "FILE 工作表「S」第 N 行" for published tables
    extra_numbers: tuple[str, ...] = ()  # 「、」 lists and continuation rows (merged cells)

    @property
    def where(self) -> str:
        return self.place or f"CSV line {self.line_no}"

    @property
    def numbers(self) -> tuple[str, ...]:
        return (self.number, *self.extra_numbers)


def mode_of(text: str) -> str | None:
    """The mode a cell or section title names (「一、整体并入（9 条）」 → full_merge), else None."""
    for word, mode in MODES.items():
        if word in text:
            return mode
    return "sub_center" if "分中心" in text else None


def read_rows(text: str) -> list[Row]:
    """All rows of a merge list, or MergeListError naming the first bad CSV line."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = next(reader, None)
        if header is None:
            raise MergeListError("CSV line 1: the file is empty (expected a header: " + ",".join(COLUMNS) + ")")
        header = [h.strip().lower() for h in header]
        if tuple(header) != COLUMNS:
            raise MergeListError(f"CSV line 1: header is {','.join(header)!r}, expected {','.join(COLUMNS)!r}")
        rows = []
        start = reader.line_num + 1
        for cells in reader:
            row = _row(start, cells)
            if row is not None:
                rows.append(row)
            start = reader.line_num + 1
    except csv.Error as exc:
        raise MergeListError(f"CSV line {reader.line_num}: {exc}") from exc
    if not rows:
        raise MergeListError("the merge list has a header but no rows")
    return rows


def _row(line_no: int, cells: list[str]) -> Row | None:
    try:
        cells = [clean_cell(c) for c in cells]
    except CellError as exc:
        raise MergeListError(f"CSV line {line_no}: {exc}") from None
    if not any(cells):
        return None  # blank line
    if len(cells) != len(COLUMNS):
        raise MergeListError(f"CSV line {line_no}: {len(cells)} columns, expected {len(COLUMNS)} "
                             f"({','.join(COLUMNS)})")
    values = dict(zip(COLUMNS, cells))
    for col in ("mode", "name", "number", "department"):
        if not values[col]:
            raise MergeListError(f"CSV line {line_no}: column {col!r} is empty")
    # 「、」 separates several numbers of one line; spaces inside one number are typing noise.
    numbers = [re.sub(r"\s+", "", n) for n in re.split(r"[、，；;/／]", values["number"]) if n.strip()]
    if not numbers or not all(NUMBER_RE.match(n) for n in numbers):
        raise MergeListError(f"CSV line {line_no}: malformed number {values['number']!r} "
                             "(digits, optionally '-ext', e.g. 88348666-1; several separated by 、)")
    return Row(line_no=line_no, mode_text=values["mode"], mode=MODES.get(values["mode"]), seq=values["seq"],
               name=values["name"], number=numbers[0], department=values["department"], levels=values["levels"],
               note_text=values["note"], note=parse_note(values["note"]), extra_numbers=tuple(numbers[1:]))
