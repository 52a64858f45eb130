"""Masking of personal data before it reaches a log or a screen that does not need it."""
from __future__ import annotations


def mask_number(n: str | None) -> str:
    """Hide the middle of a phone number: 13912345678 -> 139****5678, 1234567 -> 12***67.

    Numbers of 7 digits or fewer keep the first 2 and last 2; longer ones the
    first 3 and last 4. Anything too short to mask meaningfully is fully hidden.
    """
    s = "" if n is None else str(n).strip()
    if len(s) <= 7:
        if len(s) <= 4:
            return "*" * len(s)
        return s[:2] + "*" * (len(s) - 4) + s[-2:]
    return s[:3] + "*" * (len(s) - 7) + s[-4:]
