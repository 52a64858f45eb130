"""The recall-first tier: "possible emergency" from danger concepts, scored.

Why: the phrase, sound and cue tiers (ivr.tickets.emergency) only know
wording somebody wrote down, and an untuned set showed each new hand finds
wording nobody did (卷到轮子底下, 脑袋砸开了, 胸口不动了). What stays the
same under new wording is the *kind* of thing said: a source of danger
(fire/smoke, a blast, gas, electricity, water, a height, a weapon, a vehicle),
something happening to a body (blood, a fall, no breath, no response,
vomiting, a child gone, blows, words of farewell), and that it is happening
now (刚才, 现在, 还在, 突然). So each concept is a broad class of words
(`emergency.possible.concepts` in lexicon.yaml, a city adds to them in its
own copy), every hit must be live on its own (not negated, past,
hypothetical, a worry or a habit: the same checks as the phrase tier), and
the hits near each other are scored:

    score = weights of the distinct concepts within `window` characters
          + `again` for each further hit of a concept already counted (up to `again_max`)
          + `present` when a now-word is in that stretch
          - `asking` once when the caller is plainly asking or complaining
            (报销, 投诉, 说法 …: callers in danger do not ask about fees)
          - `settled` once when it is over or was averted (差点, 没事了)
          - `habit` once when it happens all the time (天天, 老是: a standing
            nuisance, not an emergency) and nothing says "now" in the stretch,
            `nuisance` once for burning and smoke complaints (焚烧, 烧烤, 油烟)
            when the stretch is about fire

A stretch scoring `possible` or more is flagged; its group is that of the
first-listed concept in it (a concept's `with` names the group when another
concept is there too: violence with a family member is domestic violence).
Only a stretch scoring `confident` is handed over by the live path; below
that the agent is shown 「可能紧急，请核实」 with the suggested number and
the words that led to it, and decides. A false alarm here costs an agent a
few seconds; a missed emergency costs a life (issue 17).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ivr.tickets.lexicon import Lexicon

VERIFY = "可能紧急，请核实"
_SAID = {"asking": "询问", "settled": "已过去", "habit": "常态", "nuisance": "扰民"}


@dataclass(frozen=True)
class _Concept:
    name: str
    rx: re.Pattern
    weight: float
    group: str | None           # None: only counts with another concept (a family member, a child)
    needs: tuple[str, ...]      # counts only when one of these concepts is in the same stretch
    with_: dict                 # other concept -> group, when both are in the stretch
    harm: bool                  # something happening to a body: 120 is told as well
    hazard: bool                # fire/gas/blast: a worry (怕) before it is a report, not an emergency
    thing: bool                 # a thing or person: counts only next to something happening
    anywhere: bool              # who the story is about (a child, a husband): near every stretch


class _Tables:
    def __init__(self, lex: Lexicon):
        spec = lex.possible
        self.concepts = [
            _Concept(name, re.compile(c["words"]), float(c.get("weight", 1)), c.get("group"),
                     tuple(c.get("needs", ())), dict(c.get("with", {})), bool(c.get("harm", False)),
                     bool(c.get("hazard", False)), bool(c.get("thing", False)),
                     c.get("reach") == "utterance")
            for name, c in spec["concepts"].items()
        ]
        self.present = re.compile(spec["present"])
        self.damps = [(k, re.compile(spec[k])) for k in ("asking", "settled", "habit", "nuisance")]
        self.nuisance_groups = set(spec.get("nuisance_groups", ()))
        self.window = int(spec.get("window", 12))
        self.score = {k: float(spec["thresholds"][k]) for k in ("possible", "confident")}
        self.weights = {k: float(spec["weights"][k]) for k in ("present", "asking", "settled", "habit", "nuisance",
                                                           "again", "again_max")}


@dataclass(frozen=True)
class _Hit:
    concept: _Concept
    start: int
    end: int
    text: str


def framing(norm: str, lex: Lexicon) -> list[str]:
    """The words that make a phrase sound like an ordinary matter (asking, over, a habit), as shown."""
    if not lex.possible:
        return []
    t: _Tables = lex.compiled("possible", _Tables)
    return [f"{m.group(0)}({_SAID[kind]})" for kind, rx in t.damps if kind != "nuisance" and (m := rx.search(norm))]


def hands_over(found: dict) -> bool:
    """Whether the live path hands the call over at once, or asks the agent to verify."""
    return found.get("confidence") != "possible"


def possible_emergency(norm: str, lex: Lexicon, live) -> dict | None:
    """The best-scoring stretch of `norm` as an emergency dict, or None.

    `live(start, end, hazard)` is the phrase tier's check that a hit is
    happening now (not negated, past, hypothetical, habitual).
    """
    if not lex.possible:
        return None
    t: _Tables = lex.compiled("possible", _Tables)
    hits = [_Hit(c, m.start(), m.end(), m.group(0)) for c in t.concepts for m in c.rx.finditer(norm)
            if m.end() > m.start() and live(m.start(), m.end(), c.hazard)]
    if not hits:
        return None
    damp = [(m, kind) for kind, rx in t.damps if (m := rx.search(norm))]
    best = None
    for anchor in hits:
        lo, hi = anchor.start - t.window, anchor.end + t.window
        near = [h for h in hits if (h.start >= lo and h.end <= hi) or h.concept.anywhere]
        found = _score(t, norm, near, lo, hi, damp)
        if found and (best is None or found["score"] > best["score"]):
            best = found
    return best


def _score(t: _Tables, norm: str, near: list[_Hit], lo: int, hi: int, damp: list) -> dict | None:
    names = {h.concept.name for h in near}
    counted: dict[str, _Hit] = {}
    again = 0.0
    for h in near:
        c = h.concept
        if c.needs and not names.intersection(c.needs):
            continue
        first = counted.setdefault(c.name, h)
        if first is not h and h.start >= first.end and not c.thing:
            again += t.weights["again"]
    if all(h.concept.thing for h in counted.values()) or not any(h.concept.group for h in counted.values()):
        return None
    score = sum(h.concept.weight for h in counted.values()) + min(again, t.weights["again_max"])
    reasons = [f"{h.text}({h.concept.name})" for h in sorted(counted.values(), key=lambda h: h.start)]
    first = next(h for h in _ranked(t, counted) if h.concept.group)
    group = next((g for other, g in first.concept.with_.items() if other in counted), first.concept.group)
    now = t.present.search(norm, max(0, lo), max(0, hi))
    if now:
        score += t.weights["present"]
        reasons.append(f"{now.group(0)}(此刻)")
    for m, kind in damp:
        if (kind == "habit" and now) or (kind == "nuisance" and group not in t.nuisance_groups):
            continue  # 天天打娃 今天还在打 is now; a 烧烤摊 is a place unless the smoke is the matter
        score -= t.weights[kind]
        reasons.append(f"{m.group(0)}({_SAID[kind]})")
    if score < t.score["possible"]:
        return None
    start, end = min(h.start for h in counted.values()), max(h.end for h in counted.values())
    confident = score >= t.score["confident"]
    return {"kind": group, "group_from": first.concept.name, "phrase": norm[start:end], "by": "concepts",
            "score": round(score, 2), "confidence": "confident" if confident else "possible",
            "harm": any(h.concept.harm for h in counted.values()),
            "reason": ("紧急情况" if confident else VERIFY) + "：" + "、".join(reasons)}


def _ranked(t: _Tables, counted: dict) -> list[_Hit]:
    order = {c.name: i for i, c in enumerate(t.concepts)}
    return sorted(counted.values(), key=lambda h: order[h.concept.name])
