"""The ticket-drafting lexicon as data: the shipped lexicon.yaml, with a city's overlay applied.

Why data and not code: the words callers use (a city's dialect, how they say
an emergency, which phrases name which department) change with every city
and every month of real calls; an operator must be able to add them without a
release, and read what the drafting runs on. lexicon.yaml holds the shipped
words; a city's overlay (config `tickets.lexicon`, inline or a file, same
shape) adds or reweighs words, and is checked entry by entry
(`overlay_problems`) so a typo is reported with its file and line instead of
silently never matching. A city's phrases are words, matched literally (and
by sound), never regular expressions: nothing from config is compiled as a
pattern.

Pure: reading the shipped file once is the only I/O. The modules that match
(draft, emergency, normalize, scope) compile what they need once per lexicon
and keep it on it (`Lexicon.compiled`).
"""
from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Mapping

import yaml

DEFAULT_FILE = Path(__file__).with_name("lexicon.yaml")
EMERGENCY_TARGETS = ("110", "119", "120", "122")
CATEGORIES = ("举报", "投诉", "求助", "意见建议", "咨询")
MAX_WEIGHT = 5
_WORD = re.compile(r"^[\u3400-\u9fffA-Za-z0-9]{1,12}$")
SECTIONS = ("topics", "categories", "departments", "dialect", "fillers", "emergency", "out_of_scope")

Problems = list[tuple[tuple, str]]  # (path inside the overlay, reason)


@dataclass(frozen=True)
class Group:
    """One emergency group: who takes it over, and how callers say it."""
    name: str
    target: str
    words: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    also: tuple[str, ...] = ()
    hazard: bool = False  # a report of a risk is common: 怕/担心 before it cancels
    # Pairs of (what, what happens) regexes: both near each other, in either
    # order, is this emergency said in words nobody wrote down (lower tier).
    cues: tuple[tuple[str, str], ...] = ()


class Lexicon:
    """The shipped data with one overlay applied; compiled tables cached on it."""

    def __init__(self, data: Mapping[str, Any]):
        self.general_pool: str = data["general_pool"]
        self.departments = {k: tuple(v) for k, v in data["departments"].items()}
        self.fallback: dict[str, str] = dict(data.get("fallback") or {})
        self.topics = {k: dict(v) for k, v in data["topics"].items()}
        self.negatable_kinds = tuple(data["negatable_kinds"])
        self.negation_before: str = data["negation_before"]
        self.categories = {k: dict(v) for k, v in data["categories"].items()}
        self.urgency: dict[str, str] = dict(data["urgency"])
        self.out_of_scope = {k: tuple(v) for k, v in data["out_of_scope"].items()}
        self.out_of_scope_howto: dict[str, str] = dict(data["out_of_scope_howto"])
        self.out_of_scope_negation: str = data["out_of_scope_negation"]
        self.fillers = tuple(data["fillers"])
        self.dialect: dict[str, str] = dict(data["dialect"])  # regex -> Mandarin, in order
        em = data["emergency"]
        self.groups = {
            name: Group(g.get("name", name), str(g["target"]), tuple(g.get("words", ())), tuple(g.get("patterns", ())),
                        tuple(str(t) for t in g.get("also", ())), bool(g.get("hazard", False)),
                        tuple((a, b) for a, b in g.get("cues", ())))
            for name, g in em["groups"].items()
        }
        self.cue_window: int = int(em.get("cue_window", 0))
        self.possible: dict = dict(em.get("possible") or {})  # the recall-first tier (ivr.tickets.possible)
        self.cue_not_now: str = em.get("cue_not_now", "$^")
        self.negation, self.past, self.hypothesis = em["negation"], em["past"], em["hypothesis"]
        self.worry, self.cancel_after, self.present, self.injured = (
            em["worry"], em["cancel_after"], em["present"], em["injured"])
        # hearsay, put_out, worry_also, not_human, person (ivr.tickets.emergency._live); a city overlay may omit them
        self.liveness: dict = {k: em.get(k, "$^") for k in ("hearsay", "put_out", "not_human", "person")}
        self.worry_also, self.any_victim = (frozenset(em.get(k, ())) for k in ("worry_also", "any_victim"))
        self._compiled: dict[str, Any] = {}
        self.classifier: dict = {}  # config tickets.possible.classifier (ivr.tickets.classifier.model_vote)

    def compiled(self, name: str, build: Callable[["Lexicon"], Any]) -> Any:
        """`build(self)` once per lexicon (regexes, sound indexes), then the kept result."""
        if name not in self._compiled:
            self._compiled[name] = build(self)
        return self._compiled[name]


@lru_cache(maxsize=1)
def _shipped() -> dict:
    return yaml.safe_load(DEFAULT_FILE.read_text(encoding="utf-8"))


def default() -> Lexicon:
    return lexicon_for(None)


def lexicon_for(overlay: Mapping[str, Any] | None, possible: Mapping[str, Any] | None = None) -> Lexicon:
    """The shipped lexicon with `overlay` (already checked) applied and the city's possible-tier settings
    (config `tickets.possible`: thresholds, the classifier); one object per distinct pair."""
    return _cached(json.dumps([overlay or {}, possible or {}], ensure_ascii=False, sort_keys=True))


@lru_cache(maxsize=32)
def _cached(key: str) -> Lexicon:
    overlay, possible = json.loads(key)
    data = copy.deepcopy(_shipped())
    apply_overlay(data, overlay)
    thresholds = data["emergency"]["possible"]["thresholds"]
    for mine, shipped in (("alert", "possible"), ("hand_over", "confident")):
        if possible.get(mine) is not None:
            thresholds[shipped] = possible[mine]
    lex = Lexicon(data)
    lex.classifier = dict(possible.get("classifier") or {})
    return lex


def apply_overlay(data: dict, overlay: Mapping[str, Any]) -> None:
    """Merge a checked overlay into the shipped data: words add, a weight reweighs (0 removes),
    departments and targets replace; a city's dialect words go before the shipped ones."""
    for kind, words in (overlay.get("departments") or {}).items():
        data["departments"][kind] = list(words)
    for table, entries in (("topics", overlay.get("topics")), ("categories", overlay.get("categories"))):
        for key, words in (entries or {}).items():
            if table == "topics" and key not in data["departments"]:
                data["departments"][key] = [key]  # a department named as in the city's lines
            weights = data[table].setdefault(key, {})
            for word, weight in words.items():
                weights.pop(word, None)
                if weight:
                    weights[re.escape(word)] = weight
    data["fillers"] = [*data["fillers"], *(overlay.get("fillers") or ())]
    city_dialect = {re.escape(k): v for k, v in (overlay.get("dialect") or {}).items()}
    data["dialect"] = {**city_dialect, **{k: v for k, v in data["dialect"].items() if k not in city_dialect}}
    groups = data["emergency"]["groups"]
    for name, spec in (overlay.get("emergency") or {}).items():
        spec = {"words": spec} if isinstance(spec, list) else spec  # shorthand: group: [words]
        group = groups.setdefault(name, {"name": name, "target": spec.get("target"), "words": [], "patterns": []})
        for field in ("name", "target", "also"):
            if field in spec:
                group[field] = spec[field]
        group["words"] = [*group.get("words", ()), *spec.get("words", ())]
    for reason, words in (overlay.get("out_of_scope") or {}).items():
        data["out_of_scope"][reason] = [*data["out_of_scope"].get(reason, ()), *(re.escape(w) for w in words)]


def _word_problem(word: Any) -> str | None:
    if word is None or (isinstance(word, str) and not word.strip()):
        return "empty phrase"
    if not isinstance(word, str) or not _WORD.match(word):
        return f"{word!r} is not a word: 1-12 Chinese characters, letters or digits"
    return None


def _words(value: Any, path: tuple, problems: Problems) -> list[str]:
    if not isinstance(value, list):
        problems.append((path, "must be a list of words"))
        return []
    good = []
    for i, word in enumerate(value):
        reason = _word_problem(word)
        if reason:
            problems.append(((*path, i), reason))
        else:
            good.append(word)
    return good


def _weights(value: Any, path: tuple, problems: Problems) -> dict[str, int]:
    if not isinstance(value, dict):
        problems.append((path, "must be a mapping of phrase: weight"))
        return {}
    good = {}
    for word, weight in value.items():
        reason = _word_problem(word)
        try:
            number = int(str(weight))
        except ValueError:
            number = -1
        if reason is None and not 0 <= number <= MAX_WEIGHT:
            reason = f"weight {weight} must be 0-{MAX_WEIGHT} (0 removes a shipped phrase)"
        if reason:
            problems.append(((*path, word), reason))
        else:
            good[word] = number
    return good


def _target(value: Any, path: tuple, problems: Problems) -> str | None:
    if str(value) not in EMERGENCY_TARGETS:
        problems.append((path, f"bad emergency target {value!r}: one of {', '.join(EMERGENCY_TARGETS)}"))
        return None
    return str(value)


def overlay_problems(overlay: Any, departments: set[str] | None = None) -> tuple[dict, Problems]:
    """(the overlay with only good entries and proper types, [(path, reason)...]).

    `departments`: the department names of the city's lines; a `topics` key
    must be a department kind of the lexicon or one of these (None: not
    checked, for a config built in code without its lines at hand).
    """
    problems: Problems = []
    if overlay in (None, ""):
        return {}, problems
    if not isinstance(overlay, dict):
        return {}, [((), "must be a mapping (topics:, categories:, dialect:, fillers:, emergency:, ...)")]
    shipped = _shipped()
    out: dict[str, Any] = {}
    for section in overlay:
        if section not in SECTIONS:
            problems.append(((section,), f"unknown section; known: {', '.join(SECTIONS)}"))
    kinds = set(shipped["departments"])
    if isinstance(overlay.get("departments"), dict):
        out["departments"] = {}
        for kind, words in overlay["departments"].items():
            good = _words(words, ("departments", kind), problems)
            if good:
                out["departments"][kind] = good
                kinds.add(kind)
    for section, known in (("topics", None), ("categories", CATEGORIES)):
        if section not in overlay:
            continue
        if not isinstance(overlay[section], dict):
            problems.append(((section,), "must be a mapping"))
            continue
        out[section] = {}
        for key, words in overlay[section].items():
            if section == "categories" and key not in known:
                problems.append(((section, key), f"unknown category {key!r}; known: {', '.join(CATEGORIES)}"))
                continue
            if section == "topics" and key not in kinds and departments is not None and key not in departments:
                problems.append(((section, key), f"unknown department {key!r}: neither a department of lines: "
                                 f"nor a kind ({', '.join(sorted(kinds))})"))
                continue
            out[section][key] = _weights(words, (section, key), problems)
    if "dialect" in overlay:
        value = overlay["dialect"]
        if not isinstance(value, dict):
            problems.append((("dialect",), "must be a mapping of dialect word: Mandarin"))
        else:
            out["dialect"] = {}
            for word, mandarin in value.items():
                reason = _word_problem(word) or _word_problem(mandarin)
                if reason:
                    problems.append((("dialect", word), reason))
                else:
                    out["dialect"][word] = mandarin
    if "fillers" in overlay:
        out["fillers"] = _words(overlay["fillers"], ("fillers",), problems)
    if "out_of_scope" in overlay:
        if not isinstance(overlay["out_of_scope"], dict):
            problems.append((("out_of_scope",), "must be a mapping of reason: [words]"))
        else:
            out["out_of_scope"] = {r: _words(ws, ("out_of_scope", r), problems) for r, ws in overlay["out_of_scope"].items()}
    if "emergency" in overlay:
        out["emergency"] = _emergency(overlay["emergency"], shipped["emergency"]["groups"], problems)
    return out, problems


def _emergency(value: Any, groups: dict, problems: Problems) -> dict:
    if not isinstance(value, dict):
        problems.append((("emergency",), "must be a mapping of group: {words, target, also, name}"))
        return {}
    out = {}
    for name, spec in value.items():
        path = ("emergency", name)
        if isinstance(spec, list):  # shorthand: group: [words]
            spec = {"words": spec}
        if not isinstance(spec, dict):
            problems.append((path, "must be a list of words or a mapping {words, target, also, name}"))
            continue
        unknown = set(spec) - {"words", "target", "also", "name"}
        if unknown:
            problems.append(((*path, sorted(unknown)[0]), "unknown field; known: words, target, also, name"))
        if name not in groups and "target" not in spec:
            problems.append((path, f"unknown group {name!r}; a new group needs a target "
                                   f"({', '.join(EMERGENCY_TARGETS)}); known: {', '.join(groups)}"))
            continue
        good: dict[str, Any] = {"words": _words(spec.get("words", []), (*path, "words"), problems)}
        if "target" in spec:
            target = _target(spec["target"], (*path, "target"), problems)
            if target is None:
                continue
            good["target"] = target
        if "also" in spec:
            also = spec["also"] if isinstance(spec["also"], list) else [spec["also"]]
            good["also"] = [t for i, t in enumerate(also) if _target(t, (*path, "also", i), problems)]
        if "name" in spec:
            if _word_problem(spec["name"]):
                problems.append(((*path, "name"), _word_problem(spec["name"])))
            else:
                good["name"] = spec["name"]
        out[name] = good
    return out
