"""Whole-file rules for config.yaml: references, duplicates, emergency numbers, dates.

The rules read the plain data (dicts and lists as read from YAML), not the
pydantic model, so they still run when part of the file failed validation:
a city fixing its plan sees every problem in one go. Values of the wrong
type are skipped here; pydantic reports them.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, Callable
from zoneinfo import ZoneInfo

from pydantic import TypeAdapter, ValidationError

from ivr.config import fasttrack_check, safe
from ivr.config.dates import ends_at, starts_at
from ivr.config.destinations import DestinationError, parse_destination
from ivr.config.errors import SECRET_PATHS
from ivr.config.model import EMERGENCY_NUMBERS, NUMBER_RE, Config
from ivr.config.problems import Path

GENERAL_QUEUE = "general"
_DATE = TypeAdapter(dt.date | dt.datetime)


@dataclass(frozen=True)
class Finding:
    path: Path            # the field the problem is about
    reason: str
    at: Path | None = None  # where to point in the file, when not at `path` itself


def check(data: Any, line_of: Callable[[Path], int] = lambda path: 0) -> list[Finding]:
    """Every whole-file problem in `data`; `line_of` is used to name earlier occurrences."""
    if not isinstance(data, dict):
        return []
    return _Checker(data, line_of).run()


def check_config(config: Config) -> list[Finding]:
    """The same rules for a `Config` built in code (no file, so no line numbers)."""
    return check(config.model_dump(mode="json"))


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) else None


def _items(data: dict, section: str) -> list[tuple[int, dict]]:
    value = data.get(section)
    if not isinstance(value, list):
        return []
    return [(i, item) for i, item in enumerate(value) if isinstance(item, dict)]


def _known(ids: set[str]) -> str:
    names = sorted(ids)
    shown = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
    return f"known: {shown}" if names else "none defined"


class _Checker:
    def __init__(self, data: dict, line_of: Callable[[Path], int]):
        self.data, self.line_of = data, line_of
        self.found: list[Finding] = []
        self.queues = self._ids("queues")
        self.sub_centers = self._ids("sub_centers")
        trunks = data.get("trunks")
        self.trunks = {k for k in trunks if isinstance(k, str)} if isinstance(trunks, dict) else set()
        self.tz = self._timezone()

    def add(self, path: Path, reason: str, at: Path | None = None) -> None:
        self.found.append(Finding(path, reason, at))

    def run(self) -> list[Finding]:
        for path, reason in safe.control_problems(self.data, SECRET_PATHS):
            self.add(path, reason)
        for section in ("lines", "queues", "sub_centers"):
            self.duplicate_ids(section)
        if GENERAL_QUEUE not in self.queues:
            self.add(("queues",), f"the general queue {GENERAL_QUEUE!r} (the 12345 pool) must exist")
        self.numbers()
        self.entry()
        for i, line in _items(self.data, "lines"):
            self.line(i, line)
        self.queue_rules()
        self.trunk_rules()
        for i, sc in _items(self.data, "sub_centers"):
            self.trunk_ref(("sub_centers", i, "trunk"), sc.get("trunk"))
        emergency = self.data.get("emergency")
        if isinstance(emergency, dict):
            self.trunk_ref(("emergency", "trunk"), emergency.get("trunk"))
        for i, target in _items(self.data, "utilities"):
            self.trunk_ref(("utilities", i, "trunk"), target.get("trunk"))
        if isinstance(self.data.get("provincial"), dict):
            self.trunk_ref(("provincial", "trunk"), self.data["provincial"].get("trunk"))
        fasttrack_check.check(self.data, self.add, self.queue_ref)
        self.callbacks_refs()
        return self.found

    def callbacks_refs(self) -> None:
        """callbacks: (when enabled) the trunk, and every queue it names, must exist."""
        cb = self.data.get("callbacks")
        if not isinstance(cb, dict) or cb.get("enabled") is not True:
            return
        self.trunk_ref(("callbacks", "trunk"), cb.get("trunk", "pstn"))
        if cb.get("missed", True) is not False:
            self.queue_ref(("callbacks", "missed_queue"), cb.get("missed_queue", "general"))
        offers, rating = cb.get("queue_callback"), cb.get("rating")
        for q in offers if isinstance(offers, dict) else ():
            self.queue_ref(("callbacks", "queue_callback", q), q)
        queues = rating.get("queues") if isinstance(rating, dict) else None
        for i, q in enumerate(queues if isinstance(queues, list) else ()):
            self.queue_ref(("callbacks", "rating", "queues", i), q)
        for name, offer in (cb.get("offer_agent") or {}).items() if isinstance(cb.get("offer_agent"), dict) else ():
            if isinstance(offer, dict):
                self.queue_ref(("callbacks", "offer_agent", name, "queue"), offer.get("queue"))

    # --- ids and references -------------------------------------------------
    def _ids(self, section: str) -> set[str]:
        return {i for _, item in _items(self.data, section) if (i := _text(item.get("id")))}

    def duplicate_ids(self, section: str) -> None:
        first: dict[str, Path] = {}
        for i, item in _items(self.data, section):
            item_id = _text(item.get("id"))
            if not item_id:
                continue
            path = (section, i, "id")
            if item_id in first:
                where = self.where(first[item_id])
                self.add(path, f"duplicate id {item_id!r}" + (f" (first{where})" if where else ""))
            else:
                first[item_id] = path

    def queue_ref(self, path: Path, value: Any) -> None:
        name = _text(value)
        if name is not None and name not in self.queues:
            self.add(path, f"unknown queue {name!r} ({_known(self.queues)})")

    def trunk_ref(self, path: Path, value: Any) -> None:
        name = _text(value)
        if name is not None and name not in self.trunks:
            self.add(path, f"unknown trunk {name!r} ({_known(self.trunks)})")

    def destination(self, path: Path, value: Any) -> None:
        if value is None:
            return
        try:
            dest = parse_destination(value)
        except DestinationError as exc:
            self.add(path, str(exc))
            return
        known = {"queue": self.queues, "subcenter": self.sub_centers, "trunk": self.trunks}.get(dest.kind)
        if known is not None and dest.id not in known:
            what = {"queue": "queue", "subcenter": "sub-center", "trunk": "trunk"}[dest.kind]
            self.add(path, f"unknown {what} {dest.id!r} in destination {str(dest)!r} ({_known(known)})")

    # --- numbers ------------------------------------------------------------
    def number_fields(self) -> list[tuple[Path, Any]]:
        """Every field the model reads as a phone number, item by item."""
        out: list[tuple[Path, Any]] = []
        hotline = self.data.get("hotline")
        if isinstance(hotline, dict) and "number" in hotline:
            out.append((("hotline", "number"), hotline["number"]))
        for section, keys in (("lines", ("numbers", "aliases")), ("sub_centers", ("numbers",))):
            for i, item in _items(self.data, section):
                for key in keys:
                    if isinstance(item.get(key), list):
                        out += [((section, i, key, j), n) for j, n in enumerate(item[key])]
        out += [(("utilities", i, "number"), t.get("number")) for i, t in _items(self.data, "utilities")]
        if isinstance(self.data.get("provincial"), dict):
            out.append((("provincial", "number"), self.data["provincial"].get("number")))
        emergency = self.data.get("emergency")
        if isinstance(emergency, dict) and isinstance(emergency.get("numbers"), dict):
            out += [(("emergency", "numbers", n), n) for n in emergency["numbers"]]
        return out

    def numbers(self) -> None:
        routed: list[tuple[Path, str]] = []  # numbers this hotline answers
        for path, value in self.number_fields():
            number = _text(value)
            if number is None:
                continue
            if not NUMBER_RE.match(number):
                self.add(path, f"malformed number {number!r}: digits, optionally '-ext'")
            elif path[0] in ("hotline", "lines", "sub_centers"):
                routed.append((path, number))
        for path, number in routed:
            if path[0] != "hotline" and number.split("-")[0] in EMERGENCY_NUMBERS:
                self.add(path, f"{number} is an emergency number: emergency numbers are never merged")
        self.duplicate_numbers(routed)

    def duplicate_numbers(self, routed: list[tuple[Path, str]]) -> None:
        seen: dict[str, list[Path]] = {}
        for path, number in sorted(routed, key=lambda pn: self.line_of(pn[0])):
            earlier = [p for p in seen.get(number, []) if not self.same_place(p, path)]
            if earlier:
                self.add(path, f"number {number} is already used by {self.place(earlier[0], path)}")
            seen.setdefault(number, []).append(path)

    def same_place(self, a: Path, b: Path) -> bool:
        """A sub-center's number also listed on the line that hands calls to it is one place."""
        for sc_path, line_path in ((a, b), (b, a)):
            if sc_path[0] == "sub_centers" and line_path[0] == "lines":
                sc_id = _text(self.data["sub_centers"][sc_path[1]].get("id"))
                if sc_id and _text(self.data["lines"][line_path[1]].get("sub_center")) == sc_id:
                    return True
        return False

    def place(self, first: Path, now: Path) -> str:
        where = self.where(first)
        if first[0] == "hotline":
            return f"the main hotline number (hotline.number{where})"
        if first[:2] == now[:2]:
            return f"this same entry{where}"
        item_id = _text(self.data[first[0]][first[1]].get("id")) or f"#{first[1]}"
        kind = "line" if first[0] == "lines" else "sub-center"
        return f"{kind} {item_id}{where}"

    # --- sections -----------------------------------------------------------
    def entry(self) -> None:
        hotline = self.data.get("hotline")
        entry = hotline.get("entry") if isinstance(hotline, dict) else None
        if not isinstance(entry, dict):
            return
        self.destination(("hotline", "entry", "default"), entry.get("default"))
        options = entry.get("options")
        if not isinstance(options, dict):
            options = {}
        if entry.get("menu") is True and not options and not fasttrack_check.key_paths(self.data):
            self.add(("hotline", "entry", "options"), "menu is on but has no options", at=("hotline", "entry", "menu"))
        for key, option in options.items():
            path = ("hotline", "entry", "options", key)
            if not re.fullmatch(r"[0-9*#]", key):
                self.add(path, f"menu key {key!r} must be one DTMF key (0-9, * or #; quote * and #)")
            if isinstance(option, dict):
                self.destination(path + ("target",), option.get("target"))

    def line(self, i: int, line: dict) -> None:
        base: Path = ("lines", i)
        mode, seats, after = (_text(line.get(k)) for k in ("mode", "seats", "after"))
        sub_center = _text(line.get("sub_center"))
        if mode == "sub_center" and not sub_center:
            self.add(base + ("sub_center",), "mode sub_center (设分中心) needs sub_center: the id of a sub-center",
                     at=base + ("mode",))
        if sub_center and sub_center not in self.sub_centers:
            self.add(base + ("sub_center",), f"unknown sub-center {sub_center!r} ({_known(self.sub_centers)})")
        self.queue_ref(base + ("queue",), line.get("queue"))
        target = line.get("department_target")
        if seats == "retained" and not target:
            self.add(base + ("department_target",),
                     "retained seats (保留座席) need department_target: where the department's own seats are",
                     at=base + ("seats",))
        if after == "department" and not target:
            self.add(base + ("department_target",),
                     "after: department needs department_target: where the number goes back to",
                     at=base + ("after",))
        self.destination(base + ("department_target",), target)
        self.transition(base, line)

    def transition(self, base: Path, line: dict) -> None:
        effective, end = (self._date(line.get(k)) for k in ("effective", "transition_end"))
        if effective is None or end is None:
            return
        if ends_at(end, self.tz) <= starts_at(effective, self.tz):
            self.add(base + ("transition_end",),
                     f"transition_end {end} is before effective {effective}: the transition would be empty "
                     "(a date is the last day of the transition, inclusive)")

    def queue_rules(self) -> None:
        for i, queue in _items(self.data, "queues"):
            base: Path = ("queues", i)
            target = _text(queue.get("overflow_to"))
            if target is not None and target == _text(queue.get("id")):
                self.add(base + ("overflow_to",), "a queue cannot overflow to itself")
            else:
                self.queue_ref(base + ("overflow_to",), target)
            if queue.get("overflow_after") is not None and target is None:
                self.add(base + ("overflow_to",), "overflow_after needs overflow_to (the queue to overflow to)",
                         at=base + ("overflow_after",))
            members = queue.get("members")
            for j, member in enumerate(members if isinstance(members, list) else []):
                if isinstance(member, str) and (reason := safe.member_error(member)):
                    self.add(base + ("members", j), reason)

    def trunk_rules(self) -> None:
        trunks = self.data.get("trunks")
        for name, trunk in (trunks.items() if isinstance(trunks, dict) else []):
            if reason := safe.trunk_name_error(name):
                self.add(("trunks", name), reason)
            if isinstance(trunk, dict) and trunk.get("type") == "local" and not trunk.get("context"):
                self.add(("trunks", name, "context"), "a local trunk needs context: the dialplan context to dial into",
                         at=("trunks", name))

    # --- helpers ------------------------------------------------------------
    def where(self, path: Path) -> str:
        line = self.line_of(path)
        return f" at line {line}" if line else ""

    def _timezone(self) -> ZoneInfo:
        hotline = self.data.get("hotline")
        name = hotline.get("timezone") if isinstance(hotline, dict) else None
        try:
            return ZoneInfo(name if isinstance(name, str) else "Asia/Shanghai")
        except Exception:  # unknown zone: pydantic reports it; judge dates in the default zone
            return ZoneInfo("Asia/Shanghai")

    @staticmethod
    def _date(value: Any) -> dt.date | dt.datetime | None:
        if value is None:
            return None
        try:
            return _DATE.validate_python(value)
        except ValidationError:
            return None
