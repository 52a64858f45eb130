"""The `webrtc:` section: browser seats (ivr/seats/)."""
from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from ivr.config.base import Strict


class SeatOptions(Strict):
    """One browser seat's own options (webrtc.seats.<agent>)."""
    auto_answer: bool = False          # the page answers an offered call by itself
    # Queues 签入 joins (config ids); default: every queue the agent may serve
    # (queues listing PJSIP/<agent>, plus web.agent_queues). Never more than those.
    queues: list[str] | None = None


class WebRtc(Strict):
    """Browser seats (WebRTC over SIP-over-WebSocket); rendered by ivr/seats/asterisk.py."""
    # Agent ids (PJSIP queue members) whose phone is the browser: their endpoints get webrtc=yes.
    agents: list[str] = Field(default_factory=list)
    http_host: str = "127.0.0.1"  # Asterisk's built-in HTTP server carries /ws
    http_port: int = Field(8088, ge=1, le=65535)
    # WSS for production: Asterisk's TLS HTTP server with the city's certificate (0 = off).
    tls_port: int = Field(0, ge=0, le=65535)
    tls_cert: str = ""
    tls_key: str = ""
    # What the browser connects to; "" = ws://<http_host>:<http_port>/ws (wss:// when tls_port is set).
    ws_url: str = ""
    sip_domain: str = "127.0.0.1"
    # 示忙 reasons an agent picks from (sent to Asterisk's QueuePause as the reason).
    pause_reasons: list[str] = Field(default_factory=lambda: ["小休", "用餐", "培训", "会议"])

    # Per-agent options, keyed by an agent of `agents`.
    seats: dict[str, SeatOptions] = Field(default_factory=dict)
    # 话后处理 ends by itself after the queue's `wrapup` seconds (auto), or stays until the
    # agent clicks 示闲 (manual: the agent is paused with reason 话后处理 meanwhile).
    wrapup_end: Literal["auto", "manual"] = "auto"

    @model_validator(mode="after")
    def _seats_are_agents(self) -> "WebRtc":
        unknown = [a for a in self.seats if a not in self.agents]
        if unknown:
            raise ValueError(f"seats: {unknown} not in webrtc.agents")
        return self

    @field_validator("agents")
    @classmethod
    def _agent_ids(cls, v: list[str]) -> list[str]:
        bad = [a for a in v if not re.fullmatch(r"[A-Za-z0-9_-]{1,40}", a)]
        if bad:
            raise ValueError(f"agent ids are letters, digits, _ and - only: {bad}")
        return v

    @field_validator("pause_reasons")
    @classmethod
    def _reasons(cls, v: list[str]) -> list[str]:
        bad = [r for r in v if not re.fullmatch(r"[^\x00-\x20;:,|\[\]]{1,16}", r)]
        if bad:  # they go into AMI: short, no spaces, control characters or separators
            raise ValueError(f"pause reasons are 1-16 characters without spaces or ;:,|[]: {bad}")
        return v

    @field_validator("http_host", "tls_cert", "tls_key", "ws_url", "sip_domain")
    @classmethod
    def _one_line(cls, v: str) -> str:
        # These go into http.conf / pjsip.conf and the page: no line breaks, no config syntax.
        if re.search(r"[\s;\[\]]", v):
            raise ValueError("no spaces, line breaks, ';' or brackets")
        return v
