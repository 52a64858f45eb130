"""The `tickets.vote:` section: when the trained department/category vote may overrule the rules.

Why in config: the vote (ivr.tickets.topic_vote) fills in where the city's
words named no department or no request; how sure it must be before it does,
and how much rule evidence is enough to ignore it, is a city's trade between
"no department, choose one" and a wrong department, not a release's. Every
field is optional: unset keeps the shipped, cross-validated setting.
"""
from __future__ import annotations

from pydantic import Field

from ivr.config.base import Strict


class Head(Strict):
    # Margin (log-score of the best class over the runner-up) the vote needs; unset = the shipped one.
    margin: float | None = Field(None, ge=0, le=200)
    # Rule score from which the rules win over any vote; unset = the shipped one.
    rules_win_at: int | None = Field(None, ge=0, le=100)


class Vote(Strict):
    # Off: department and category come from the rules alone, as before the vote shipped.
    enabled: bool = True
    department: Head = Field(default_factory=Head)
    category: Head = Field(default_factory=Head)
