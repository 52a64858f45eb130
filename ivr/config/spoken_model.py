"""`callbacks.spoken`: a short spoken 满意/不满意 where a survey question got no key (docs/callbacks.md).

Used only when `speech.enabled`. The words are the recogniser's whole grammar
for the clip (Vosk restricted to them), so they are short plain phrases:
Chinese (or, for the Korean test model, Hangul) characters, letters and
digits, words separated by single spaces; never patterns, never punctuation.
Folders reach the dialplan's Record(): safe absolute paths only.
"""
from __future__ import annotations

import re

from pydantic import Field, field_validator

from ivr.config.base import Strict
from ivr.config.recordings_model import _folder

_PHRASE_RE = re.compile(r"^[\u3400-\u9fff\uac00-\ud7a3A-Za-z0-9]{1,12}( [\u3400-\u9fff\uac00-\ud7a3A-Za-z0-9]{1,12}){0,3}$")
# The default satisfaction question (满意1 / 基本满意2 / 不满意3): what people say for each.
DEFAULT_WORDS = {"1": ["满意", "很满意", "非常满意", "挺满意"], "2": ["基本满意", "还可以", "一般", "还行"],
                 "3": ["不满意", "很不满意", "非常不满意", "不太满意"]}


def check_words(words: dict[str, list[str]], keys: dict[str, str] | None = None) -> dict[str, list[str]]:
    """Key -> phrases, each key one digit (among `keys` when given), each phrase a plain short phrase."""
    seen: dict[str, str] = {}
    for key, phrases in words.items():
        if not re.fullmatch(r"[0-9]", str(key)) or (keys is not None and key not in keys):
            raise ValueError(f"words: key {key!r} must be one of the question's keys")
        if not phrases or len(phrases) > 20:
            raise ValueError(f"words.{key}: 1-20 phrases")
        for p in phrases:
            if not isinstance(p, str) or not _PHRASE_RE.match(p):
                raise ValueError(f"words.{key}: {p!r} is not a plain phrase: up to 4 words of 1-12 Chinese or "
                                 "Korean characters, letters or digits, single spaces, no punctuation")
            if seen.setdefault(p, key) != key:
                raise ValueError(f"words: {p!r} is listed for keys {seen[p]} and {key}")
    return words


class Spoken(Strict):
    """The recording step and the default question's words (each campaign question has its own `words`)."""

    # Where Asterisk's Record() writes the clip (as Asterisk sees it) and where this server reads it
    # (default: `folder`, or inside `asterisk.root` for the embedded Asterisk).
    folder: str = "/var/spool/asterisk/hotline-spoken"
    local_folder: str | None = None
    prompt: str = "请说满意或不满意。"            # prompt id callback-speak
    seconds: int = Field(4, ge=2, le=8)          # the clip's longest length
    silence: int = Field(2, ge=1, le=5)          # Record() stops after this much silence (whole seconds)
    words: dict[str, list[str]] = Field(default_factory=lambda: {k: list(v) for k, v in DEFAULT_WORDS.items()})

    _v_folder = field_validator("folder", "local_folder")(lambda cls, v: _folder(v))
    _v_words = field_validator("words")(lambda cls, v: check_words(v, {"1": "", "2": "", "3": ""}))
