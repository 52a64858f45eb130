"""Masking of personal data before it reaches a log or a screen that does not need it.

The rule (docs/security.md, "Privacy"): a number keeps at most its first 3 and
last 2 digits and always hides at least half of them, so a short number (a
landline without area code, a 12345-style service number) is never shown
nearly whole. Extensions (4 digits or fewer) are hidden entirely.
Caller IDs that are not a number at all (`anonymous`, a SIP URI) carry no
history key either: see `history_key`.
"""
from __future__ import annotations

import re

MAX_HEAD, MAX_TAIL = 3, 2
# What Asterisk and carriers put in the caller ID when the number is withheld.
WITHHELD = frozenset({"anonymous", "unknown", "unavailable", "restricted", "private", "withheld",
                      "asterisk", "none", "null", "0"})
NUMBER_RE = re.compile(r"^\+?[0-9]{1,32}$")


def mask_number(n: str | None) -> str:
    """Hide most of a phone number: 13912345678 -> 139******78, 09438212 -> 09****12, 12345 -> 1***5.

    Digits shown = min(5, half the digits rounded down): the last 2 at most,
    the first 3 at most. A leading + stays. Up to 4 digits: all hidden.
    Anything that is not a number is replaced by `***` (its length says nothing);
    a withheld caller ID (`anonymous`) is shown as the word, which holds no data.
    """
    s = "" if n is None else str(n).strip()
    if not s:
        return ""
    if not NUMBER_RE.match(s):
        return s.lower() if s.lower() in WITHHELD else "***"
    plus, digits = ("+", s[1:]) if s.startswith("+") else ("", s)
    if len(digits) <= 4:
        return plus + "*" * len(digits)
    shown = min(MAX_HEAD + MAX_TAIL, len(digits) // 2)
    tail = min(MAX_TAIL, (shown + 1) // 2)
    head = shown - tail
    return plus + digits[:head] + "*" * (len(digits) - shown) + digits[len(digits) - tail:]


def history_key(caller: str | None) -> str | None:
    """The caller ID under which previous calls are looked up, or None for none at all.

    Withheld, `anonymous` and non-numeric caller IDs would make every such
    caller share one history (and see each other's tickets on the pop), and so
    would 1-4 digit ones (an internal extension, a gateway's placeholder).
    """
    s = "" if caller is None else str(caller).strip()
    if not NUMBER_RE.match(s) or s.lower() in WITHHELD:
        return None
    digits = s.lstrip("+")
    if len(digits) < 5 or set(digits) == {"0"}:
        return None
    return s
