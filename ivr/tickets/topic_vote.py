"""A trained vote on the department and the category, for where the rules are unsure.

Why: the rules (lexicon.yaml topics and categories) name a department only
when a caller says one of the words somebody wrote down; every blind set
showed callers describing a matter without any of them (砖厂冒黑烟, 后厨脏,
导游带进购物店), and the draft then said "no department". A naive Bayes
vote over what the labelled sets and the city's own plan say (the same
features as the emergency classifier, ivr.tickets.classifier: character
1-3-grams and pinyin of the normalised text) reads such matters from their
wording as a whole, and stays explainable: the reason shown is the handful of
n-grams that pulled hardest towards the chosen class over its runner-up.

How it combines with the rules (`decide`): the rules win when they are
confident (a line's number was said, the call came in on an old line, or their words scored `rules_win_at` or
more for a department other than the general pool; for the category, their
words scored `rules_win_at` or more). Otherwise the vote fills in when it
beats its runner-up by `margin` (log-score) or more. Both settings are
picked by cross-validation on the training sets (scripts/train_topics.py),
shipped in the model file, and a city overrides them (config `tickets.vote`).

The vote only chooses among the departments the city's config has (and the
general pool): a city whose departments are named differently gets no vote
on them until the model is retrained with its sets. Pure: reading the
shipped file once is the only I/O; it runs once per draft, not per partial.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ivr.tickets.classifier import Choice, Head, feature_set

MODEL_FILE = Path(__file__).with_name("topic_model.json")
HEADS = ("department", "category")


@dataclass(frozen=True)
class Reading:
    """What the rules found, with how strongly (draft.py)."""
    department: str
    line: str | None
    basis: str             # number | words | line | none
    department_score: int
    category: str
    category_score: int


class Model:
    def __init__(self, data: dict):
        self.settings: dict = data.get("settings", {})
        self.heads = {h: Head(data[h]) for h in HEADS}

    def votes(self, feats, departments: set[str]) -> dict[str, Choice | None]:
        """Both votes on a transcript's features; the department one among `departments` only."""
        return {"department": self.heads["department"].vote(feats, departments),
                "category": self.heads["category"].vote(feats)}


@lru_cache(maxsize=4)
def load(path: str = str(MODEL_FILE)) -> Model | None:
    """The shipped model, or None when none is shipped (the rules then work alone)."""
    p = Path(path)
    return Model(json.loads(p.read_text(encoding="utf-8"))) if p.exists() else None


def votes(norm: str, departments: set[str], model: Model | None = None) -> dict[str, Choice | None]:
    """Both votes on a normalised transcript; the department one among `departments` only."""
    model = model or load()
    if model is None:
        return dict.fromkeys(HEADS)
    return model.votes(feature_set(norm), departments)


def setting(settings: dict, model: Model | None, head: str, key: str, fallback: float) -> float:
    """A city's setting (config `tickets.vote.<head>.<key>`), else the shipped cross-validated one."""
    mine = (settings.get(head) or {}).get(key)
    if mine is not None:
        return mine
    return (model.settings.get(head) or {}).get(key, fallback) if model else fallback


def overrules(head: str, reading: Reading, vote: Choice | None, margin: float, rules_win_at: float,
              general_pool: str) -> bool:
    """Whether the vote replaces the rules' answer for `head` (see the module's docstring)."""
    if vote is None or vote.margin < margin:
        return False
    if head == "department":
        if reading.basis in ("number", "line") or vote.label == reading.department:
            return False
        return reading.department == general_pool or reading.department_score < rules_win_at
    return vote.label != reading.category and reading.category_score < rules_win_at


def decide(reading: Reading, norm: str, config, general_pool: str, why: dict,
           keywords: list[str]) -> tuple[str, str | None, str]:
    """(department, its line, category): the rules' reading with the vote filled in where it overrules."""
    settings = config.tickets.vote.model_dump()
    model = load() if settings.get("enabled", True) else None
    department, line, category = reading.department, reading.line, reading.category
    if model is None:
        return department, line, category
    departments = {ln.department for ln in config.lines} | {general_pool}
    found = votes(norm, departments, model)
    for head, vote in found.items():
        margin = setting(settings, model, head, "margin", 0.0)
        win_at = setting(settings, model, head, "rules_win_at", 1)
        if not overrules(head, reading, vote, margin, win_at, general_pool):
            continue
        keywords.append(f"vote:{head}:{vote.label}")
        why[head] = [f"模型({'、'.join(vote.reasons)})"]
        if head == "department":
            why["department_basis"] = "vote"
            department = vote.label
            line = next((ln.id for ln in config.lines if ln.department == vote.label), None)
        else:
            category = vote.label
    return department, line, category
