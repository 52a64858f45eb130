"""One table cell as clean text (pure): line breaks folded, control characters refused.

Published annexes wrap long names and notes inside cells (「全国统一商务领域举\\n报投诉…」).
A break between two Chinese characters is layout, so it disappears; any other
break becomes one space. Every other control character is refused: config text
reaches generated dialplan files, and a control character there could end a
line (see docs/security.md), so a table carrying one is an error, not a guess.
"""
from __future__ import annotations

import datetime as dt
import re

_BREAK = re.compile(r"[ \t]*[\r\n\v\f\x85\u2028\u2029]+[ \t\r\n\v\f\x85\u2028\u2029]*")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


class CellError(ValueError):
    """The cell holds something that must not reach a config (the message says what)."""


def _wide(ch: str) -> bool:
    """Chinese characters and full-width punctuation: no space is needed next to them."""
    return bool(ch) and ord(ch) >= 0x2E80


def clean_cell(value: object) -> str:
    """The cell as one line of text ("" for empty); CellError on a control character."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Excel stores 12312 as 12312.0
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    text = str(value)
    bad = _CONTROL.search(text)
    if bad:
        raise CellError(f"单元格含控制字符 U+{ord(bad.group()):04X}（control character, not allowed）: {text!r}")

    def join(m: re.Match) -> str:
        before = text[m.start() - 1] if m.start() else ""
        after = text[m.end()] if m.end() < len(text) else ""
        return "" if _wide(before) and _wide(after) else " "

    return _BREAK.sub(join, text).replace("\t", " ").strip()
