"""The destination syntax: one string for "where a call goes".

    queue:<id>               an Asterisk queue from `queues:` (queue:general = the 12345 pool)
    subcenter:<id>           a sub-center's trunk, dialing its first number
    trunk:<name>/<number>    dial <number> through trunk <name> from `trunks:`
    hangup                   end the call

Only the syntax is checked here; whether the queue, sub-center or trunk
exists is a whole-file rule in `ivr.config.check`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ivr.config.model import NUMBER_RE
from ivr.config.safe import ID_RE, TRUNK_NAME_RE  # trunk names are YAML keys, so upper case too

Kind = Literal["queue", "subcenter", "trunk", "hangup"]
SYNTAX = "queue:<id>, subcenter:<id>, trunk:<name>/<number> or hangup"


class DestinationError(ValueError):
    """A destination string that does not follow the syntax."""


@dataclass(frozen=True)
class Destination:
    kind: Kind
    id: str = ""       # queue id, sub-center id or trunk name
    number: str = ""   # trunk destinations only

    def __str__(self) -> str:
        if self.kind == "hangup":
            return "hangup"
        if self.kind == "trunk":
            return f"trunk:{self.id}/{self.number}"
        return f"{self.kind}:{self.id}"


def parse_destination(text: object) -> Destination:
    """Parse a destination string; raise `DestinationError` with a readable reason."""
    if not isinstance(text, str):
        raise DestinationError(f"destination must be a string ({SYNTAX})")
    value = text.strip()
    if value == "hangup":
        return Destination("hangup")
    kind, sep, rest = value.partition(":")
    if not sep or kind not in ("queue", "subcenter", "trunk"):
        raise DestinationError(f"malformed destination {value!r}: expected {SYNTAX}")
    if kind == "trunk":
        name, slash, number = rest.partition("/")
        if not slash or not TRUNK_NAME_RE.match(name):
            raise DestinationError(f"malformed destination {value!r}: expected trunk:<name>/<number>")
        if not NUMBER_RE.match(number):
            raise DestinationError(
                f"malformed number {number!r} in destination {value!r}: digits, optionally '-ext'"
            )
        return Destination("trunk", name, number)
    if not ID_RE.match(rest):
        raise DestinationError(f"malformed destination {value!r}: expected {kind}:<id> (a-z, 0-9, '-', '_')")
    return Destination(kind, rest)  # type: ignore[arg-type]
