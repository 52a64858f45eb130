"""AMI event filters for one session: events a client never reads are dropped by
Asterisk instead of being sent, parsed and thrown away.

Asterisk 22 (and 18.25, 20.10, 21.5 on) has *advanced* filters, matched by
event name through a hash and on one header's value; older versions only have
regular expressions run over the whole event text, for every event. Each
`EventFilter` renders as either, and `filter_actions` picks by the version
Asterisk reports (`CoreSettings`), so the same rules work on a city's older
Asterisk, only slower there.
"""
from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

_ERE_SPECIAL = re.compile(r"([.\[\]()*+?{}|^$\\])")  # POSIX extended regex (Asterisk's regcomp)
# First release of each branch with advanced filters (asterisk/asterisk#874).
_ADVANCED_SINCE = {18: (18, 25), 20: (20, 10), 21: (21, 5)}


@dataclass(frozen=True)
class EventFilter:
    """Exclude events named `name`; with `header`, only those whose header value
    matches `value` (by `method`: exact, starts_with or regex)."""

    name: str
    header: str | None = None
    method: str = "exact"
    value: str = ""

    def advanced(self) -> dict[str, str]:
        criteria = f"name({self.name})"
        if self.header:
            criteria += f",header({self.header}),method({self.method})"
        action = {"MatchCriteria": criteria + ",action(exclude)"}
        if self.header:
            action["Filter"] = self.value
        return action

    def legacy(self) -> dict[str, str]:
        """The same rule as a whole-event regular expression (`.` crosses lines there;
        an exact value is matched as a prefix: a header value cannot hold the CR ending it)."""
        if not self.header:
            return {"Filter": f"!Event: {self.name}"}
        value = self.value.removeprefix("^") if self.method == "regex" else _ERE_SPECIAL.sub(r"\\\1", self.value)
        return {"Filter": f"!Event: {self.name}.*{self.header}: {value}"}


def advanced_filters(version: str) -> bool:
    """Does this Asterisk (CoreSettings `AsteriskVersion`, e.g. "22.10.1") have advanced filters?"""
    m = re.match(r"(\d+)\.(\d+)", version.strip())
    if not m:
        return False
    major, minor = int(m[1]), int(m[2])
    since = _ADVANCED_SINCE.get(major)
    return major >= 22 if since is None else (major, minor) >= since


def filter_actions(filters: tuple[EventFilter, ...], version: str) -> list[dict[str, str]]:
    """`Filter` actions (Operation Add) for these rules on this Asterisk version."""
    advanced = advanced_filters(version)
    return [{"Action": "Filter", "Operation": "Add", **(f.advanced() if advanced else f.legacy())} for f in filters]


def derive(noise: Iterable[str], subscriptions: Mapping[str, list[tuple[EventFilter, ...]]]) -> tuple[EventFilter, ...]:
    """The filters for a session, from what its handlers subscribe to (AmiClient.on).

    Each `noise` event is excluded unless a handler subscribed to it by name
    (or by a pattern such as "Queue*"; "*" handlers take what is left). An
    event's narrowing rules are applied only if every one of its handlers
    declared them. So a new handler is never silently starved of its events."""
    patterns = [p for p in subscriptions if p != "*"]
    out = [EventFilter(name) for name in noise if not any(fnmatch.fnmatchcase(name, p) for p in patterns)]
    for name, narrowings in subscriptions.items():
        if name == "*" or not narrowings or not all(narrowings):
            continue
        shared = set(narrowings[0]).intersection(*narrowings[1:])
        out += [f for f in narrowings[0] if f in shared]
    return tuple(out)
