"""The `callbacks:` section: outbound calls (回访, 漏接回拨) of the callbacks/ package; docs/callbacks.md."""
from __future__ import annotations

import datetime as dt
import re

from typing import Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from ivr.config.base import Strict, TrunkName, _number
from ivr.config.spoken_model import Spoken, check_words

_WINDOW_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")
CALLBACK_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun", "makeup", "holiday")
CALLBACK_CAUSES = ("busy", "no_answer", "rejected", "unreachable", "congestion", "failed")
_QID = r"^[a-z0-9][a-z0-9_-]*$"  # a queue or line id, as in queues:/lines:
_DEFAULT_RATING = {"1": "满意", "2": "基本满意", "3": "不满意"}
_DEFAULT_RETRY = {"busy": 600, "no_answer": 1800, "rejected": 7200, "unreachable": 3600, "congestion": 300, "failed": 900}


def _default_windows() -> dict[str, list[str]]:
    work = ["09:00-12:00", "14:00-20:00"]
    return {d: list(work) for d in ("mon", "tue", "wed", "thu", "fri", "makeup")} | {"sat": ["10:00-12:00"], "sun": [], "holiday": []}


class Question(Strict):
    """One question of a 回访 campaign: its prompt, the keys it accepts and what each means."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")
    prompt: str = Field(min_length=1, max_length=500)   # text for the prompts pipeline
    keys: dict[str, str] = Field(min_length=1)           # "1": 满意 …
    redo: list[str] = Field(default_factory=list)        # keys that flag the ticket for 重办
    words: dict[str, list[str]] = Field(default_factory=dict)  # key -> spoken phrases (speech.enabled)

    @model_validator(mode="after")
    def _keys(self) -> "Question":
        if self.id == OFFER_QUESTION:
            raise ValueError(f"question id {OFFER_QUESTION!r} is reserved (the offer of an agent, offer_agent)")
        for k in [*self.keys, *self.redo]:
            if not re.fullmatch(r"[0-9]", k):
                raise ValueError(f"{self.id}: key {k!r} must be one digit 0-9")
        if set(self.redo) - set(self.keys):
            raise ValueError(f"{self.id}: redo keys must be among keys")
        check_words(self.words, self.keys)
        return self


OFFER_QUESTION = "offer"   # the answer to the offer of an agent (callbacks/surveys.py)
OFFER_DEFAULT = "default"  # offer_agent key of the default satisfaction survey


class OfferAgent(Strict):
    """After a 重办 answer (a key in the question's `redo`): offer an agent; 0 joins `queue`."""

    queue: str = Field(pattern=_QID)                     # a queue id in queues:
    prompt: str = Field("如需人工服务请按0，结束请挂机。", min_length=1, max_length=500)


class Rating(Strict):
    """一次一评: after the agent hangs up, the caller rates the service (per queue and line)."""

    queues: list[str] = Field(default_factory=list)      # queue ids where callers are asked
    lines: list[str] = Field(default_factory=list)       # line ids where callers are asked
    prompt: str = "对本次服务满意请按1，基本满意请按2，不满意请按3。"
    keys: dict[str, str] = Field(default_factory=lambda: dict(_DEFAULT_RATING))
    satisfied: list[str] = Field(default_factory=lambda: ["1", "2"])  # keys counted as satisfied

    _v_ids = field_validator("queues", "lines")(lambda cls, v: [_id(x) for x in v])

    @field_validator("keys")
    @classmethod
    def _digits(cls, v: dict[str, str]) -> dict[str, str]:
        if not v or any(not re.fullmatch(r"[0-9]", k) for k in v):
            raise ValueError("keys must be single digits 0-9 with their meaning")
        return v

    @property
    def enabled(self) -> bool:
        return bool(self.queues or self.lines)


def _id(v: str) -> str:
    if not re.fullmatch(_QID, str(v)):
        raise ValueError(f"{v!r}: lower-case letters, digits, - and _")
    return v


class Callbacks(Strict):
    """Outbound calls (回访, callbacks): one engine, one trunk, windows, retries."""

    enabled: bool = False
    trunk: TrunkName = "pstn"                        # a name in `trunks`
    caller_id: str = "12345"
    channels: int = Field(30, ge=1, le=10000)        # channels the trunk carries in all
    reserve_inbound: int = Field(20, ge=0, le=10000)  # never used by callbacks
    max_attempts: int = Field(3, ge=1, le=10)
    ring_timeout: int = Field(30, ge=5, le=120)
    # seconds to wait before the next attempt, by the cause of the failed one
    retry_after: dict[str, int] = Field(default_factory=lambda: dict(_DEFAULT_RETRY))
    # per weekday, "makeup" (调休上班日) and "holiday": local "HH:MM-HH:MM" windows
    windows: dict[str, list[str]] = Field(default_factory=_default_windows)
    calendars: list[str] = Field(default_factory=lambda: ["cn-2026"])  # shipped data, callbacks/calendars/
    holidays: list[dt.date] = Field(default_factory=list)   # more days off
    workdays: list[dt.date] = Field(default_factory=list)   # more 调休 working days
    do_not_call: list[str] = Field(default_factory=list)
    poll_seconds: float = Field(2.0, gt=0, le=60)
    survey_prompt: str = "您好，这里是12345热线回访。对本次服务满意请按1，基本满意请按2，不满意请按3。"
    thanks_prompt: str = "感谢您的评价，再见。"
    # 漏接回拨: a caller who hung up after waiting `missed_after` s in a queue is
    # called back `missed_delay` s later (unless answered on a call of their own
    # meanwhile), when an agent of `missed_queue` is free.
    missed: bool = True
    missed_after: int = Field(10, ge=0, le=3600)
    missed_delay: int = Field(120, ge=0, le=86400)
    missed_queue: str = Field("general", pattern=r"^[a-z0-9][a-z0-9_-]*$")
    missed_prompt: str = "您好，这里是12345热线，您刚才的来电未能接通，现在为您回电，正在为您转接人工服务，请稍候。"
    # Queue callback (virtual hold): queue id -> seconds of waiting before the offer
    # 「按1保留您的排队位置，稍后我们给您回电」 (docs/callbacks.md).
    queue_callback: dict[str, int] = Field(default_factory=dict)
    queue_callback_mode: Literal["agent_first", "caller_first"] = "agent_first"
    queue_callback_hold: int = Field(3600, ge=60, le=86400)  # s a kept place waits at most
    queue_callback_prompt: str = "按1保留您的排队位置，稍后我们给您回电。"
    queue_callback_ok_prompt: str = "已为您保留排队位置，轮到您时我们将给您回电，再见。"
    queue_callback_hello_prompt: str = "您好，这里是12345热线，现在为您回电，正在为您接通人工服务。"
    rating: Rating = Field(default_factory=Rating)
    spoken: Spoken = Field(default_factory=Spoken)   # a spoken 满意/不满意 when no key came (speech.enabled)
    # 回访 campaigns with several questions: campaign -> its questions (asked in order)
    campaigns: dict[str, list[Question]] = Field(default_factory=dict)
    # 不满意/未解决 -> 「如需人工服务请按0」: campaign (or "default": the default survey) -> queue and prompt
    offer_agent: dict[str, OfferAgent] = Field(default_factory=dict)
    # Finished tasks with a ticket are POSTed here (the work-order system), retried until accepted.
    webhook: str | None = Field(None, pattern=r"^https?://[^\s]+$")
    webhook_token: str = Field("", repr=False)   # sent as "Authorization: Bearer <token>"

    _v_caller_id = field_validator("caller_id")(lambda cls, v: _number(v))
    _v_dnc = field_validator("do_not_call")(lambda cls, v: [_number(n) for n in v])

    @field_validator("queue_callback")
    @classmethod
    def _offers(cls, v: dict[str, int]) -> dict[str, int]:
        for q, seconds in v.items():
            _id(q)
            if not 1 <= int(seconds) <= 3600:
                raise ValueError(f"{q}: offer after 1..3600 seconds of waiting")
        return v

    @field_validator("campaigns")
    @classmethod
    def _campaigns(cls, v: dict[str, list[Question]]) -> dict[str, list[Question]]:
        for name, questions in v.items():
            if not re.fullmatch(r"[A-Za-z0-9_-]{1,32}", name):
                raise ValueError(f"campaign {name!r}: letters, digits, - and _, at most 32")
            ids = [q.id for q in questions]
            if not ids or len(set(ids)) != len(ids):
                raise ValueError(f"campaign {name!r}: at least one question, ids unique")
        return v

    @field_validator("offer_agent")
    @classmethod
    def _offers_known(cls, v: dict[str, OfferAgent], info: ValidationInfo) -> dict[str, OfferAgent]:
        campaigns = info.data.get("campaigns") or {}
        for name in v:
            if name != OFFER_DEFAULT and name not in campaigns:
                raise ValueError(f"{name!r}: not a campaign (campaigns:) nor {OFFER_DEFAULT!r} (the default survey)")
            if name == OFFER_DEFAULT and OFFER_DEFAULT in campaigns:
                raise ValueError(f"{OFFER_DEFAULT!r} is ambiguous: a campaign has that name; rename the campaign")
        return v

    def prompts(self) -> dict[str, str]:
        """Prompt id -> text of everything the outbound and queue-callback dialplans play."""
        out = {"callback-survey": self.survey_prompt, "callback-thanks": self.thanks_prompt,
               "callback-missed": self.missed_prompt, "callback-speak": self.spoken.prompt}
        if self.queue_callback:
            out |= {"queue-callback-offer": self.queue_callback_prompt,
                    "queue-callback-ok": self.queue_callback_ok_prompt,
                    "queue-callback-hello": self.queue_callback_hello_prompt}
        if self.rating.enabled:
            out["callback-rating"] = self.rating.prompt
        for name, questions in self.campaigns.items():
            out |= {f"callback-q-{name}-{q.id}": q.prompt for q in questions}
        out |= {f"callback-offer-{name}": o.prompt for name, o in self.offer_agent.items()}
        return out

    @field_validator("retry_after")
    @classmethod
    def _causes(cls, v: dict[str, int]) -> dict[str, int]:
        for cause, seconds in v.items():
            if cause not in CALLBACK_CAUSES:
                raise ValueError(f"unknown cause {cause!r}: one of {', '.join(CALLBACK_CAUSES)}")
            if not 0 <= int(seconds) <= 7 * 86400:
                raise ValueError(f"{cause}: retry delay must be 0..604800 seconds")
        return _DEFAULT_RETRY | v

    @field_validator("windows")
    @classmethod
    def _windows(cls, v: dict[str, list[str]]) -> dict[str, list[str]]:
        for day, spans in v.items():
            if day not in CALLBACK_DAYS:
                raise ValueError(f"unknown day {day!r}: one of {', '.join(CALLBACK_DAYS)}")
            for span in spans:
                m = _WINDOW_RE.match(str(span))
                if not m or (m[3], m[4]) <= (m[1], m[2]) or (m[3] == "24" and m[4] != "00"):
                    raise ValueError(f"{day}: window {span!r} must be HH:MM-HH:MM with start before end")
        return _default_windows() | v

    @model_validator(mode="after")
    def _room_for_inbound(self) -> "Callbacks":
        if self.reserve_inbound >= self.channels:
            raise ValueError(f"reserve_inbound ({self.reserve_inbound}) must be below channels ({self.channels}): "
                             "otherwise no callback can ever be placed")
        return self
