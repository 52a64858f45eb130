"""Spot an emergency in what a caller said, and say who takes it over.

Recall comes first: an emergency the front end does not hand to 110/119/120/
122 at once is the worst failure the product can have, a false alarm costs an
agent a few seconds. So the transcript is normalised (fillers out, dialect to
Mandarin, 幺二零 to 120, see ivr.tickets.normalize), every group of the
taxonomy (`emergency.groups` in lexicon.yaml) is looked for on characters and on
sound (a recognizer's 着伙 is 着火), and a phrase is dropped only when its own
clause says it is not happening now: negated (不是着火), past (去年, 之前),
hypothetical (万一, 要是) or, for fire/gas/explosion, a worry (怕着火). A word
saying "now" (现在, 刚才, 赶紧) ends the reach of a past word before it.
"""
from __future__ import annotations

import re

from ivr.tickets.classifier import model_vote
from ivr.tickets.lexicon import Group, Lexicon, default
from ivr.tickets.normalize import normalize
from ivr.tickets.possible import VERIFY, framing, possible_emergency
from ivr.tickets.sound import SoundIndex

_CLAUSE_END = re.compile(r"[，。！？；,.!?;\n]")
_WINDOW = 10  # without punctuation (raw ASR) a clause reaches this far back
_WIDE = 16    # hearsay, a fire put out, and whom it happens to reach this far


class _Tables:
    """Per group its regex; one regex for any group (most partials hold none);
    one sound index over every group's words, word -> groups; the cancelling words."""

    def __init__(self, lex: Lexicon):
        groups, owners = [], {}
        for name, g in lex.groups.items():
            for w in g.words:
                owners.setdefault(w, []).append(name)
            rx = "|".join([*(re.escape(w) for w in g.words), *(f"(?:{p})" for p in g.patterns)])
            groups.append((name, g, rx))
        self.anything = re.compile("|".join(f"(?:{rx})" for _, _, rx in groups if rx))
        self.groups = [(n, g, re.compile(rx)) for n, g, rx in groups if rx]
        self.sounds, self.owners = SoundIndex(owners), owners
        self.cues = [(name, g, [(re.compile(a), re.compile(b)) for a, b in g.cues]) for name, g in lex.groups.items()
                     if g.cues]
        self.cue_window = lex.cue_window
        self.cue_not_now = re.compile(lex.cue_not_now)
        self.negation = re.compile(lex.negation)
        self.not_now = re.compile(f"{lex.past}|{lex.hypothesis}")
        self.worry = re.compile(lex.worry)
        self.cancel_after = re.compile(lex.cancel_after)
        self.present = re.compile(lex.present)
        self.injured = re.compile(lex.injured)
        self.hearsay, self.put_out, self.not_human, self.person = (
            re.compile(lex.liveness[k]) for k in ("hearsay", "put_out", "not_human", "person"))
        self.worried, self.any_victim = lex.worry_also, lex.any_victim


def _clause_before(t: _Tables, text: str, start: int) -> str:
    head = _CLAUSE_END.split(text[max(0, start - _WINDOW):start])[-1]
    now = list(t.present.finditer(head))
    return head[now[-1].end():] if now else head


def _live(t: _Tables, text: str, start: int, end: int, hazard: bool, group: str | None = None) -> bool:
    """Happening now, to a person: not negated, past, hypothetical, a worry (fire/gas/blast, and the groups
    lexicon.yaml `worry_also` names), hearsay or fiction, a fire already put out, nor about an animal or a thing
    (except for the groups `any_victim` names)."""
    before = _clause_before(t, text, start)
    if t.negation.search(before) or t.not_now.search(before) or ((hazard or group in t.worried) and t.worry.search(before)):
        return False
    if t.cancel_after.match(text[end:]):
        return False
    wide = _CLAUSE_END.split(text[max(0, start - _WIDE):start])[-1]
    now = list(t.present.finditer(wide))
    if t.hearsay.search(wide[now[-1].end():] if now else wide):
        return False
    if hazard:   # whatever burns, a fire is one; once put out (浇灭了) it is over
        return not t.put_out.search(text, end, end + _WIDE)
    if group in t.any_victim:   # a live wire that killed a cow is a danger to the next person
        return True
    victim = None
    for victim in t.not_human.finditer(wide):
        pass   # the last animal or thing before the phrase: no emergency unless a person comes after it
    return victim is None or bool(t.person.search(wide + text[start:end], victim.end()))


def _found(t: _Tables, name: str, group: Group, norm: str, phrase: str, heard_as: str | None = None) -> dict:
    also = [n for n in group.also if n != group.target and t.injured.search(norm)]
    found = {"kind": name, "name": group.name, "target": group.target, "also": also, "phrase": phrase}
    if heard_as:
        found["heard_as"] = heard_as
    return found


def detect_emergency(text: str, lex: Lexicon | None = None) -> dict | None:
    """{"kind", "name", "target", "also", "phrase", ["heard_as"]} for the first live emergency, or None.

    `target` is the number to hand the call to; `also` the numbers to tell as
    well (120 for a crash or a fight with someone hurt). `phrase` is what the
    transcript says; `heard_as`, when present, the lexicon word it sounded
    like. `lex` is the city's lexicon (ivr.tickets.lexicon.lexicon_for), the
shipped one when None.
    """
    if not text:
        return None
    lex = lex or default()
    norm = normalize(text, lex)
    t: _Tables = lex.compiled("emergency", _Tables)
    found = _by_phrase(t, norm) or _by_cues(t, norm)
    if not found:
        return _agreed(lex, norm, _by_concepts(t, lex, norm)) or _by_model(lex, norm)
    found = _with_cause(t, lex, norm, found)
    ordinary = framing(norm, lex)
    if ordinary:  # 被同学打了 我想反映一下: still flagged, but the agent decides
        found.update(confidence="possible", reason=f"{VERIFY}：「{found['phrase']}」、" + "、".join(ordinary))
    return found


def _with_cause(t: _Tables, lex: Lexicon, norm: str, found: dict) -> dict:
    """A phrase tier names what is seen (blood, someone down); the concepts may
    name its cause (blows, a car, a current), and the cause decides who takes it
    over, as the group order already says for phrases (a knife fight is 110's).
    A word matched only by sound (上钓 for 上吊) gives way to the concepts.
    Someone hurt, by any harm concept, also tells the group's `also` numbers."""
    p = _possible(t, lex, norm)
    if not p:
        return found
    group = lex.groups.get(p["kind"])
    consequences = set(lex.possible.get("consequences", ()))
    if group and group.target != found["target"]:
        if found.get("heard_as"):  # one sound-alike word against several concepts: the concepts
            return _by_concepts(t, lex, norm) or found
        if found["kind"] in consequences and p["kind"] not in consequences:
            found = {**_found(t, p["kind"], group, norm, found["phrase"]), "cause": p["reason"]}
    group = lex.groups[found["kind"]]
    if p["harm"] and not found["also"]:
        found["also"] = [n for n in group.also if n != group.target]
    return found


def _by_phrase(t: _Tables, norm: str) -> dict | None:
    # Words as written first, in every group, then words by sound: 上掉 may be
    # a misheard 上吊, but 被电着了 in the same sentence is certain.
    if t.anything.search(norm):
        for name, group, rx in t.groups:
            for m in rx.finditer(norm):
                if m.end() > m.start() and _live(t, norm, m.start(), m.end(), group.hazard, name):
                    return _found(t, name, group, norm, m.group(0))
    by_group: dict[str, list] = {}
    for s in t.sounds.find(norm):
        if s.heard != s.word:
            for name in t.owners[s.word]:
                by_group.setdefault(name, []).append(s)
    for name, group, _ in t.groups:
        for s in sorted(by_group.get(name, ()), key=lambda s: (s.start, s.end)):
            if _live(t, norm, s.start, s.end, group.hazard, name):
                return _found(t, name, group, norm, s.heard, s.word)
    return None


def _possible(t: _Tables, lex: Lexicon, norm: str) -> dict | None:
    """The recall-first tier (ivr.tickets.possible): the same liveness checks
    per hit as a phrase, plus no habit word before it."""
    def live(start: int, end: int, hazard: bool) -> bool:
        return _live(t, norm, start, end, hazard) and not t.cue_not_now.search(_clause_before(t, norm, start))

    return possible_emergency(norm, lex, live)


def _by_concepts(t: _Tables, lex: Lexicon, norm: str) -> dict | None:
    """The possible tier when no tier above found a phrase; says by, confidence, score, reason."""
    p = _possible(t, lex, norm)
    group = p and lex.groups.get(p["kind"])
    if not group:
        return None
    found = _found(t, p["kind"], group, norm, p["phrase"])
    if p["harm"]:
        found["also"] = [n for n in group.also if n != group.target]
    found.update({k: p[k] for k in ("by", "confidence", "score", "reason")})
    return found


def _by_model(lex: Lexicon, norm: str) -> dict | None:
    """The trained vote (ivr.tickets.classifier) when no rule tier spoke: never a hand-over on its own,
    the agent is asked to verify, shown the n-grams that weighed most; says `"by": "model"`."""
    vote = model_vote(norm, lex.classifier)
    group = vote and lex.groups.get(vote.group)
    if not group:
        return None
    return {"kind": vote.group, "name": group.name, "target": group.target,
            "also": [n for n in group.also if n != group.target], "phrase": vote.reasons[0] if vote.reasons else "",
            "by": "model", "confidence": "possible", "score": vote.log_odds,
            "reason": f"{VERIFY}：模型({vote.log_odds:+.1f})：" + "、".join(vote.reasons)}


def _agreed(lex: Lexicon, norm: str, found: dict | None) -> dict | None:
    """A possible-tier alert is handed over when the trained vote names the same number
    (config `tickets.possible.classifier.agree_hands_over`): two independent readings agree."""
    if not found or found.get("confidence") != "possible" or not lex.classifier.get("agree_hands_over", True):
        return found
    vote = model_vote(norm, lex.classifier)
    group = vote and lex.groups.get(vote.group)
    if not group or group.target != found["target"]:
        return found
    reason = found["reason"].split("：", 1)[-1]
    return {**found, "confidence": "confident", "reason": f"紧急情况：{reason}；模型同意：" + "、".join(vote.reasons)}


def _by_cues(t: _Tables, norm: str) -> dict | None:
    """The lower tier: a thing and what happens to it near each other (黄河…卷走,
    老人…不动弹), in either order, within one clause of `cue_window` characters.
    Wording nobody wrote down still holds these; the draft says `"by": "cues"`."""
    for clause_start, clause in _clauses(norm):
        for name, group, pairs in t.cues:
            for what, happens in pairs:
                for m in what.finditer(clause):
                    lo, hi = max(0, m.start() - t.cue_window), m.end() + t.cue_window
                    h = happens.search(clause, lo, hi)
                    while h and (h.start() < m.end() and h.end() > m.start()):
                        h = happens.search(clause, h.end(), hi)
                    if not h:
                        continue
                    start, end = min(m.start(), h.start()), max(m.end(), h.end())
                    if _cue_live(t, norm, clause_start, m, h, group.hazard, name):
                        found = _found(t, name, group, norm, clause[start:end])
                        found["by"] = "cues"
                        return found
    return None


def _cue_live(t: _Tables, norm: str, at: int, what, happens, hazard: bool, group: str) -> bool:
    """Both parts live, and no habit (天天, 老是) or negation just before either:
    a weaker tier needs the stricter reading."""
    for part in (what, happens):
        start = at + part.start()
        if not _live(t, norm, start, at + part.end(), hazard, group) or t.cue_not_now.search(_clause_before(t, norm, start)):
            return False
    return True


def _clauses(norm: str):
    start = 0
    for part in _CLAUSE_END.split(norm):
        yield start, part
        start += len(part) + 1
