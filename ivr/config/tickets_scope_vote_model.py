"""The `tickets.scope_vote:` section: the trained out-of-scope vote (ivr.tickets.scope_vote).

Why in config: the vote flags 不受理 matters described without the plan's
words; how sure it must be is a city's trade between a missed flag and an
agent reading a wrong one, not a release's. Unset keeps the shipped,
cross-validated threshold.
"""
from __future__ import annotations

from pydantic import Field

from ivr.config.base import Strict


class ScopeVote(Strict):
    # Off: only the plan's words (lexicon.yaml out_of_scope) flag a matter, as before the vote shipped.
    enabled: bool = True
    # Log-odds (out of scope against ordinary) the vote must reach; unset = the shipped one.
    threshold: float | None = Field(None, ge=-200, le=200)
