"""Short-lived signed playback URLs for recordings (pure: no I/O, a clock passed in).

Why: an `<audio>` element cannot send `Authorization: Bearer ...`, and a token in a
URL would end up in history, logs and Referer. So a console asks, with its token,
for a grant (`POST /api/recordings/{id}/play-url`, audited) and gets a URL whose
query carries who may play what until when, and an HMAC-SHA256 over exactly that:

    /api/recordings/{id}/stream?agent=<agent>&role=<agent|supervisor>&exp=<unix s>&sig=<hex>

The key is random per process (a restart voids every URL; nothing to configure or
leak), the signature covers the recording's row number, the principal and the
expiry (changing any of them breaks it), and it is compared in constant time. The
URL can be reused until it expires: the browser needs several Range requests to
seek; each one is audited like a playback with the token.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass
from urllib.parse import urlencode

DEFAULT_TTL = 120  # seconds: long enough to start and seek, short enough to be useless when copied
MAX_TTL = 300
ROLES = ("agent", "supervisor")
AGENT_RE = re.compile(r"^[0-9A-Za-z._@-]{1,64}$")
SIG_RE = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class Grant:
    """What a valid signed URL allows: `agent` (with `role`) may play recording `rec` until `expires`."""
    rec: int
    agent: str
    role: str
    expires: int

    @property
    def supervisor(self) -> bool:
        return self.role == "supervisor"


class Signer:
    def __init__(self, key: bytes | None = None, ttl: int = DEFAULT_TTL) -> None:
        if not 1 <= ttl <= MAX_TTL:
            raise ValueError(f"ttl must be 1..{MAX_TTL} s")
        self._key = key or secrets.token_bytes(32)
        self.ttl = ttl

    def _mac(self, rec: int, agent: str, role: str, expires: int) -> str:
        # JSON of a list: unambiguous whatever the fields hold (no separator to smuggle)
        msg = json.dumps(["recording-play", rec, agent, role, expires], separators=(",", ":")).encode()
        return hmac.new(self._key, msg, hashlib.sha256).hexdigest()

    def url(self, rec: int, agent: str, role: str, now: float) -> tuple[str, int]:
        """(the signed URL path, its expiry in unix seconds) for `agent` to play `rec`."""
        if role not in ROLES or not AGENT_RE.fullmatch(agent):
            raise ValueError("cannot sign for this principal")
        expires = int(now) + self.ttl
        query = urlencode({"agent": agent, "role": role, "exp": expires,
                           "sig": self._mac(rec, agent, role, expires)})
        return f"/api/recordings/{rec}/stream?{query}", expires

    def verify(self, rec: int, query: dict[str, str], now: float) -> tuple[Grant | None, str]:
        """(the grant, "") when `query` is a valid, unexpired signature for `rec`; else (None, why)."""
        agent, role = query.get("agent", ""), query.get("role", "")
        exp, sig = query.get("exp", ""), query.get("sig", "")
        shaped = exp.isascii() and exp.isdigit() and len(exp) <= 12
        if not (shaped and AGENT_RE.fullmatch(agent) and role in ROLES and SIG_RE.fullmatch(sig)):
            return None, "malformed"
        expires = int(exp)
        if not hmac.compare_digest(self._mac(rec, agent, role, expires), sig):
            return None, "bad_signature"
        if now >= expires:
            return None, "expired"
        if expires - now > MAX_TTL + 5:  # cannot happen with our own key; belt and braces
            return None, "bad_signature"
        return Grant(rec, agent, role, expires), ""
