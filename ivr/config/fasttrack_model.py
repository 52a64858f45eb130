"""The `enterprise:` and `languages:` sections: fast tracks past the 12345 pool.

一企来 (涉企专席): callers from registered enterprise numbers wait ahead of
citizens (Asterisk's queue priority, QUEUE_PRIO) and may have a queue of their
own; an entry-menu key can offer the same to anyone. 外籍人士服务热线: one queue
per language (or dialect), optionally offered in the entry menu ("For
English, press 9"). What a call gets is decided in `ivr.plan.fasttrack`;
cross-references (queues, keys) are checked in `ivr.config.fasttrack_check`.
"""
from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field, field_validator

from ivr.config.base import Strict

# A caller's number as the operator types it: spaces and dashes ignored, +86/0086 dropped.
_CALLER_SEPARATORS = re.compile(r"[\s\-()]+")
_CALLER_RE = re.compile(r"^\d{5,20}$")
_KEY_RE = re.compile(r"^[0-9*#]$")


def caller_number(value: object) -> str:
    """The digits a caller ID carries, or ValueError saying what is wrong."""
    text = _CALLER_SEPARATORS.sub("", str(value))
    for prefix in ("+86", "0086"):
        if text.startswith(prefix):
            text = text[len(prefix):]
            break
    if not _CALLER_RE.match(text):
        raise ValueError(f"malformed caller number {str(value)[:40]!r}: 5-20 digits (+86 allowed)")
    return text


def _key(value: str | None) -> str | None:
    if value is not None and not _KEY_RE.match(str(value)):
        raise ValueError("a menu key is one DTMF key (0-9, * or #)")
    return None if value is None else str(value)


CallerNumber = Annotated[str, AfterValidator(caller_number)]
MenuKey = Annotated[str | None, AfterValidator(_key)]
# Labels and prompt texts reach the prompts pipeline and dialplan comments (escaped there): one line.
_ONE_LINE = re.compile(r"^[^\x00-\x1f\x7f\u2028\u2029]{1,80}$")


class Enterprise(Strict):
    """一企来: registered enterprises' numbers go ahead of citizens (涉企专席)."""
    numbers: list[CallerNumber] = Field(default_factory=list)
    # A YAML list written by `hotline plan enterprises import F.csv`, relative to config.yaml;
    # its numbers are added to `numbers` when the config is loaded (ivr.config.enterprise_file).
    numbers_file: str | None = None
    queue: str | None = None          # 涉企专席 queue; None: the queue the call would reach anyway
    priority: int = Field(10, ge=1, le=1000)  # QUEUE_PRIO: waits ahead of every priority-0 caller
    key: MenuKey = None               # entry-menu key to the enterprise track (anyone may press it)
    label: str = "涉企服务（一企来）"
    prompt: str = "企业办事请按8。"     # played after the menu prompt when `key` is set

    @field_validator("numbers_file")
    @classmethod
    def _file(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(r"[^\x00-\x1f\x7f]{1,255}", v):
            raise ValueError("a file path on one line")
        return v

    @field_validator("label", "prompt")
    @classmethod
    def _text(cls, v: str) -> str:
        if not _ONE_LINE.match(v):
            raise ValueError("1-80 characters on one line")
        return v


class Language(Strict):
    """外籍人士服务热线 / 方言坐席: a queue of agents speaking `name`."""
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,30}$")   # en, ja, ko, yue ...
    name: str                          # English, 日本語, 粤语
    queue: str                         # the language's queue id (in `queues`)
    key: MenuKey = None                # entry-menu key ("For English, press 9")
    prompt: str = ""                   # what the menu says for the key, in that language

    @field_validator("name", "prompt")
    @classmethod
    def _text(cls, v: str) -> str:
        if v and not _ONE_LINE.match(v):
            raise ValueError("1-80 characters on one line")
        return v
