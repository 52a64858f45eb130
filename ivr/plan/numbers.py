"""Dialed-number normalisation and the number -> owner index (pure).

Asterisk hands us `${EXTEN}`; operators type numbers with spaces or a
country prefix. Everything is reduced to digits with an optional `-ext`
before the lookup, and a configured `88348666-1` also answers `883486661`
because a caller's phone cannot dial the dash.
"""
from __future__ import annotations

import re
from typing import Generic, TypeVar

_SEPARATORS = re.compile(r"[\s().]+")
_DIALABLE = re.compile(r"^\d+(-\d+)?$")
_COUNTRY = ("+86", "0086")

T = TypeVar("T")


def normalise(dialed: object) -> str:
    """Digits (optionally `-ext`) of a dialed number, or "" if it is not a number at all."""
    s = _SEPARATORS.sub("", str(dialed if dialed is not None else ""))
    for prefix in _COUNTRY:
        if s.startswith(prefix):
            s = s[len(prefix):]
            break
    return s if _DIALABLE.match(s) else ""


def compact(number: str) -> str:
    """The form a phone dials for a number with an extension: `88348666-1` -> `883486661`."""
    return number.replace("-", "")


class DuplicateNumber(ValueError):
    def __init__(self, number: str, first: str, second: str):
        super().__init__(f"number {number} is claimed by both {first} and {second}")
        self.number, self.first, self.second = number, first, second


class NumberIndex(Generic[T]):
    """Maps every form of a configured number to its owner: one dict lookup per call."""

    def __init__(self) -> None:
        self._exact: dict[str, T] = {}
        self._owner_names: dict[str, str] = {}
        self._compact: dict[str, T] = {}

    def add(self, number: str, owner: T, owner_name: str) -> None:
        """Register `number` (canonical form) for `owner`; a second owner is an error."""
        if number in self._exact:
            raise DuplicateNumber(number, self._owner_names[number], owner_name)
        self._exact[number] = owner
        self._owner_names[number] = owner_name
        if "-" in number:
            self._compact.setdefault(compact(number), owner)

    def lookup(self, number: str) -> T | None:
        """The owner of a normalised dialed number, or None.

        A real configured number always wins over the dash-less form of an
        extension number that happens to have the same digits.
        """
        for table, key in ((self._exact, number), (self._compact, number), (self._exact, compact(number))):
            if key in table:
                return table[key]
        return None
