"""Destination strings (docs/ARCHITECTURE.md) resolved to what Asterisk needs.

The syntax is `ivr.config.destinations`; here a parsed destination becomes a
dial string (`Local/<num>@<context>` or `PJSIP/<num>@<endpoint>`) or an
Asterisk queue name plus its overflow. Resolution happens once, when the plan
is built, so a bad reference fails at load time and never during a call.
"""
from __future__ import annotations

from dataclasses import dataclass

from ivr.config.destinations import DestinationError, parse_destination
from ivr.config.model import Config, Trunk

GENERAL = "general"


class TargetError(ValueError):
    """A destination string that is malformed or names something not in the config."""


@dataclass(frozen=True)
class Resolved:
    target: str
    kind: str                      # queue | subcenter | trunk | hangup
    dial: str | None = None
    queue: str | None = None
    overflow_queue: str | None = None
    overflow_after: int | None = None


def dial_string(trunk_name: str, trunk: Trunk, number: str) -> str:
    if trunk.type == "local":
        return f"Local/{number}@{trunk.context or trunk_name}"
    return f"PJSIP/{number}@{trunk.endpoint or trunk_name}"


def _trunk(config: Config, name: str, where: str) -> Trunk:
    trunk = config.trunks.get(name)
    if trunk is None:
        raise TargetError(f"{where}: trunk {name!r} is not defined in trunks")
    return trunk


def resolve(text: str, config: Config) -> Resolved:
    """Resolve one destination string against the config, or raise TargetError."""
    try:
        dest = parse_destination(text)
    except DestinationError as exc:
        raise TargetError(str(exc)) from exc
    target = str(dest)
    if dest.kind == "hangup":
        return Resolved(target, "hangup")
    if dest.kind == "queue":
        queue = config.queue(dest.id)
        if queue is None:
            raise TargetError(f"{target}: queue {dest.id!r} is not defined in queues")
        overflow = queue.overflow_to is not None and queue.overflow_after is not None
        return Resolved(target, "queue", queue=queue.id,
                        overflow_queue=queue.overflow_to if overflow else None,
                        overflow_after=queue.overflow_after if overflow else None)
    if dest.kind == "subcenter":
        sc = config.sub_center(dest.id)
        if sc is None:
            raise TargetError(f"{target}: sub-center {dest.id!r} is not defined in sub_centers")
        return Resolved(target, "subcenter", dial=dial_string(sc.trunk, _trunk(config, sc.trunk, target), sc.numbers[0]))
    return Resolved(target, "trunk", dial=dial_string(dest.id, _trunk(config, dest.id, target), dest.number))
