"""The `tickets.possible:` section: how readily the front end says 可能紧急 or hands a call over.

Why in config: the possible-emergency tier (ivr.tickets.possible) and the
trained classifier (ivr.tickets.classifier) trade false alarms against missed
emergencies, and that trade is a city's call (how many agents, how loud a
false alarm is), not a release's. Every field is optional: unset keeps the
shipped value (lexicon.yaml thresholds, the model's cross-validated threshold).
"""
from __future__ import annotations

from pydantic import Field, model_validator

from ivr.config.base import Strict


class Classifier(Strict):
    # Off: the rule tiers work alone, as before the model shipped.
    enabled: bool = True
    # Log-odds (emergency against ordinary) a vote must reach; unset = the shipped, cross-validated one.
    threshold: float | None = Field(None, ge=-50, le=200)
    # A possible-tier alert the model agrees with (same number) is handed over at once.
    agree_hands_over: bool = True


class Possible(Strict):
    # Concept score at which the agent is asked to verify (lexicon.yaml `thresholds.possible`, 3).
    alert: float | None = Field(None, gt=0, le=50)
    # Concept score at which the call is handed over at once (`thresholds.confident`, 5).
    hand_over: float | None = Field(None, gt=0, le=50)
    classifier: Classifier = Field(default_factory=Classifier)

    @model_validator(mode="after")
    def _order(self) -> "Possible":
        if self.alert is not None and self.hand_over is not None and self.hand_over < self.alert:
            raise ValueError(f"hand_over {self.hand_over} is below alert {self.alert}: a hand-over is also an alert")
        return self
