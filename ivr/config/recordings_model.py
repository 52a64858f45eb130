"""The `recordings:` section: call recording, retention and quality inspection (质检) of the recordings/ package.

docs/recordings.md tells the whole story. Every value here reaches the
generated dialplan or a file path only after the checks below: folders are
absolute paths of safe characters, line and queue ids match the plan's id
pattern, words are short CJK/ASCII words (they are matched in transcripts,
never interpolated anywhere).
"""
from __future__ import annotations

import re

from pydantic import Field, field_validator, model_validator

from ivr.config.base import Strict, _words

_FOLDER_RE = re.compile(r"^/[A-Za-z0-9_./-]{1,200}$")
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
QA_RULES = ("greeting", "closing", "forbidden", "silence", "talk_over", "speech_rate", "hold", "distress")
_DEFAULT_WEIGHTS = {"greeting": 20, "closing": 15, "forbidden": 25, "silence": 10, "talk_over": 10,
                    "speech_rate": 5, "hold": 5, "distress": 10}


def _folder(v: str | None) -> str | None:
    if v is None:
        return v
    if not _FOLDER_RE.match(v) or "/../" in v + "/" or "//" in v:
        raise ValueError("an absolute path of letters, digits, '_', '.', '-' and '/' (no '..')")
    return v.rstrip("/") or "/"


class QaRules(Strict):
    """Rules of the automatic quality inspection; each rule has a weight (0 = off), the score is 0-100."""

    enabled: bool = True
    workers: int = Field(1, ge=1, le=4)              # transcriptions at once (batch priority, never live calls)
    greeting_within: float = Field(5.0, gt=0, le=60)  # the agent greets within N s of answering
    greeting_words: list[str] = Field(default_factory=lambda: ["您好", "你好", "12345"])
    closing_words: list[str] = Field(default_factory=lambda: ["再见", "感谢您的来电", "祝您生活愉快", "还有其他"])
    closing_within: float = Field(30.0, gt=0, le=600)  # ... in the last N s of the call
    forbidden_words: list[str] = Field(default_factory=lambda: ["不知道", "不归我们管", "不清楚", "你自己查",
                                                                "没办法", "烦死了", "听不懂吗"])
    max_silence: float = Field(10.0, gt=0, le=600)      # a pause with nobody speaking longer than this
    max_talk_over: float = Field(0.15, ge=0, le=1)      # share of speech time both sides talk at once
    speech_rate: tuple[int, int] = (120, 320)           # agent characters per minute of agent speech
    max_hold: float = Field(60.0, ge=0, le=3600)        # seconds the caller is on hold (Hold/Unhold)
    distress_words: list[str] = Field(default_factory=lambda: ["投诉", "举报", "没人管", "太慢了", "骗子",
                                                               "救命", "受不了", "气死"])
    weights: dict[str, int] = Field(default_factory=lambda: dict(_DEFAULT_WEIGHTS))

    _v_words = field_validator("greeting_words", "closing_words", "forbidden_words", "distress_words")(
        lambda cls, v: (_words(v), v)[1])

    @field_validator("weights")
    @classmethod
    def _weights(cls, v: dict[str, int]) -> dict[str, int]:
        for rule, weight in v.items():
            if rule not in QA_RULES:
                raise ValueError(f"unknown rule {rule!r}: one of {', '.join(QA_RULES)}")
            if not 0 <= int(weight) <= 100:
                raise ValueError(f"{rule}: weight must be 0..100")
        return _DEFAULT_WEIGHTS | v

    @model_validator(mode="after")
    def _rate(self) -> "QaRules":
        low, high = self.speech_rate
        if not 0 < low < high <= 1000:
            raise ValueError("speech_rate is [low, high] characters per minute with 0 < low < high <= 1000")
        return self


class Recordings(Strict):
    """Call recording (MixMonitor, caller and agent apart) with retention; docs/recordings.md."""

    enabled: bool = False
    # Where Asterisk writes (the path as Asterisk sees it) ...
    folder: str = "/var/spool/asterisk/hotline-recordings"
    # ... and where this server reads the same files; default: `folder`, or inside
    # `asterisk.root` for the embedded (chroot) Asterisk.
    local_folder: str | None = None
    retention_days: int = Field(180, ge=1, le=3650)
    purge_every: int = Field(3600, ge=10, le=86400)     # seconds between purge runs of `hotline serve`
    finish_wait: float = Field(10.0, gt=0, le=120)      # bounded wait for Asterisk to close a file after hangup
    # 「为保证服务质量，您的通话可能会被录音」 before the queue (prompt id recording-notice)
    notice: bool = False
    notice_prompt: str = "为保证服务质量，您的通话可能会被录音。"
    record_forwards: bool = True                          # sub-centers, retained seats, department numbers
    skip_lines: list[str] = Field(default_factory=list)   # line ids never recorded (opt-out)
    skip_queues: list[str] = Field(default_factory=list)  # queue ids never recorded (opt-out)
    qa: QaRules = Field(default_factory=QaRules)

    _v_folder = field_validator("folder", "local_folder")(lambda cls, v: _folder(v))

    @field_validator("skip_lines", "skip_queues")
    @classmethod
    def _ids(cls, v: list[str]) -> list[str]:
        bad = [i for i in v if not _ID_RE.match(i)]
        if bad:
            raise ValueError(f"ids are lower-case letters, digits, '-' and '_': {bad}")
        return v
