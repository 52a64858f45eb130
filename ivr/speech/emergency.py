"""Spot an emergency (fire, gas leak, crash, rescue, crime, medical) in speech.

Cheap enough for every partial transcript: one precompiled regex search, and
only on a hit a look at the clause around it, so that 没着火, 上次着火的隐患
or 要是着火了 do not send a caller to 119.
"""
from __future__ import annotations

import re

from ivr.speech import lexicon
from ivr.speech.numerals import compact

_KINDS = [
    (kind, target, re.compile("|".join(f"(?:{p})" for p in phrases)))
    for kind, (target, phrases) in lexicon.EMERGENCY.items()
]
_ANY = re.compile("|".join(f"(?:{rx.pattern})" for _, _, rx in _KINDS))
_NEGATION = re.compile(lexicon.EMERGENCY_NEGATION)
_CANCEL = re.compile(lexicon.EMERGENCY_CANCEL)
_CANCEL_AFTER = re.compile(lexicon.EMERGENCY_CANCEL_AFTER)
_CLAUSE_END = re.compile(r"[，。！？；,.!?;\n]")
# Without punctuation (raw ASR) a clause is at most this many characters back.
_WINDOW = 12


def _clause_before(text: str, start: int) -> str:
    head = text[max(0, start - _WINDOW):start]
    parts = _CLAUSE_END.split(head)
    return parts[-1]


def _cancelled(text: str, m: re.Match) -> bool:
    before = _clause_before(text, m.start())
    return bool(_NEGATION.search(before) or _CANCEL.search(before) or _CANCEL_AFTER.match(text[m.end():]))


def detect_emergency(text: str) -> dict | None:
    """{"kind", "target", "phrase"} for the first live emergency phrase, or None.

    Kinds are tried in lexicon order (fire, gas_leak, traffic, rescue, police,
    medical), so a crash with an injured person is reported as traffic (122).
    """
    if not text:
        return None
    text = compact(text)
    if not _ANY.search(text):
        return None
    for kind, target, rx in _KINDS:
        for m in rx.finditer(text):
            if not _cancelled(text, m):
                return {"kind": kind, "target": target, "phrase": m.group(0)}
    return None
