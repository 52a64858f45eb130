"""The `supervision:` section: listen/whisper/barge, the wallboard and the KPI thresholds (supervision/)."""
from __future__ import annotations

import re

from pydantic import Field, field_validator

from ivr.config.base import Strict

# Where a supervisor's own phone is reached: their PJSIP endpoint (browser seat or
# desk phone), or a dialplan extension (Local/<exten>@<context>) for a desk phone
# behind a PBX. It goes into an AMI Originate: nothing else is accepted.
ENDPOINT_RE = re.compile(r"^(PJSIP/[A-Za-z0-9_-]{1,40}|Local/[A-Za-z0-9_-]{1,40}@[A-Za-z0-9_-]{1,40}(/n)?)$")
_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")


class Supervision(Strict):
    """Supervision (督查): a supervisor listens to, whispers to or barges into an agent's call from their own seat."""

    enabled: bool = True
    # supervisor id -> the channel to ring; a supervisor not listed is rung at PJSIP/<id>.
    endpoints: dict[str, str] = Field(default_factory=dict)
    ring_timeout: int = Field(20, ge=5, le=120)      # seconds the supervisor's phone rings
    poll_interval: float = Field(1.0, ge=0.2, le=30)  # wallboard: seconds between QueueStatus polls
    service_level_s: int = Field(15, ge=1, le=600)    # GB/T 33358: answered within 15 s
    short_abandon_s: int = Field(5, ge=0, le=60)      # abandons this quick are reported apart

    @field_validator("endpoints")
    @classmethod
    def _endpoints(cls, v: dict[str, str]) -> dict[str, str]:
        for who, endpoint in v.items():
            if not _ID_RE.match(who):
                raise ValueError(f"supervisor ids are letters, digits, _ and - only: {who!r}")
            if not ENDPOINT_RE.match(endpoint):
                raise ValueError(f"{who}: endpoint must be PJSIP/<endpoint> or Local/<exten>@<context>: {endpoint!r}")
        return v
