"""What a transfer request points at: (kind, target) checked against the config and
turned into what the transfer leg dials.

Kinds are those of the web API (ivr.web.api.TRANSFER_KINDS): a sub-center, an
expert queue / any queue, an emergency line, a utility hotline, the provincial
12345. Every one resolves through the configured trunks, so nothing but the
config decides where a call may go.
"""
from __future__ import annotations

from dataclasses import dataclass

from ivr.config.model import Config
from ivr.plan.targets import dial_string

KINDS = ("subcenter", "expert", "queue", "emergency", "utility", "provincial")
MODES = ("threeway", "blind", "attended")
LINKAGE = frozenset({"emergency", "utility", "provincial"})
# Ringing time for linkage targets and queues without their own setting.
DEFAULT_ANSWER_TIMEOUT = 30
# Common names the speech layer may use for the emergency lines.
EMERGENCY_ALIASES = {"police": "110", "fire": "119", "ambulance": "120", "medical": "120", "traffic": "122",
                     "报警": "110", "火警": "119", "急救": "120", "交通事故": "122"}


@dataclass(frozen=True)
class Target:
    kind: str
    target: str           # the id or number as requested
    label: str            # for people: 税务分中心, 消防火警 ...
    dial: str | None      # dial string through a trunk, or
    queue: str | None     # a queue id (expert seats)
    timeout: int          # seconds the far end may ring

    @property
    def ref(self) -> str:
        """`subcenter:tax`, `queue:hrss-expert`, `emergency:119` (records, events)."""
        return f"{self.kind}:{self.target}"


def resolve(config: Config, kind: str, target: str) -> Target:
    """The target of a transfer request, or ValueError saying what is wrong."""
    if kind not in KINDS:
        raise ValueError(f"unknown transfer kind {kind!r}; one of {', '.join(KINDS)}")
    target = (target or "").strip()
    if kind == "subcenter":
        sc = config.sub_center(target)
        if sc is None:
            raise ValueError(f"no sub-center {target!r} in the configuration")
        return Target(kind, target, sc.name, _dial(config, sc.trunk, sc.numbers[0]), None, sc.answer_timeout)
    if kind in ("expert", "queue"):
        queue = config.queue(target)
        if queue is None:
            raise ValueError(f"no queue {target!r} in the configuration")
        wait = queue.overflow_after or max(queue.ring_timeout * 2, DEFAULT_ANSWER_TIMEOUT)
        return Target(kind, target, queue.name, None, queue.id, wait)
    if kind == "emergency":
        number = EMERGENCY_ALIASES.get(target.lower(), target)
        name = config.emergency.numbers.get(number)
        if name is None:
            raise ValueError(f"{target!r} is not a configured emergency number")
        return Target(kind, number, name, _dial(config, config.emergency.trunk, number), None, DEFAULT_ANSWER_TIMEOUT)
    if kind == "utility":
        util = next((u for u in config.utilities if u.number == target), None)
        if util is None:
            raise ValueError(f"{target!r} is not a configured utility line")
        return Target(kind, target, util.name, _dial(config, util.trunk, util.number), None, DEFAULT_ANSWER_TIMEOUT)
    prov = config.provincial
    if prov is None:
        raise ValueError("no provincial 12345 is configured")
    if target not in ("", prov.number):
        raise ValueError(f"the provincial line is {prov.number}")
    return Target(kind, prov.number, prov.name, _dial(config, prov.trunk, prov.number), None, DEFAULT_ANSWER_TIMEOUT)


def _dial(config: Config, trunk_name: str, number: str) -> str:
    trunk = config.trunks.get(trunk_name)
    if trunk is None:
        raise ValueError(f"trunk {trunk_name!r} is not defined in trunks")
    return dial_string(trunk_name, trunk, number.replace("-", ""))
