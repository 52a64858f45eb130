"""Reading a merge list's notes with the phrase lexicon (pure, but for loading a city's phrase file).

A note is searched for every known phrase (`ivr.plan.lexicon`), each match
consumed, so free-form notes such as 「座席并入12345，半年过渡期后取消号码」 are
understood piece by piece. Every understood piece keeps its reason; whatever is
left that is not filler is returned as `unknown` for the human-decision list.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from ivr.plan.lexicon import EFFECTS, FILLER, PHRASES

_ALIASES = re.compile(r"已整合\s*((?:\d[\d-]*\s*[、，,和及]?\s*)+)")
_SPLIT = re.compile(r"[，,；;。：:\s|]+")
_FILLER = re.compile(FILLER)
_CN_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


class LexiconError(ValueError):
    """A city's phrase file is malformed (the message names the file and entry)."""


@dataclass(frozen=True)
class Phrase:
    effect: str
    pattern: re.Pattern
    meaning: str


@dataclass(frozen=True)
class Note:
    seats: str | None = None            # pooled | retained | None (not said)
    expert: bool = False                # 设专家座席: an expert queue in 12345
    sub_center: bool = False            # 设立分中心
    aliases: tuple[str, ...] = ()       # 已整合12312、12330…
    unknown: tuple[str, ...] = ()       # parts nobody taught us
    remote_expert: bool = False         # 远程/远端专家座席
    keep_number: bool = False           # 保留号码 (without seats)
    transition: tuple[int, int] | None = None  # (months, days) of this line's own transition
    cancel_number: bool = False         # 取消号码 after the transition
    withdrawn: bool = False             # 撤销号码、座席
    forwarded: bool = False             # 已呼叫转移至12345
    mode: str | None = None             # the note names a mode itself (整体并入远程专家座席)
    enterprise: bool = False            # 涉企专席 / 一企来: the enterprise fast track (enterprise:)
    language: bool = False              # 外语坐席 / 外籍人士服务热线: language seats (languages:)
    reasons: tuple[str, ...] = ()       # 「phrase」→ meaning, for every understood piece


def compile_phrases(entries: list | tuple, source: str = "lexicon") -> tuple[Phrase, ...]:
    out = []
    for i, entry in enumerate(entries, 1):
        where = f"{source}: entry {i}"
        if not isinstance(entry, dict) or set(entry) - {"effect", "pattern", "meaning"}:
            raise LexiconError(f"{where}: expected a mapping with effect, pattern, meaning")
        effect, pattern = entry.get("effect"), entry.get("pattern")
        if effect not in EFFECTS:
            raise LexiconError(f"{where}: unknown effect {effect!r} (one of {', '.join(EFFECTS)})")
        if not isinstance(pattern, str) or not pattern:
            raise LexiconError(f"{where}: pattern must be a non-empty string")
        try:
            compiled = re.compile(pattern)
        except re.error as exc:
            raise LexiconError(f"{where}: pattern {pattern!r} is not a regular expression: {exc}") from None
        if compiled.search(""):
            raise LexiconError(f"{where}: pattern {pattern!r} matches the empty string")
        out.append(Phrase(effect, compiled, str(entry.get("meaning") or EFFECTS[effect])))
    return tuple(out)


BUILTIN = compile_phrases(PHRASES)


def load_phrases(path: Path) -> tuple[Phrase, ...]:
    """A city's phrase file (YAML list of {effect, pattern, meaning}), tried before the built-in ones."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise LexiconError(f"{path}: not YAML: {exc}") from None
    if not isinstance(data, list):
        raise LexiconError(f"{path}: expected a list of phrases")
    return compile_phrases(data, str(path))


def chinese_number(text: str) -> int:
    """「6」「六」「十二」「三十」 → int (numbers as notes write them, up to 99)."""
    text = text.strip()
    if text.isdigit():
        return int(text)
    if "十" in text:
        tens, _, ones = text.partition("十")
        return (_CN_DIGITS.get(tens, 1) if tens else 1) * 10 + (_CN_DIGITS.get(ones, 0) if ones else 0)
    return _CN_DIGITS.get(text, 0)


def transition_length(text: str) -> tuple[int, int]:
    """(months, days) of 「半年过渡期」「3个月过渡期」「过渡期30天」."""
    if "半年" in text:
        return 6, 0
    m = re.search(r"(\d+|[一二两三四五六七八九十]+)\s*(个?月|天|日)", text)
    if not m:
        return 0, 0
    n = chinese_number(m.group(1))
    return (n, 0) if "月" in m.group(2) else (0, n)


def parse_note(text: str, phrases: tuple[Phrase, ...] = BUILTIN) -> Note:
    aliases: list[str] = []
    for m in _ALIASES.finditer(text):
        aliases += re.findall(r"\d[\d-]*\d|\d", m.group(1))
    rest = _ALIASES.sub("|", text)
    found: dict = {}
    reasons = []
    for phrase in phrases:
        for m in list(phrase.pattern.finditer(rest)):
            piece = m.group()
            reasons.append(f"「{piece}」→ {phrase.meaning}")
            if phrase.effect == "transition":
                found.setdefault("transition", transition_length(piece))
            elif phrase.effect in ("retained", "pooled"):
                found.setdefault("seats", []).append(phrase.effect)
            elif phrase.effect in ("full_merge", "dual_number"):
                found["mode"] = phrase.effect
            elif phrase.effect != "info":
                found[phrase.effect] = True
        rest = phrase.pattern.sub("|", rest)
    unknown = tuple(p for p in _SPLIT.split(rest) if p and not _FILLER.match(p))
    seats = found.pop("seats", [])
    if len(set(seats)) > 1:
        unknown += (f"保留座席与座席并入同时出现 ({text})",)
    if found.get("remote_expert"):
        found["expert"] = True
    return Note(seats=seats[0] if len(set(seats)) == 1 else None, aliases=tuple(aliases), unknown=unknown,
                reasons=tuple(reasons), **found)
