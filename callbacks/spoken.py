"""A spoken survey answer: which key the recognised text means, and where its clip lives.

Pure. The recogniser is restricted to the question's phrases (`grammar`), so
its text is a few of them (Chinese models separate words with spaces:
"不 满意"). `spoken_key` picks the key of the longest phrase found, so 不满意
beats the 满意 inside it; a phrase said after a negation (不是很满意, 没有满意)
means the key of 不<phrase> (or 不<its tail>, e.g. 不满意) when the question
has one, else nothing. Two different keys matched by equally long phrases
are a contradiction: nothing (stored like no key at all).

The clip's name is rebuilt from ids the engine checked (`clip_name`); no
path is ever taken from an event.
"""
from __future__ import annotations

import re

from callbacks.surveys import DEFAULT_KEYS, campaign_question

ATTEMPT_RE = re.compile(r"^cb-[0-9a-f]{24}$")   # engine.tick's channel ids
QUESTION_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
NEGATIONS = ("不是", "不太", "不怎么", "没有", "不", "没")
UNKNOWN = "[unk]"


def clip_name(attempt: str, question: str) -> str | None:
    """`<attempt>-<question>.wav`, or None when either id is not ours."""
    if not ATTEMPT_RE.match(attempt) or not QUESTION_RE.match(question):
        return None
    return f"{attempt}-{question}.wav"


def words_for(campaigns: dict, campaign: str | None, question: str, default: dict[str, list[str]]
              ) -> dict[str, list[str]]:
    """The phrases of `question` of `campaign` (the default question: `default`); {} = no spoken step."""
    q = campaign_question(campaigns, campaign, question)
    if q is not None:
        return dict(q.words)
    return {k: v for k, v in default.items() if k in DEFAULT_KEYS} if question == "satisfaction" else {}


def grammar(words: dict[str, list[str]]) -> list[str]:
    """The recogniser's phrase list: every phrase once, and [unk] for anything else."""
    return sorted({p for phrases in words.values() for p in phrases}) + [UNKNOWN]


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text.replace(UNKNOWN, " "))


def spoken_key(text: str, words: dict[str, list[str]]) -> str | None:
    """The key `text` means (longest phrase wins, negation flips), or None."""
    said = _squash(text)
    table = {_squash(p): k for k, phrases in words.items() for p in phrases}
    found: list[tuple[int, str]] = []   # (length, key) per match
    for phrase, key in table.items():
        for m in re.finditer(re.escape(phrase), said):
            if any(len(o) > len(phrase) and phrase in o and _inside(said, o, m.start(), len(phrase)) for o in table):
                continue  # part of a longer phrase (满意 inside 不满意): that one counts
            before = said[:m.start()]
            neg = next((n for n in NEGATIONS if before.endswith(n)), None)
            if neg is None:
                found.append((len(phrase), key))
                continue
            flipped = next((table[f"不{phrase[i:]}"] for i in range(len(phrase)) if f"不{phrase[i:]}" in table), None)
            if flipped is not None:
                found.append((len(neg) + len(phrase), flipped))
    if not found:
        return None
    best = max(n for n, _ in found)
    keys = {k for n, k in found if n == best}
    return keys.pop() if len(keys) == 1 else None


def _inside(said: str, longer: str, start: int, length: int) -> bool:
    """Is the match at said[start:start+length] part of an occurrence of the longer phrase?"""
    return any(s <= start and start + length <= s + len(longer)
               for s in (m.start() for m in re.finditer(re.escape(longer), said)))
