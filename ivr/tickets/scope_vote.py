"""A trained vote on "is this a matter 12345 does not accept (不受理)", with its reasons.

Why: the out-of-scope rules (ivr.tickets.scope) need the plan's words
(起诉, 仲裁, 纪委, 复议…); callers describe such matters without them
(判决书下来三个月了他不给, 村支书把扶贫的钱揣到兜里了). A naive Bayes vote of
out-of-scope against ordinary matters, over the same features as the
emergency classifier (ivr.tickets.classifier: character 1-3-grams and pinyin
of the normalised text), reads the wording as a whole and stays explainable:
the draft names the n-grams that pulled hardest. It only adds a flag where
the rules have none; like the rules, it only flags, the agent decides.

The model is counts (`ivr/tickets/scope_model.json`, classes "none" and
"oos"), written by `scripts/train_scope.py` from the labelled sets in the
repo (never the blind ones) with a threshold picked by cross-validation so
that out of fold it flags at most 2 % of ordinary matters. Config
`tickets.scope_vote` switches it and may override the threshold. Pure:
reading the shipped file once is the only I/O.
"""
from __future__ import annotations

from pathlib import Path

from ivr.config.tickets_scope_vote_model import ScopeVote
from ivr.tickets.classifier import Vote, model_vote

MODEL_FILE = Path(__file__).with_name("scope_model.json")
OOS = "oos"
REASON = "可能不受理(模型)"   # out_of_scope_reason of a flag by the vote


def scope_vote(norm: str, settings: dict) -> Vote | None:
    """The vote when it is on (config `tickets.scope_vote`) and reaches its threshold, else None."""
    return model_vote(norm, settings, MODEL_FILE)


def flag_by_vote(norm: str, settings: ScopeVote) -> tuple[str, str] | None:
    """(reason, words) as ivr.tickets.scope.out_of_scope gives them, for a flag by the vote:
    (REASON, "村支书、兜里"), the n-grams that pulled hardest (one inside another shown once);
    None below the threshold or when off."""
    vote = scope_vote(norm, settings.model_dump())
    if vote is None:
        return None
    words = [w for w in vote.reasons if not any(w != o and w in o for o in vote.reasons)]
    return REASON, "、".join(words)
