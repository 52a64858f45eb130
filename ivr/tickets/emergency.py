"""Spot an emergency in what a caller said, and say who takes it over.

Recall comes first: an emergency the front end does not hand to 110/119/120/
122 at once is the worst failure the product can have, a false alarm costs an
agent a few seconds. So the transcript is normalised (fillers out, dialect to
Mandarin, 幺二零 to 120, see ivr.tickets.normalize), every group of the
taxonomy (ivr.tickets.emergency_lexicon) is looked for on characters and on
sound (a recognizer's 着伙 is 着火), and a phrase is dropped only when its own
clause says it is not happening now: negated (不是着火), past (去年, 之前),
hypothetical (万一, 要是) or, for fire/gas/explosion, a worry (怕着火). A word
saying "now" (现在, 刚才, 赶紧) ends the reach of a past word before it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ivr.tickets import emergency_lexicon as lex
from ivr.tickets.normalize import normalize
from ivr.tickets.sound import SoundIndex

NAMES = {
    "fire": "火灾", "explosion": "爆炸", "gas_leak": "燃气泄漏", "weapon": "持械", "threat": "威胁",
    "domestic_violence": "家暴", "violence": "暴力", "missing_child": "儿童走失", "robbery": "抢劫",
    "suicide": "轻生", "traffic": "交通事故", "trapped": "被困", "drowning": "溺水",
    "electrocution": "触电", "poisoning": "中毒", "not_breathing": "呼吸停止", "unconscious": "昏迷",
    "injury": "受伤", "medical": "急病", "help": "呼救",
}
_CLAUSE_END = re.compile(r"[，。！？；,.!?;\n]")
_WINDOW = 10  # without punctuation (raw ASR) a clause reaches this far back
_NEGATION = re.compile(lex.NEGATION)
_NOT_NOW = re.compile(f"{lex.PAST}|{lex.HYPOTHESIS}")
_WORRY = re.compile(lex.WORRY)
_CANCEL_AFTER = re.compile(lex.CANCEL_AFTER)
_PRESENT = re.compile(lex.PRESENT)
_INJURED = re.compile(lex.INJURED)


@dataclass(frozen=True)
class CityWords:
    """What a city adds in config: dialect words, fillers, emergency words per group."""
    dialect: tuple[tuple[str, str], ...] = ()
    fillers: tuple[str, ...] = ()
    emergency_words: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @classmethod
    def from_config(cls, speech) -> "CityWords":
        return cls(
            tuple(sorted(getattr(speech, "dialect", {}).items())),
            tuple(getattr(speech, "fillers", ())),
            tuple(sorted((g, tuple(ws)) for g, ws in getattr(speech, "emergency_words", {}).items())),
        )


@lru_cache(maxsize=16)
def _tables(city: CityWords):
    """Per group its regex; one regex for any group (most partials hold none);
    one sound index over every group's words, word -> groups."""
    extra = dict(city.emergency_words)
    groups, owners = [], {}
    for name, g in lex.GROUPS.items():
        words = (*g.words, *extra.get(name, ()))
        for w in words:
            owners.setdefault(w, []).append(name)
        groups.append((name, g, "|".join([*(re.escape(w) for w in words), *(f"(?:{p})" for p in g.patterns)])))
    anything = re.compile("|".join(f"(?:{rx})" for _, _, rx in groups))
    return [(n, g, re.compile(rx)) for n, g, rx in groups], anything, SoundIndex(owners), owners


def _clause_before(text: str, start: int) -> str:
    head = _CLAUSE_END.split(text[max(0, start - _WINDOW):start])[-1]
    now = list(_PRESENT.finditer(head))
    return head[now[-1].end():] if now else head


def _live(text: str, start: int, end: int, hazard: bool) -> bool:
    before = _clause_before(text, start)
    if _NEGATION.search(before) or _NOT_NOW.search(before) or (hazard and _WORRY.search(before)):
        return False
    return not _CANCEL_AFTER.match(text[end:])


def _found(name: str, group: lex.Group, norm: str, phrase: str, heard_as: str | None = None) -> dict:
    also = [n for n in group.also if n != group.target and _INJURED.search(norm)]
    found = {"kind": name, "name": NAMES[name], "target": group.target, "also": also, "phrase": phrase}
    if heard_as:
        found["heard_as"] = heard_as
    return found


def detect_emergency(text: str, city: CityWords | None = None) -> dict | None:
    """{"kind", "name", "target", "also", "phrase", ["heard_as"]} for the first live emergency, or None.

    `target` is the number to hand the call to; `also` the numbers to tell as
    well (120 for a crash or a fight with someone hurt). `phrase` is what the
    transcript says; `heard_as`, when present, the lexicon word it sounded
    like. `city` adds a city's configured words (CityWords.from_config).
    """
    if not text:
        return None
    norm = normalize(text, dict((city or CityWords()).dialect), (city or CityWords()).fillers)
    groups, anything, sounds, owners = _tables(city or CityWords())
    # Words as written first, in every group, then words by sound: 上掉 may be
    # a misheard 上吊, but 被电着了 in the same sentence is certain.
    if anything.search(norm):
        for name, group, rx in groups:
            for m in rx.finditer(norm):
                if m.end() > m.start() and _live(norm, m.start(), m.end(), group.hazard):
                    return _found(name, group, norm, m.group(0))
    by_group: dict[str, list] = {}
    for s in sounds.find(norm):
        if s.heard != s.word:
            for name in owners[s.word]:
                by_group.setdefault(name, []).append(s)
    for name, group, _ in groups:
        for s in sorted(by_group.get(name, ()), key=lambda s: (s.start, s.end)):
            if _live(norm, s.start, s.end, group.hazard):
                return _found(name, group, norm, s.heard, s.word)
    return None
