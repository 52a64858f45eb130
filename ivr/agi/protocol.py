"""The AGI wire format: header lines, command quoting and response lines.

Pure functions, no I/O, so the edge cases are easy to test. Asterisk's side of
this lives in res_agi.c: it sends `agi_key: value` lines ended by an empty
line, reads one command per line (at most AGI_BUF_LEN = 2048 bytes, split on
blanks, `"` groups, `\\` escapes) and answers each with one response line,
except `520-` usage errors which span several lines up to `520 End ...`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_COMMAND_BYTES = 2047  # res_agi reads into a 2048-byte buffer, newline included

_RESPONSE = re.compile(r"(\d{3})[ -]?(.*)")
# Greedy data group: a value may itself contain ")" (GET VARIABLE of "a (b)"),
# so the data ends at the last ")" that only key=value pairs follow.
_RESULT = re.compile(r"result=(\S*)(?: \((.*)\))?((?:\s+[\w-]+=\S*)*)\s*$")
_LOOSE = re.compile(r"result=(\S*)(.*)")
_PAIR = re.compile(r"([\w-]+)=(\S*)")
_VAR_NAME = re.compile(r"[A-Za-z0-9_.:\-]+(?:\([^\s\"\\]*\))?")


@dataclass(frozen=True, slots=True)
class AgiResult:
    """One parsed response: `200 result=1 (data) endpos=42` -> (200, "1", "data", {"endpos": "42"})."""

    code: int
    result: str = ""
    data: str | None = None
    extra: dict[str, str] = field(default_factory=dict)
    text: str = ""  # the raw line(s), for error messages

    @property
    def ok(self) -> bool:
        return self.code == 200


def parse_header(text: str) -> dict[str, str]:
    """The header block (without its blank line) -> {"agi_channel": "PJSIP/x-0001", ...}; junk lines are skipped."""
    if "\r" in text:
        text = text.replace("\r", "")
    headers = {}
    for line in text.split("\n"):
        key, sep, value = line.partition(": ")
        if sep and key:
            headers[key] = value
    return headers


def parse_response(line: str) -> AgiResult:
    """Parse one response line (without its newline). Unknown shapes get code 0."""
    m = _RESPONSE.match(line)
    if not m:
        return AgiResult(0, text=line)
    code = int(m.group(1))
    rest = m.group(2)
    if code != 200:
        return AgiResult(code, data=rest or None, text=line)
    r = _RESULT.match(rest)
    if not r:
        # Unexpected tail after the result: keep the result, hand the rest over as data.
        loose = _LOOSE.match(rest)
        if not loose:
            return AgiResult(0, text=line)
        return AgiResult(200, loose.group(1), loose.group(2).strip() or None, {}, line)
    extra = dict(_PAIR.findall(r.group(3))) if r.group(3) else {}
    return AgiResult(200, r.group(1), r.group(2), extra, line)


def quote(value: str) -> str:
    """Quote one command argument the way res_agi's parse_args undoes it."""
    if "\n" in value or "\r" in value:
        raise ValueError("an AGI argument cannot contain a line break")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def check_variable_name(name: str) -> str:
    """Accept `HOTLINE_ACTION` or a function like `CALLERID(name)`; refuse anything that could split the command."""
    if not _VAR_NAME.fullmatch(name):
        raise ValueError(f"invalid channel variable name: {name!r}")
    return name


def encode_command(text: str) -> bytes:
    """One command line, checked: no embedded line break, fits Asterisk's buffer."""
    if "\n" in text or "\r" in text:
        raise ValueError("an AGI command cannot contain a line break")
    data = text.encode("utf-8") + b"\n"
    if len(data) > MAX_COMMAND_BYTES:
        raise ValueError(f"AGI command too long ({len(data)} bytes, Asterisk reads at most {MAX_COMMAND_BYTES})")
    return data
