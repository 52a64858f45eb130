"""A merge-list file as grids of clean text cells: CSV/TSV (UTF-8, BOM, GB18030) or XLSX.

Only this module touches the file; what the cells mean is `ivr.plan.published`.
Every row keeps where it came from (file, sheet, row) so that any error or
reported item names it the way an operator finds it in Excel.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from ivr.plan.cells import CellError, clean_cell
from ivr.plan.merge_list import MergeListError


class TableError(MergeListError):
    """The file cannot be read; the message names file, sheet and row."""


@dataclass(frozen=True)
class Grid:
    """One sheet (a CSV file is one sheet named "")."""
    file: str
    sheet: str
    rows: list[tuple[int, list[str]]]   # (row number as shown by Excel / line in the text file, cells)
    # (row, column index) of cells that show the value of a vertically merged cell above them
    inherited: frozenset[tuple[int, int]] = frozenset()

    @property
    def label(self) -> str:
        return f"{self.file} 工作表「{self.sheet}」" if self.sheet else self.file

    def where(self, row_no: int) -> str:
        return f"{self.label} 第 {row_no} 行"


def decode(raw: bytes) -> str:
    """Text of a CSV export: UTF-8 (with or without BOM), else GB18030 as Chinese Excel saves it."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("gb18030")


def delimiter(text: str) -> str:
    """Tab if the first non-empty lines hold more tabs than commas (a TSV or Excel "text" export)."""
    head = [line for line in text.splitlines()[:30] if line.strip()]
    tabs = sum(line.count("\t") for line in head)
    commas = sum(line.count(",") for line in head)
    return "\t" if tabs > commas else ","


def text_grid(text: str, file: str) -> Grid:
    """CSV/TSV text as one grid; a row's number is the text line where it starts."""
    text = text.lstrip("\ufeff")
    reader = csv.reader(io.StringIO(text), delimiter=delimiter(text))
    rows: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for cells in reader:
            rows.append((start, _clean(cells, file, "", start)))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise TableError(f"{file} 第 {reader.line_num} 行: 无法读取（CSV: {exc}）") from exc
    return Grid(file, "", rows)


def xlsx_grids(path: Path) -> list[Grid]:
    """Every sheet of a workbook (cached values of formulas, merged cells as Excel stores them)."""
    import openpyxl  # only needed for workbooks

    try:
        book = openpyxl.load_workbook(path, data_only=True)
    except Exception as exc:  # zipfile.BadZipFile, KeyError, InvalidFileException…: all "not a workbook"
        raise TableError(f"{path.name}: 不是可读的 XLSX 工作簿（{type(exc).__name__}: {exc}）") from exc
    grids = []
    for sheet in book.worksheets:
        filled = _merged_down(sheet)
        rows = []
        for cells in sheet.iter_rows():
            if not cells:
                continue
            row_no = cells[0].row
            values = [filled.get((row_no, i), c.value) for i, c in enumerate(cells)]
            rows.append((row_no, _clean(values, path.name, sheet.title, row_no)))
        grids.append(Grid(path.name, sheet.title, rows, frozenset(filled)))
    return grids


def _merged_down(sheet) -> dict[tuple[int, int], object]:
    """Values of cells under a merged cell one column wide (责任单位 or 归并方式 spanning several lines).

    Excel keeps the value only in the top cell; a reader needs it on every line.
    Wider merges (title blocks) are left alone: they are one text row.
    """
    filled = {}
    for rng in sheet.merged_cells.ranges:
        if rng.min_col == rng.max_col and rng.max_row > rng.min_row:
            value = sheet.cell(rng.min_row, rng.min_col).value
            for row in range(rng.min_row + 1, rng.max_row + 1):
                filled[(row, rng.min_col - 1)] = value
    return filled


def read_grids(path: Path) -> list[Grid]:
    """The file's sheets; TableError (OSError for a missing file) if it cannot be read at all."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return xlsx_grids(path)
    if path.suffix.lower() == ".xls":
        raise TableError(f"{path.name}: 旧版 .xls 不支持，请在 Excel 中另存为 .xlsx 或 CSV（save as .xlsx or CSV）")
    return [text_grid(decode(path.read_bytes()), path.name)]


def _clean(cells: list, file: str, sheet: str, row_no: int) -> list[str]:
    out = []
    for col, value in enumerate(cells):
        try:
            out.append(clean_cell(value))
        except CellError as exc:
            where = Grid(file, sheet, []).where(row_no)
            raise TableError(f"{where} 第 {col + 1} 列: {exc}") from None
    return out
