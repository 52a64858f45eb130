"""The merged number plan: `Plan(config).decide(dialed, at)` -> `Decision` (pure).

Everything that does not depend on the time of the call is worked out when
the plan is built: every number form is in one index and every line has one
ready `Decision` per phase. A call is then a normalisation, a dict lookup,
two datetime comparisons and a copy. No I/O, no clock: the caller passes `at`.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo

from ivr.config.model import DEFAULT_MERGED_PROMPT, DEFAULT_NOT_IN_SERVICE_PROMPT, Config, Line
from ivr.plan import phases
from ivr.plan.decision import Decision
from ivr.plan.fasttrack import FastTrack
from ivr.plan.numbers import DuplicateNumber, NumberIndex, normalise
from ivr.plan.phases import ACTIVE, AFTER, BEFORE, TRANSITION, Window
from ivr.plan.targets import GENERAL, Resolved, TargetError, resolve


class PlanError(ValueError):
    """The config cannot be turned into a plan (a bad reference, a number claimed twice)."""


@dataclass(frozen=True)
class _Entry:
    window: Window | None               # None: always ACTIVE (12345, emergency)
    by_phase: dict[str, Decision]


def _local_number(number: str) -> bool:
    """A 7/8-digit local number (extension ignored): it goes back to its department."""
    return len(number.partition("-")[0]) in (7, 8)


class Plan:
    def __init__(self, config: Config):
        self.config = config
        self.tz = ZoneInfo(config.hotline.timezone)
        self._sounds = config.asterisk.sounds_dir.strip("/") or "hotline"
        self._index: NumberIndex[_Entry] = NumberIndex()
        try:
            self._general = resolve(f"queue:{GENERAL}", config)
            self._add_emergency()
            self._add_main()
            for line in config.lines:
                self._add_line(line)
            self._fast = FastTrack(config)
        except (TargetError, DuplicateNumber) as exc:
            raise PlanError(str(exc)) from exc

    # -- the call ---------------------------------------------------------

    def decide(self, dialed: str, at: dt.datetime, caller: str | None = None) -> Decision:
        """Where a call to `dialed` at instant `at` (timezone-aware) goes.

        `caller` (the caller ID) matters only for registered enterprise numbers
        (一企来, `ivr.plan.fasttrack`): same destination rules, tagged, ahead in the queue.
        """
        at_utc = phases.to_utc(at)
        local_at = at_utc.astimezone(self.tz).isoformat()
        number = normalise(dialed)
        entry = self._index.lookup(number) if number else None
        if entry is None:
            d = self._unknown(number, "" if dialed is None else str(dialed), local_at)
        else:
            phase = ACTIVE if entry.window is None else entry.window.phase(at_utc)
            d = replace(entry.by_phase[phase], dialed=str(dialed), at=local_at)
        return self._fast.apply(d) if self._fast.enterprise(caller) else d

    def menu_choice(self, key: str, at: dt.datetime) -> Decision | None:
        """What pressing `key` at the 12345 entry menu does (None: not a key of the menu)."""
        return self._fast.menu_choice(self.decide(self.config.hotline.number, at), key, self.config)

    # -- building ---------------------------------------------------------

    def _decision(self, number: str, *, mode: str, phase: str, action: str, dest: Resolved | None,
                  reason: str, line: Line | None = None, line_name: str | None = None,
                  prompt: str | None = None,
                  prompt_id: str | None = None, skip_key: str | None = None) -> Decision:
        return Decision(
            number=number, dialed=number,
            line=line.id if line else None,
            line_name=line.name if line else line_name,
            department=line.department if line else None,
            mode=mode, phase=phase, action=action,
            prompt=prompt, prompt_id=prompt_id,
            prompt_sound=f"{self._sounds}/{prompt_id}" if prompt_id else None,
            target=dest.target if dest else None,
            dial=dest.dial if dest else None,
            queue=dest.queue if dest else None,
            overflow_queue=dest.overflow_queue if dest else None,
            overflow_after=dest.overflow_after if dest else None,
            skip_key=skip_key, reason=reason,
        )

    def _add_emergency(self) -> None:
        em = self.config.emergency
        for number, label in sorted(em.numbers.items()):
            dest = resolve(f"trunk:{em.trunk}/{number}", self.config)
            d = self._decision(number, mode="emergency", phase=ACTIVE, action="passthrough", dest=dest,
                               line_name=label,
                               reason=f"{number} ({label}) is an emergency number: never merged, passed straight "
                                      f"through to trunk {em.trunk}")
            self._index.add(number, _Entry(None, {ACTIVE: d}), f"emergency {number}")

    def _add_main(self) -> None:
        hotline = self.config.hotline
        entry = hotline.entry
        dest = resolve(entry.default, self.config)
        if entry.menu:
            action, why = "menu", f"voice menu (no key pressed: {entry.default})"
        else:
            action = "queue" if dest.kind == "queue" else "forward"
            why = f"no voice menu (取消语音导航): straight to {entry.default}"
        d = self._decision(hotline.number, mode="main", phase=ACTIVE, action=action, dest=dest,
                           line_name=hotline.name, prompt=entry.prompt, prompt_id="welcome",
                           reason=f"{hotline.number} is the hotline itself: {why}")
        self._index.add(hotline.number, _Entry(None, {ACTIVE: d}), "the hotline number")

    def _add_line(self, line: Line) -> None:
        window = Window.of(line.effective, line.transition_end, self.tz,
                           full_merge=line.mode.value == "full_merge")
        emergency = self.config.emergency.numbers
        for number in [*line.numbers, *line.aliases]:
            if number in emergency:
                continue  # an emergency number is never captured by a line
            alias = number in line.aliases
            who = (f"{number} is an alias of line {line.id}" if alias else f"{number} is line {line.id}") \
                + f" ({line.name}, {line.department})"
            by_phase = {BEFORE: self._before(line, number, who)}
            if window.full_merge:
                if line.transition_end is not None:
                    by_phase[TRANSITION] = self._transition(line, number, who)
                by_phase[AFTER] = self._after(line, number, who)
            else:
                by_phase[ACTIVE] = self._active(line, number, who)
            self._index.add(number, _Entry(window, by_phase), f"line {line.id}")

    def _department(self, line: Line, number: str, phase: str, action: str, why: str) -> Decision:
        """Send to the line's department_target, or to the general queue when none is configured."""
        if line.department_target:
            dest = resolve(line.department_target, self.config)
            return self._decision(number, line=line, mode=line.mode.value, phase=phase, action=action,
                                  dest=dest, reason=f"{why}: {line.department_target}")
        return self._decision(number, line=line, mode=line.mode.value, phase=phase, action="queue",
                              dest=self._general,
                              reason=f"{why}, but no department_target is configured: 12345 general queue")

    def _when(self, value) -> str:
        return phases.describe(value, self.tz)

    def _last(self, end) -> str:
        """A transition end for a human: a date is the last day, a datetime the exclusive end."""
        return f"until {self._when(end)}" if isinstance(end, dt.datetime) else f"last day {self._when(end)}"

    def _before(self, line: Line, number: str, who: str) -> Decision:
        why = f"{who}; before its effective date {self._when(line.effective)} the old behaviour applies, " \
              f"the department's own destination"
        return self._department(line, number, BEFORE, "department", why)

    def _transition(self, line: Line, number: str, who: str) -> Decision:
        end = self._last(line.transition_end)
        prompt = dict(prompt=line.prompt or DEFAULT_MERGED_PROMPT, prompt_id=f"merged-{line.id}")
        if line.during.value == "hangup":
            return self._decision(number, line=line, mode="full_merge", phase=TRANSITION,
                                  action="prompt_then_hangup", dest=resolve("hangup", self.config),
                                  reason=f"{who}; full merge in transition ({end}): merged prompt, "
                                         f"then the call ends", **prompt)
        dest = resolve(f"queue:{line.queue or GENERAL}", self.config)
        return self._decision(number, line=line, mode="full_merge", phase=TRANSITION,
                              action="prompt_then_forward", dest=dest, skip_key=line.skip_key,
                              reason=f"{who}; full merge in transition ({end}): merged prompt, "
                                     f"then forward to 12345 {dest.target}", **prompt)

    def _after(self, line: Line, number: str, who: str) -> Decision:
        ended = "no transition" if line.transition_end is None \
            else f"transition over ({self._last(line.transition_end)})"
        after = line.after.value if line.after else ("department" if _local_number(number) else "not_in_service")
        chosen = "as configured" if line.after else \
            ("a 7/8-digit local number" if after == "department" else "number cancelled (取消号码)")
        why = f"{who}; full merge, {ended}, {chosen}"
        if after == "department":
            return self._department(line, number, AFTER, "department", f"{why}: back to its department")
        return self._decision(number, line=line, mode="full_merge", phase=AFTER, action="not_in_service",
                              dest=resolve("hangup", self.config), prompt=DEFAULT_NOT_IN_SERVICE_PROMPT,
                              prompt_id="not-in-service", reason=f"{why}: number-not-in-service message")

    def _active(self, line: Line, number: str, who: str) -> Decision:
        since = f"since {self._when(line.effective)}"
        if line.mode.value == "sub_center":
            if line.sub_center:
                dest = resolve(f"subcenter:{line.sub_center}", self.config)
                return self._decision(number, line=line, mode="sub_center", phase=ACTIVE, action="forward",
                                      dest=dest, reason=f"{who}; sub-center {since}: forward to {dest.target}")
            return self._department(line, number, ACTIVE, "forward",
                                    f"{who}; sub-center {since} without sub_center, department's destination")
        if line.seats.value == "retained":
            return self._department(line, number, ACTIVE, "forward",
                                    f"{who}; dual number {since}, the department kept its own seats (保留座席)")
        dest = resolve(f"queue:{line.queue or GENERAL}", self.config)
        return self._decision(number, line=line, mode="dual_number", phase=ACTIVE, action="queue", dest=dest,
                              reason=f"{who}; dual number {since}, seats pooled into 12345 (座席并入): "
                                     f"{dest.target}, tagged {line.department}")

    def _unknown(self, number: str, dialed: str, local_at: str) -> Decision:
        why = f"{number} is not in the plan" if number else "the dialed number is empty or malformed"
        d = self._decision(number, mode="unknown", phase=ACTIVE, action="queue", dest=self._general,
                           reason=f"{why}: 12345 general queue")
        return replace(d, dialed=dialed, at=local_at)
