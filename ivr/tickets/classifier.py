"""A small trained vote on "is this an emergency, and which group", with its reasons.

Why: the rule tiers (ivr.tickets.emergency, ivr.tickets.possible) know only
wording and concepts somebody wrote down; every blind set showed new callers
find wording nobody did. A naive Bayes model over what the labelled sets
*say* (character 1-3-grams of the normalised text, and the pinyin syllables
and syllable pairs of it, so a recogniser's 着活 still reads zhao2 huo2)
generalises a little past the written rules, and stays explainable: every
feature's pull is a log-ratio of two counts, so the reason shown to the
agent is the handful of n-grams that weighed most.

The model is counts, not weights: `ivr/tickets/emergency_model.json` holds,
per feature seen in at least `min_df` training utterances, how many
utterances of each class ("none" or an emergency group) contained it. It is
written by `scripts/train_emergency.py` from the labelled sets in the repo
(never the blind ones), deterministically, and shipped. Two votes, both
multinomial naive Bayes over the features an utterance has (each once):
- emergency or not: all groups pooled against "none", as log-odds;
- which group: the same over the groups alone.
The log-odds threshold (picked by cross-validation on the training data,
config `tickets.possible.classifier.threshold` overrides) decides a vote.
Pure: reading the shipped file once is the only I/O.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ivr.tickets.sound import reading

MODEL_FILE = Path(__file__).with_name("emergency_model.json")
NONE = "none"
ALPHA = 0.3   # additive smoothing (picked by cross-validation on the training sets)
_PUNCT = frozenset("，。！？；、,.!?;")
SHOWN = 4     # n-grams named in the reason


def features(norm: str) -> list[str]:
    """Sorted distinct features of a normalised transcript: c:<1-3 characters>, p:<syllable[ syllable]>."""
    return sorted(feature_set(norm))


def feature_set(norm: str) -> set[str]:
    text = "".join(ch for ch in norm if not ch.isspace() and ch not in _PUNCT)
    out = {"c:" + text[i:i + n] for n in (1, 2, 3) for i in range(len(text) - n + 1)}
    syl = [r if r != ch and r.isascii() else None for ch in text for r in (reading(ch),)]
    out.update("p:" + s for s in syl if s)
    out.update(f"p:{a} {b}" for a, b in zip(syl, syl[1:]) if a and b)
    return out


def smoothed_log_p(n: int, of: int, vocab: int) -> float:
    """log P(feature | class) of a multinomial naive Bayes: `n` of the class's `of` feature
    counts, additive smoothing (ALPHA) over a vocabulary of `vocab` features."""
    return math.log((n + ALPHA) / (of + ALPHA * vocab))


@dataclass(frozen=True)
class Choice:
    """A head's pick among its classes."""
    label: str
    margin: float          # log-score over the runner-up
    reasons: list[str]     # the n-grams that pulled hardest towards `label` over the runner-up


class Head:
    """One multinomial naive Bayes over document counts: which of its classes. The emergency model's
    group vote and the department/category vote (ivr.tickets.topic_vote) are each one."""

    def __init__(self, data: dict):
        self.classes: list[str] = list(data["classes"])
        docs, counts = data["docs"], data["counts"]
        vocab = len(counts)
        total = {c: sum(cs.get(c, 0) for cs in counts.values()) for c in self.classes}
        n = sum(docs[c] for c in self.classes)
        self.prior = {c: math.log(docs[c] / n) for c in self.classes}
        self.base = {c: smoothed_log_p(0, total[c], vocab) for c in self.classes}
        self.log_p = {f: {c: smoothed_log_p(k, total[c], vocab) for c, k in cs.items() if c in total}
                      for f, cs in counts.items()}

    def vote(self, feats, allowed: set[str] | None = None) -> Choice | None:
        classes = [c for c in self.classes if allowed is None or c in allowed]
        if len(classes) < 2:
            return None
        feats = sorted(f for f in feats if f in self.log_p)

        def lp(f: str, c: str) -> float:
            return self.log_p[f].get(c, self.base[c])

        scores = {c: self.prior[c] + sum(lp(f, c) for f in feats) for c in classes}
        ranked = sorted(classes, key=lambda c: (-scores[c], classes.index(c)))
        best, second = ranked[0], ranked[1]
        pull = {f: lp(f, best) - lp(f, second) for f in feats}
        top = sorted((f for f in feats if pull[f] > 0), key=lambda f: (f[0] != "c", -pull[f], f))[:3 * SHOWN]
        return Choice(best, round(scores[best] - scores[second], 3), [shown(f) for f in _words(top)[:SHOWN]])


def _words(top: list[str]) -> list[str]:
    """The strongest n-grams with the longer one kept where one holds another (老板说, not also 老板)."""
    longest = sorted(top, key=lambda f: (-len(f), top.index(f)))
    kept = set(distinct(longest))
    return [f for f in top if f in kept]


@dataclass(frozen=True)
class Vote:
    group: str
    log_odds: float        # emergency against none
    reasons: list[str]     # the n-grams that pulled hardest towards an emergency


class Model:
    """Counts per feature and class, turned into log-ratios once."""

    def __init__(self, data: dict):
        self.threshold = float(data.get("threshold", 0.0))
        self.groups = [c for c in data["classes"] if c != NONE]
        docs, counts = data["docs"], data["counts"]
        vocab = len(counts)
        total = {c: sum(cs.get(c, 0) for cs in counts.values()) for c in data["classes"]}
        em_total = sum(total[g] for g in self.groups)
        self.prior = math.log(sum(docs[g] for g in self.groups) / docs[NONE])

        self.pull: dict[str, float] = {}            # log P(f|emergency) / P(f|none)
        for feat, cs in counts.items():
            em = sum(cs.get(g, 0) for g in self.groups)
            self.pull[feat] = (smoothed_log_p(em, em_total, vocab)
                               - smoothed_log_p(cs.get(NONE, 0), total[NONE], vocab))
        self.group_head = Head({"classes": self.groups, "docs": docs, "counts": counts})   # which group

    def vote(self, norm: str, threshold: float | None = None) -> Vote | None:
        """The vote on a normalised transcript; None when `threshold` is given and not reached."""
        return self.vote_features(feature_set(norm), threshold)

    def vote_features(self, feats, threshold: float | None = None) -> Vote | None:
        feats = sorted(f for f in feats if f in self.pull)   # sorted: the same sums in the same order
        log_odds = self.prior + sum(self.pull[f] for f in feats)
        if threshold is not None and log_odds < threshold:
            return None   # most transcripts: no group to weigh (every partial of the live path comes here)
        choice = self.group_head.vote(feats)
        group = choice.label if choice else self.groups[0]
        # Characters first (what the agent can read in the transcript), syllables when they alone pulled.
        top = sorted((f for f in feats if self.pull[f] > 0), key=lambda f: (f[0] != "c", -self.pull[f], f))
        return Vote(group, round(log_odds, 3), [shown(f) for f in distinct(top)[:SHOWN]])


def distinct(feats: list[str]) -> list[str]:
    """Drop an n-gram contained in one already kept (血 after 流血), so the reason names different words."""
    kept: list[str] = []
    for f in feats:
        if not any(f[2:] in k[2:] and f[:2] == k[:2] for k in kept):
            kept.append(f)
    return kept


def shown(feat: str) -> str:
    return feat[2:] if feat.startswith("c:") else f"[{feat[2:]}]"


@lru_cache(maxsize=4)
def load(path: str = str(MODEL_FILE)) -> Model | None:
    """The shipped model, or None when none is shipped (the rule tiers then work alone)."""
    p = Path(path)
    return Model(json.loads(p.read_text(encoding="utf-8"))) if p.exists() else None


def model_vote(norm: str, settings: dict, path: Path = MODEL_FILE) -> Vote | None:
    """The vote when the classifier is on (config `tickets.possible.classifier`) and reaches its threshold;
    `path` names another model of the same shape (the out-of-scope vote, ivr.tickets.scope_vote)."""
    model = load(str(path)) if settings.get("enabled", True) else None
    if model is None:
        return None
    threshold = settings.get("threshold")
    return model.vote(norm, model.threshold if threshold is None else threshold)
