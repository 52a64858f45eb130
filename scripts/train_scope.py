"""Train the out-of-scope vote (ivr.tickets.scope_vote) from the labelled sets in the repo.

    .venv/bin/python scripts/train_scope.py            # writes ivr/tickets/scope_model.json
    .venv/bin/python scripts/train_scope.py --check    # exit 1 if the shipped file differs

Why: the rules (lexicon.yaml `out_of_scope`) flag a 不受理 matter only when a
caller says one of its words (起诉, 仲裁, 纪委…); callers describe the same
matters without them (判决书下来了他不给, 村支书把扶贫的钱揣兜里了). A naive
Bayes vote of out-of-scope against ordinary matters over the emergency
classifier's features reads the wording as a whole. Same shape as
scripts/train_emergency.py (whose training list, blind list, counting and CLI
this reuses): counts shipped, same data, same bytes. Rows: every training row
labelled `out_of_scope` against every other row that is no emergency.

The threshold is picked by 5-fold cross-validation on the training rows alone:
the lowest log-odds at which the out-of-fold votes on ordinary matters where
the vote is asked (no out-of-scope word at all: where the rules excused one,
我不想打官司, 仲裁怎么申请, their reading stands) flag at most
MAX_ADDED_FLAGS of the ordinary matters. The
cross-validation figures say what the vote adds out of fold (OOS rows the
rules miss that it flags); docs/tickets.md says whether it shipped on.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from train_emergency import CATEGORY_ONLY, DATA, FOLDS, TRAIN, count, model_cli, model_text  # noqa: E402

from ivr.tickets.classifier import NONE, Model, features  # noqa: E402
from ivr.tickets.lexicon import default  # noqa: E402
from ivr.tickets.normalize import normalize  # noqa: E402
from ivr.tickets.scope import read_scope  # noqa: E402
from ivr.tickets.scope_vote import MODEL_FILE, OOS  # noqa: E402

MAX_ADDED_FLAGS = 0.02
# Not the set written for the category (it holds no out-of-scope matter and was not written to show what is).
SCOPE_TRAIN = [name for name in TRAIN if name not in CATEGORY_ONLY]


def rows() -> list[tuple[str, str]]:
    """(normalised text, "oos" or "none") of every training row that is no emergency, in file order."""
    lex = default()
    out = []
    for name in SCOPE_TRAIN:
        for line in (DATA / name).read_text(encoding="utf-8").splitlines():
            row = json.loads(line) if line.strip() else {}
            if row and not row.get("emergency_target"):
                out.append((normalize(row["text"], lex), OOS if row.get("out_of_scope") else NONE))
    return out


def pick_threshold(norms: list[str], data: list[tuple[list[str], str]]) -> tuple[float, dict]:
    lex = default()
    read = [read_scope(n, lex) for n in norms]
    ruled = [flag is not None for flag, _ in read]
    asked = [not said for _, said in read]   # the vote is asked only where the rules saw no scope word
    oof = [0.0] * len(data)
    for k in range(FOLDS):
        model = Model(count([d for i, d in enumerate(data) if i % FOLDS != k]))
        for i in range(k, len(data), FOLDS):
            oof[i] = model.vote_features(data[i][0]).log_odds
    ordinary = sorted((s for i, s in enumerate(oof) if data[i][1] == NONE and asked[i]), reverse=True)
    n_ordinary = sum(c == NONE for _, c in data)
    budget = int(MAX_ADDED_FLAGS * n_ordinary)
    threshold = round(ordinary[budget] + 0.001, 3) if len(ordinary) > budget else 0.0
    oos = [i for i, (_, c) in enumerate(data) if c == OOS]
    return threshold, {
        "folds": FOLDS, "ordinary": n_ordinary, "out_of_scope": len(oos),
        "rules_flag": sum(ruled[i] for i in oos),
        "rules_false_flags": sum(ruled[i] for i, (_, c) in enumerate(data) if c == NONE),
        "vote_adds": sum(oof[i] >= threshold and asked[i] for i in oos),
        "vote_false_flags_added": sum(s >= threshold for s in ordinary),
        "vote_alone_flags": sum(oof[i] >= threshold for i in oos)}


def train() -> tuple[str, dict]:
    labelled = rows()
    norms = [n for n, _ in labelled]
    data = [(features(n), c) for n, c in labelled]
    threshold, cv = pick_threshold(norms, data)
    model = count(data, threshold)
    head = {"trained_on": SCOPE_TRAIN, "cv": cv, **{k: model[k] for k in ("classes", "docs", "threshold")}}
    return model_text(head, model["counts"]), cv


def main(argv: list[str] | None = None) -> int:
    return model_cli(train, MODEL_FILE, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
