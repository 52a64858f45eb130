"""The `speech:` section: live transcription, intake and the city's own words for ticket drafting."""
from __future__ import annotations

from pydantic import Field, field_validator

from ivr.config.base import Strict, _known, _words


class Speech(Strict):
    enabled: bool = False
    model: str = ""
    workers: int = Field(0, ge=0)  # 0 = one per core
    # Live transcription server (EAGI transcribe.py connects to it on 127.0.0.1).
    live_port: int = Field(4574, ge=1, le=65535)
    # Decoding may fall this far behind a call before the call is degraded (spooled).
    backlog_seconds: float = Field(3.0, gt=0, le=600)
    # Where degraded calls' audio waits for transcription after the call ("" = skip it).
    spool_dir: str = "/var/lib/hotline/speech-spool"
    # "Please state your matter" step before the queue (hotline.entry.speech_intake).
    intake_seconds: int = Field(8, ge=1, le=60)
    intake_prompt: str = "请在提示音后简要说明您要反映的问题，说完请稍候。"
    # Our own end of utterance after this much silence (0 = Vosk's own, 0.5-2 s); see docs/tickets.md.
    endpoint_seconds: float = Field(0.0, ge=0, le=2)
    # Ticket drafting: the city's own words (docs/tickets.md, "A city's own words").
    dialect: dict[str, str] = Field(default_factory=dict)                 # dialect word -> Mandarin
    fillers: list[str] = Field(default_factory=list)                      # said to fill a pause
    emergency_words: dict[str, list[str]] = Field(default_factory=dict)   # taxonomy group -> words
    topic_words: dict[str, dict[str, int]] = Field(default_factory=dict)  # department kind -> word -> weight

    @field_validator("dialect")
    @classmethod
    def _dialect(cls, v: dict[str, str]) -> dict[str, str]:
        _words([*v, *v.values()])
        return v

    @field_validator("fillers")
    @classmethod
    def _fillers(cls, v: list[str]) -> list[str]:
        _words(v)
        return v

    @field_validator("emergency_words")
    @classmethod
    def _emergency_words(cls, v: dict[str, list[str]]) -> dict[str, list[str]]:
        from ivr.tickets.emergency_lexicon import GROUPS  # plain data, imports nothing of ivr

        _known("group", v, GROUPS)
        _words([w for ws in v.values() for w in ws])
        return v

    @field_validator("topic_words")
    @classmethod
    def _topic_words(cls, v: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
        from ivr.tickets.lexicon import KIND_DEPARTMENTS  # plain data, imports nothing

        _known("kind", v, KIND_DEPARTMENTS)
        _words([w for ws in v.values() for w in ws])
        for w, weight in ((w, n) for ws in v.values() for w, n in ws.items()):
            if not 1 <= weight <= 5:
                raise ValueError(f"{w!r}: weight {weight} must be 1-5")
        return v
