"""The `speech:` section: live transcription and intake (a city's ticket words are `tickets:`, tickets_model)."""
from __future__ import annotations

from pydantic import Field

from ivr.config.base import Strict


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
