"""What every part of the config model shares: strictness, numbers, the safe string types.

A leaf of `ivr.config`: model.py and the per-feature model modules
(speech_model, seats_model, callbacks_model) all build on it.
"""
from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict

from ivr.config import safe

# Digits, optionally "-ext" (88348666-1). Nothing else reaches a dialplan.
NUMBER_RE = re.compile(r"^\d{3,15}(-\d{1,6})?$")
# A QA phrase is matched in transcripts of whatever language the speech model
# speaks (the test model is Korean), so Hangul syllables count as letters too;
# still letters and digits only: no spaces, punctuation or patterns.
_WORD_RE = re.compile(r"^[\u3400-\u9fff\uac00-\ud7a3A-Za-z0-9]{1,12}$")


def _words(words) -> None:
    """Phrases config lists as plain words (QA phrases, recordings): never patterns."""
    for w in words:
        if not _WORD_RE.match(w):
            raise ValueError(f"{w!r} is not a word: 1-12 Chinese or Korean characters, letters or digits")


class Strict(BaseModel):
    # Unknown keys are typos in a city's plan: reject them instead of ignoring.
    model_config = ConfigDict(extra="forbid")


def _number(value: str) -> str:
    value = str(value).strip()
    if not NUMBER_RE.match(value):
        raise ValueError(f"malformed number {value!r}: digits, optionally '-ext'")
    return value


def _reject(check):
    """A pydantic AfterValidator from one of `ivr.config.safe`'s *_error functions."""
    def run(value):
        if (reason := check(value)) is not None:
            raise ValueError(reason)
        return value
    return AfterValidator(run)


Member = Annotated[str, _reject(safe.member_error)]
TrunkName = Annotated[str, _reject(safe.trunk_name_error)]
Network = Annotated[str, _reject(safe.network_error)]
