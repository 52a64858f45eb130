"""What the cells of a published merge list mean (pure): headers, sections, rows, footnotes.

Cities print the list as an annex: a title, one section per mode
(「一、整体并入（9 条）」, 「（二）双号并行」), the header again after every page
break, a line whose second number sits alone on the next row (merged cells),
extra plan columns (国家归并要求 / 省级归并措施 / 市级归并方案: the most specific
one decides) and footnotes (「注：…」). This module turns such grids into the
same `Row`s as our own CSV layout; footnotes and stray text are reported, never
imported, and a data row that cannot be read is an error naming file, sheet, row.
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Callable

from ivr.config.model import NUMBER_RE
from ivr.plan.merge_list import COLUMNS, MergeListError, Row, mode_of, parse_note
from ivr.plan.tables import Grid

# Header text (whitespace removed, lower case) → field. Our own CSV layout's names included.
HEADERS = {
    "seq": ("序号", "编号", "seq", "no", "no."),
    "name": ("名称", "热线名称", "热线", "号码名称", "服务热线", "name"),
    "number": ("号码", "热线号码", "电话号码", "电话", "服务号码", "number"),
    "department": ("责任单位", "主管单位", "承办单位", "牵头单位", "单位", "部门", "department"),
    "levels": ("热线层级", "层级", "levels"),
    "note": ("备注", "说明", "note"),
    "mode": ("归并方式", "整合方式", "归并类型", "整合类型", "归并模式", "方式", "mode"),
}
_HEADER_OF = {alias: key for key, names in HEADERS.items() for alias in names}
# Plan columns: the most specific level decides (市级 over 省级 over 国家).
PLAN_LEVELS = (("市", 3), ("省", 2), ("国家", 1))

_FOOTNOTE = re.compile(r"^(注|备注|说明|附注|注释)\s*[:：]")
_NUMBERED = re.compile(r"^\s*(?:[一二三四五六七八九十]+[、.．]|[（(][一二三四五六七八九十\d]+[）)])")
_ITEM = re.compile(r"^\s*\d+\s*[.．、)）]")
_NUMBER_SPLIT = re.compile(r"[、，,；;/／\s]+")
PROGRESS_EVERY = 500


@dataclass
class Reading:
    rows: list[Row] = field(default_factory=list)
    reported: list[str] = field(default_factory=list)   # footnotes, stray text, overridden plan columns


@dataclass
class _Columns:
    fields: dict[str, int]              # field → column index
    plans: list[tuple[int, int, str]]   # (rank, column, header): 国家/省级/市级 plan columns
    extras: list[tuple[int, str]]       # other columns: read as notes

    @property
    def text_columns(self) -> list[int]:
        return [i for k, i in self.fields.items() if k != "number"] + [c for _, c, _ in self.plans] + \
            [c for c, _ in self.extras]


def header_of(cells: list[str]) -> _Columns | None:
    """The column layout if this row is a header (it names at least 名称 and 号码)."""
    fields: dict[str, int] = {}
    others: list[tuple[int, str]] = []
    for i, cell in enumerate(cells):
        key = _HEADER_OF.get(re.sub(r"\s+", "", cell).lower())
        if key and key not in fields:
            fields[key] = i
        elif cell:
            others.append((i, cell))
    if "name" not in fields or "number" not in fields:
        return None
    plans, extras = [], []
    for i, text in others:
        rank = next((r for word, r in PLAN_LEVELS if word in text), 0)
        if rank and ("归并" in text or "整合" in text or "方案" in text or "要求" in text or "措施" in text):
            plans.append((rank, i, text))
        else:
            extras.append((i, text))
    return _Columns(fields, sorted(plans, reverse=True), extras)


def is_own_layout(grid: Grid) -> bool:
    """Our own CSV layout (mode,seq,name,…,note): read by `merge_list.read_rows`, messages unchanged."""
    first = next((cells for _, cells in grid.rows if any(cells)), [])
    return tuple(c.strip().lower() for c in first) == COLUMNS


class _Reader:
    def __init__(self, grid: Grid, reading: Reading):
        self.grid, self.out = grid, reading
        self.columns: _Columns | None = None
        self.mode: str | None = None
        self.mode_text = ""
        self.in_footnote = False
        self.continuable = False  # a number-only row may continue the last line read (same sheet and section)

    def read(self) -> None:
        for row_no, cells in self.grid.rows:
            filled = [i for i, c in enumerate(cells) if c]
            if not filled:
                continue
            header = header_of(cells)
            if header is not None:
                self.columns, self.in_footnote = header, False  # first header, or repeated after a page break
            elif len(filled) == 1 and not self._only_number(filled[0]):
                self._text_row(row_no, cells[filled[0]])
            elif self.columns is None:
                continue  # title block before the first header (e.g. title and date cells)
            else:
                self.in_footnote = False
                self._data_row(row_no, cells)
        if self.columns is None and any(any(c) for _, c in self.grid.rows):
            self.out.reported.append(f"{self.grid.label}: 没有找到表头（需要「名称」和「号码」列），此表未导入 (no header found)")

    def _only_number(self, col: int) -> bool:
        return self.columns is not None and self.columns.fields.get("number") == col

    def _text_row(self, row_no: int, text: str) -> None:
        where = self.grid.where(row_no)
        if _FOOTNOTE.match(text) or (self.in_footnote and _ITEM.match(text)):
            self.in_footnote = True
            self.out.reported.append(f"{where}: 脚注未导入，请阅读并按需处理 (footnote, not imported): 「{text}」")
            return
        self.in_footnote = False
        mode = mode_of(text)
        if mode is not None or (_NUMBERED.match(text) and self.columns is not None):
            self.continuable = False
            self.mode, self.mode_text = mode, re.sub(r"[（(].*?[）)]\s*$", "", _NUMBERED.sub("", text)).strip()
            if mode is None:
                self.out.reported.append(f"{where}: 分节「{text}」不是已知的归并方式（整体并入/双号并行/设分中心），"
                                         "其下各行需人工决定 (unknown section mode)")
        elif self.columns is not None:
            self.out.reported.append(f"{where}: 无法识别的文字行，未导入 (text row not imported): 「{text}」")
        # else: a title row before the first header

    def _data_row(self, row_no: int, cells: list[str]) -> None:
        cols = self.columns
        where = self.grid.where(row_no)

        def cell(i: int | None) -> str:
            return cells[i] if i is not None and i < len(cells) else ""

        numbers = self._numbers(where, cell(cols.fields["number"]))
        own = [i for i in cols.text_columns if cell(i) and (row_no, i) not in self.grid.inherited]
        if numbers and not own:
            self._continue(where, numbers)  # its other cells are empty or merged from the line above
            return
        value = {k: cell(i) for k, i in cols.fields.items()}
        for key, label in (("name", "名称"), ("department", "责任单位")):
            if not value.get(key):
                raise MergeListError(f"{where}: 「{label}」为空 (column {key!r} is empty)")
        if not numbers:
            raise MergeListError(f"{where}: 「号码」为空 (column 'number' is empty)")
        note_text = self._note(where, cell, value.get("note", ""))
        if value.get("mode"):  # a mode column: its value holds for the lines below it until the next one
            self.mode, self.mode_text = mode_of(value["mode"]), value["mode"]
        mode, mode_text = self.mode, self.mode_text
        self.out.rows.append(Row(
            line_no=row_no, mode_text=mode_text, mode=mode, seq=value.get("seq", ""), name=value["name"],
            number=numbers[0], department=value["department"], levels=value.get("levels", ""),
            note_text=note_text, note=parse_note(note_text), place=where, extra_numbers=tuple(numbers[1:])))
        self.continuable = True

    def _note(self, where: str, cell: Callable[[int | None], str], note: str) -> str:
        plans = [(rank, cell(i), header) for rank, i, header in self.columns.plans if cell(i)]
        parts = [note] if note else []
        if plans:
            parts.append(plans[0][1])
            for _, text, header in plans[1:]:
                self.out.reported.append(f"{where}: 「{header}」({text}) 被更具体的「{plans[0][2]}」取代，未采用 "
                                         "(overridden by the more specific plan column)")
        parts += [cell(i) for i, _ in self.columns.extras if cell(i)]
        return "；".join(parts)

    def _numbers(self, where: str, text: str) -> list[str]:
        numbers = [n for n in _NUMBER_SPLIT.split(text) if n]
        for n in numbers:
            if not NUMBER_RE.match(n):
                raise MergeListError(f"{where}: 号码格式不对 {text!r}（数字，可带分机 -1，如 88348666-1; "
                                     "malformed number)")
        return numbers

    def _continue(self, where: str, numbers: list[str]) -> None:
        rows = self.out.rows
        if not self.continuable:
            raise MergeListError(f"{where}: 只有号码的行上面没有热线 (a number-only row continues the line "
                                 "above, but there is none)")
        rows[-1] = dataclasses.replace(rows[-1], extra_numbers=rows[-1].extra_numbers + tuple(numbers))


def read_published(grids: list[Grid], progress: Callable[[str], None] | None = None) -> Reading:
    """Rows and reported items of every sheet; MergeListError (with FILE/sheet/row) on an unreadable row."""
    reading = Reading()
    for grid in grids:
        _Reader(grid, reading).read()
        if progress and len(grid.rows) >= PROGRESS_EVERY:
            progress(f"已读取 {grid.label}：{len(grid.rows)} 行，共 {len(reading.rows)} 条热线")
    if not reading.rows:
        raise MergeListError(f"{grids[0].file if grids else '?'}: 没有找到任何热线行 (no rows found)")
    return reading
