"""Train the emergency classifier (ivr.tickets.classifier) from the labelled sets in the repo.

    .venv/bin/python scripts/train_emergency.py            # writes ivr/tickets/emergency_model.json
    .venv/bin/python scripts/train_emergency.py --check    # exit 1 if the shipped file differs

Why a script and counts: the shipped model must be reproducible from data in
the repo (issue 17), so the file is a pure function of the training sets:
same data, same bytes (a test checks it). The blind sets (BLIND) are never
read, nor the sets written for the topic vote only (TOPICS_ONLY). The
threshold is picked by 5-fold cross-validation on the training data alone:
out-of-fold log-odds of every utterance, then the lowest threshold at which
the votes the rules do not already cover add at most MAX_ADDED_ALARMS of the
ordinary utterances as alarms.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ivr.tickets.classifier import MODEL_FILE, NONE, Model, features  # noqa: E402
from ivr.tickets.emergency import detect_emergency  # noqa: E402
from ivr.tickets.lexicon import lexicon_for  # noqa: E402
from ivr.tickets.normalize import normalize  # noqa: E402

DATA = ROOT / "tests" / "data"
# The blind sets: phone_untuned_3 and every later one (a set written blind is never trained on, even one added
# after this line was written).
BLIND = re.compile(r"phone_untuned_([3-9]|\d\d+)\.jsonl")
TRAIN = sorted(p.name for p in [*DATA.glob("phone_*.jsonl"), *DATA.glob("utterances*.jsonl")]
               if not BLIND.fullmatch(p.name))
# Ordinary matters written for the department/category vote only (scripts/train_topics.py). Not fed to this
# model: as negatives they doubled the ordinary class, and out of fold the model alone then caught 88 instead of
# 106 of the 174 emergencies at the same alarm rate (a blind set lost 3 of 31; docs/tickets.md).
# phone_train_category.jsonl: ordinary matters written for the category rules and vote (docs/tickets.md, "How the
# category is decided"); not fed here for the same reason, nor to the out-of-scope vote (scripts/train_scope.py).
TOPICS_ONLY = {"phone_train_topics.jsonl", "phone_train_category.jsonl"}
CATEGORY_ONLY = {"phone_train_category.jsonl"}
EMERGENCY_TRAIN = [name for name in TRAIN if name not in TOPICS_ONLY]
RENAMED = {"traffic_injury": "traffic"}   # the sets' label -> the lexicon's group
MIN_DF = 2
FOLDS = 5
MAX_ADDED_ALARMS = 0.015
PARTIAL_STEP = 4


def rows() -> list[tuple[str, str]]:
    """(normalised text, class) of every training utterance, in file order."""
    lex = lexicon_for(None, {"classifier": {"enabled": False}})
    out = []
    for name in EMERGENCY_TRAIN:
        for line in (DATA / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                group = RENAMED.get(row.get("group"), row.get("group")) if row.get("emergency_target") else NONE
                if group is None:  # the older sets name the number only: the group the rules found for it
                    found = detect_emergency(row["text"], lex)
                    if not found or found["target"] != row["emergency_target"]:
                        continue
                    group = found["kind"]
                if group != NONE and group not in lex.groups:
                    raise SystemExit(f"{name}: group {group!r} is not in the lexicon")
                out.append((row["text"], group))
    return out


def count(data: list[tuple[list[str], str]], threshold: float = 0.0) -> dict:
    docs = Counter(c for _, c in data)
    df: dict[str, Counter] = {}
    for feats, c in data:
        for f in feats:
            df.setdefault(f, Counter())[c] += 1
    classes = sorted(docs, key=lambda c: (c != NONE, c))
    # A feature said once is noise the model would learn by heart (到车 from one crash): kept from twice on.
    kept = {f: {c: n for c, n in sorted(cs.items())} for f, cs in sorted(df.items()) if sum(cs.values()) >= MIN_DF}
    return {"classes": classes, "docs": {c: docs[c] for c in classes}, "threshold": threshold, "counts": kept}


def pick_threshold(texts: list[str], norms: list[str], data: list[tuple[list[str], str]]) -> tuple[float, dict]:
    """Out-of-fold log-odds, then the lowest threshold within the added-alarm budget.

    An ordinary utterance counts as an alarm when the vote on it, or on any of
    its partial transcripts (every PARTIAL_STEP characters, as the live path
    sees them), reaches the threshold while the rules say nothing."""
    lex = lexicon_for(None, {"classifier": {"enabled": False}})
    ruled = [detect_emergency(t, lex) is not None for t in texts]
    oof: list[tuple[float, str, str]] = [(0.0, "", "")] * len(data)
    for k in range(FOLDS):
        model = Model(count([d for i, d in enumerate(data) if i % FOLDS != k]))
        for i in range(k, len(data), FOLDS):
            vote = model.vote_features(data[i][0])  # no threshold: always a vote
            score = vote.log_odds
            if data[i][1] == NONE:
                score = max([score, *(model.vote(norms[i][:n]).log_odds
                                      for n in range(PARTIAL_STEP, len(norms[i]), PARTIAL_STEP))])
            oof[i] = (score, vote.group, data[i][1])
    ordinary = [s for i, (s, _, c) in enumerate(oof) if c == NONE and not ruled[i]]
    n_ordinary = sum(c == NONE for _, _, c in oof)
    budget = int(MAX_ADDED_ALARMS * n_ordinary)
    ordered = sorted(ordinary, reverse=True)
    threshold = round(ordered[budget] + 0.001, 3) if len(ordered) > budget else 0.0
    target = {name: g.target for name, g in lex.groups.items()}
    missed = [(s, g, c) for i, (s, g, c) in enumerate(oof) if c != NONE and not ruled[i]]
    emergencies = [(s, g, c) for s, g, c in oof if c != NONE]
    return threshold, {"folds": FOLDS, "ordinary": n_ordinary, "added_alarms": sum(s >= threshold for s in ordinary),
                       "emergencies_rules_miss": len(missed),
                       "of_them_caught_right_number": sum(s >= threshold and target[g] == target[c] for s, g, c in missed),
                       "emergencies": len(emergencies),
                       "caught_by_model_alone": sum(s >= threshold for s, _, _ in emergencies),
                       "caught_by_model_alone_right_number": sum(s >= threshold and target[g] == target[c]
                                                                 for s, g, c in emergencies)}


def train() -> tuple[str, dict]:
    labelled = rows()
    lex = lexicon_for(None, {"classifier": {"enabled": False}})
    norms = [normalize(t, lex) for t, _ in labelled]
    data = [(features(n), c) for n, (_, c) in zip(norms, labelled)]
    threshold, cv = pick_threshold([t for t, _ in labelled], norms, data)
    model = count(data, threshold)
    head = {"trained_on": EMERGENCY_TRAIN, "min_df": MIN_DF, "cv": cv, **{k: model[k] for k in ("classes", "docs", "threshold")}}
    return model_text(head, model["counts"]), cv


def model_text(head: dict, counts: dict) -> str:
    """The shipped file: `head` indented, then one line per feature's counts (a retraining diffs by feature)."""
    return json.dumps(head, ensure_ascii=False, indent=1)[:-2] + ',\n "counts": {\n' + counts_text(counts) + "\n}}\n"


def counts_text(counts: dict) -> str:
    """One line per feature: `"c:着火": {"fire":12,"none":1}`."""
    return ",\n".join(json.dumps(f, ensure_ascii=False) + ": " + json.dumps(c, ensure_ascii=False, separators=(",", ":"))
                      for f, c in counts.items())


def model_cli(train_fn, default_out: Path, doc: str, argv: list[str] | None = None) -> int:
    """Write the model `train_fn()` makes to `--out`, or with --check compare it with the shipped file
    (the shape every training script here shares)."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the shipped file instead of writing it")
    parser.add_argument("--out", default=str(default_out))
    args = parser.parse_args(argv)
    text, cv = train_fn()
    json.loads(text)
    if args.check:
        same = Path(args.out).exists() and Path(args.out).read_text(encoding="utf-8") == text
        print("shipped model matches a fresh training run" if same else f"{args.out} differs from a fresh run")
        return 0 if same else 1
    Path(args.out).write_text(text, encoding="utf-8")
    print(f"wrote {args.out}: {len(text)} bytes, settings and cross-validation {json.dumps(cv, ensure_ascii=False)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    return model_cli(train, MODEL_FILE, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
