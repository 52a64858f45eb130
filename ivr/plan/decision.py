"""`Decision`: what happens to one call, and how it is handed to Asterisk.

The contract for the dialplan (docs/plan.md): play `HOTLINE_PROMPT` if set
(skippable with `HOTLINE_SKIP_KEY`), then for `not_in_service` /
`prompt_then_hangup` hang up, for `menu` run the entry menu, and otherwise
go where the call is going: `Dial(${HOTLINE_DIAL})` if set, else
`Queue(${HOTLINE_QUEUE})` with `HOTLINE_OVERFLOW`, else hang up.
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

MODES = ("full_merge", "dual_number", "sub_center", "main", "emergency", "unknown")
PHASES = ("before", "transition", "after", "active")
ACTIONS = (
    "prompt_then_forward", "prompt_then_hangup", "not_in_service", "department",
    "queue", "forward", "passthrough", "menu",
)

# Characters that could end an AGI quoted argument, start a dialplan
# expression, or split a Dial() argument list. Chinese text passes untouched.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f\"'`\\$;{}\[\]|&,]")
_NOT_DIALED = re.compile(r"[^0-9*#+-]")
_MAX_VALUE = 128
# New channel variables of the fast tracks (the dialplan's hotline-queue reads HOTLINE_PRIORITY).
HOTLINE_TAGS = "HOTLINE_TAGS"           # space-separated tags: enterprise, language:<id>
HOTLINE_PRIORITY = "HOTLINE_PRIORITY"   # QUEUE_PRIO for the caller; "" = 0


def safe_value(value: object) -> str:
    """A channel-variable value that cannot break AGI quoting or the dialplan."""
    if value is None:
        return ""
    return _UNSAFE.sub("", str(value)).strip()[:_MAX_VALUE]


@dataclass(frozen=True)
class Decision:
    number: str                 # normalised dialed number, canonical form if known ("" if malformed)
    dialed: str                 # exactly as given by the caller's channel
    line: str | None
    line_name: str | None
    department: str | None
    mode: str                   # see MODES
    phase: str                  # see PHASES
    action: str                 # see ACTIONS
    prompt: str | None          # prompt text (for the prompt manifest / TTS)
    prompt_id: str | None       # stable sound id: merged-<line id>, not-in-service, welcome
    prompt_sound: str | None    # sound path for Playback, e.g. hotline/merged-line-12333
    target: str | None          # destination string
    dial: str | None            # resolved dial string (forward-like actions)
    queue: str | None           # Asterisk queue name (queue-bound actions)
    overflow_queue: str | None
    overflow_after: int | None
    skip_key: str | None
    reason: str                 # for operators: why this happened
    at: str = ""                # the instant decided for, ISO 8601 in the hotline's timezone
    # Fast tracks (ivr.plan.fasttrack): "enterprise" (一企来), "language:<id>" (外籍人士服务热线)
    tags: tuple[str, ...] = ()
    priority: int = 0           # queue priority (QUEUE_PRIO): higher waits ahead of lower

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def channel_vars(self) -> dict[str, str]:
        """The HOTLINE_* channel variables (docs/ARCHITECTURE.md); every value is AGI-safe."""
        overflow = ""
        if self.overflow_queue and self.overflow_after:
            overflow = f"{safe_value(self.overflow_queue)},{int(self.overflow_after)}"
        out = {
            "HOTLINE_DIALED": _NOT_DIALED.sub("", str(self.dialed))[:32],
            "HOTLINE_LINE": safe_value(self.line),
            "HOTLINE_DEPARTMENT": safe_value(self.department),
            "HOTLINE_MODE": self.mode,
            "HOTLINE_PHASE": self.phase,
            "HOTLINE_ACTION": self.action,
            "HOTLINE_TARGET": safe_value(self.target),
            "HOTLINE_DIAL": safe_value(self.dial),
            "HOTLINE_PROMPT": safe_value(self.prompt_sound),
            "HOTLINE_SKIP_KEY": safe_value(self.skip_key),
            "HOTLINE_QUEUE": safe_value(self.queue),
            "HOTLINE_OVERFLOW": overflow,
        }
        # Fast tracks (docs/plan.md): only when set, as most calls have none (unset reads as empty in
        # the dialplan, and each variable costs Asterisk an event per AMI session). A channel routed
        # again keeps them: they belong to the caller (enterprise number, language chosen).
        if self.tags:
            out[HOTLINE_TAGS] = safe_value(" ".join(self.tags))
        if self.priority:
            out[HOTLINE_PRIORITY] = str(int(self.priority))
        return out
