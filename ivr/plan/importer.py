"""Turn a city's merge list into a complete config.yaml plus a list of open decisions (pure).

The published list says which lines merge how, but not where a call went
before the merge, which number a department's retained seats answer, or when
each phase starts. Those gaps get a safe, checkable placeholder in the config
and a numbered item in the human-decision list (printed and written as YAML
comments at the top), so nothing is silently guessed.
"""
from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ivr.config.model import EMERGENCY_NUMBERS
from ivr.plan.merge_list import Row, read_rows
from ivr.plan.notes import BUILTIN, Phrase, parse_note
from ivr.plan.published import is_own_layout, read_published
from ivr.plan.tables import decode, delimiter, read_grids, text_grid

PSTN = "pstn"
SUBCENTER_TRUNK = "subcenter"
GENERAL = "general"
FIRE_WORDS = ("火警", "报警")
__all__ = ["ImportResult", "import_file", "import_merge_list", "line_id"]


@dataclass(frozen=True)
class ImportResult:
    config: dict
    decisions: list[str]
    header: list[str]
    readings: list[str] = dataclasses.field(default_factory=list)  # what each note was read as, and why


def line_id(number: str) -> str:
    return f"line-{number}"


def transition_end(effective: dt.date, months: int, days: int) -> dt.date | None:
    """Last day (inclusive) of a transition of N months and/or N days from the effective day (None: none)."""
    if not months and not days:
        return None
    month = effective.month - 1 + months
    year, month = effective.year + month // 12, month % 12 + 1
    day = min(effective.day, calendar.monthrange(year, month)[1])
    return dt.date(year, month, day) + dt.timedelta(days=days - 1)


def import_merge_list(text: str, *, effective_from: dt.date, transition_days: int, city: str = "",
                      source: str = "merge list", phrases: tuple[Phrase, ...] = BUILTIN) -> ImportResult:
    """Build the config dict and the decision list from the CSV text (MergeListError if malformed)."""
    if transition_days < 0:
        raise ValueError("transition days must be 0 or more")
    return _Builder(effective_from, transition_days, city, source, phrases).build(read_rows(text))


def import_file(path: Path, *, effective_from: dt.date, transition_days: int, city: str = "",
                progress: Callable[[str], None] | None = None,
                phrases: tuple[Phrase, ...] = BUILTIN) -> ImportResult:
    """Import a merge list as published (CSV/TSV/XLSX, Chinese headers, sections) or in our own CSV layout.

    MergeListError (naming file, sheet and row) if a row cannot be read; OSError if the file cannot be opened.
    """
    if transition_days < 0:
        raise ValueError("transition days must be 0 or more")
    if path.suffix.lower() in (".xlsx", ".xlsm", ".xls"):
        grids = read_grids(path)
    else:
        text = decode(path.read_bytes())
        grid = text_grid(text, path.name)
        if is_own_layout(grid) and delimiter(text) == ",":
            return import_merge_list(text, effective_from=effective_from, transition_days=transition_days,
                                     city=city, source=path.name, phrases=phrases)
        grids = [grid]
    reading = read_published(grids, progress)
    return _Builder(effective_from, transition_days, city, path.name, phrases).build(reading.rows,
                                                                                     reading.reported)


class _Builder:
    def __init__(self, effective: dt.date, days: int, city: str, source: str, phrases: tuple[Phrase, ...]):
        self.effective, self.days, self.city, self.source = effective, days, city, source
        self.phrases = phrases
        self.readings: list[str] = []       # 「phrase」→ meaning, per line
        self.transition_end = effective + dt.timedelta(days=days - 1) if days else None
        self.problems: list[str] = []       # rows we could not import as written
        self.placeholders: list[str] = []   # values in the output somebody must confirm
        self.lines: list[dict] = []
        self.queues: list[dict] = [{"id": GENERAL, "name": "12345综合座席"}]
        self.sub_centers: list[dict] = []

    def build(self, rows: list[Row], reported: list[str] = ()) -> ImportResult:
        rows = [dataclasses.replace(r, note=parse_note(r.note_text, self.phrases)) for r in rows]
        kept = self._dedupe(rows)
        own = {n for r in kept for n in r.numbers}
        claimed: dict[str, str] = {}
        for row in kept:
            self.lines.append(self._line(row, own, claimed))
        config = {
            "hotline": self._hotline(),
            "lines": self.lines,
            "queues": self.queues,
            "sub_centers": self.sub_centers,
            "trunks": self._trunks(),
            "emergency": {"trunk": PSTN, "numbers": {"110": "公安报警", "119": "消防火警",
                                                      "120": "医疗急救", "122": "交通事故"}},
        }
        if not self.sub_centers:
            del config["sub_centers"]
        decisions = self.problems + list(reported) + self.placeholders + self._general()
        header = [f"config.yaml generated by `hotline plan import` from {self.source}",
                  f"(effective from {self.effective.isoformat()}, transition {self.days} days). "
                  "Check it with `hotline config check`."]
        return ImportResult(config, decisions, header, self.readings)

    # -- rows --------------------------------------------------------------

    def _dedupe(self, rows: list[Row]) -> list[Row]:
        seen: dict[str, Row] = {}
        kept = []
        for row in rows:
            where = f"{row.where} ({row.name}, {row.number})"
            if row.mode is None and row.note.mode:
                row = dataclasses.replace(row, mode=row.note.mode)
                self.readings.append(f"{line_id(row.number)}: mode {row.mode}（备注写明，表中没有归并方式）")
            elif row.note.mode and row.note.mode != row.mode:
                self.problems.append(f"{where}: the note names mode {row.note.mode} but the table says "
                                     f"{row.mode_text!r}: the table's mode was imported, confirm")
            if row.mode is None and not row.note.sub_center:
                said = f"unknown mode {row.mode_text!r}" if row.mode_text else \
                    "no mode (no section row such as 「一、整体并入」, no 归并方式 column, no mode in the note)"
                self.problems.append(f"{where}: {said} (expected 整体并入, 双号并行 or 设分中心): row NOT imported, "
                                     "add the line by hand")
            elif row.number in EMERGENCY_NUMBERS or row.number == "12345":
                self.problems.append(f"{where}: {row.number} is an emergency number or 12345 itself and is "
                                     "never merged: row NOT imported")
            elif row.number in seen:
                first = seen[row.number]
                self.problems.append(f"{where}: duplicate of {first.where} ({first.name}): only the "
                                     "first row was imported, decide which one is right")
            else:
                row = self._extras(row, seen)
                for number in row.numbers:
                    seen[number] = row
                kept.append(row)
        return kept

    def _extras(self, row: Row, seen: dict[str, Row]) -> Row:
        """Drop a second number (「、」 list, continuation row) that is an emergency number or taken."""
        keep = []
        for number in row.extra_numbers:
            where = f"{row.where} ({row.name}, {number})"
            if number in EMERGENCY_NUMBERS or number == "12345":
                self.problems.append(f"{where}: {number} is an emergency number or 12345 itself: not imported")
            elif number in seen or number == row.number or number in keep:
                self.problems.append(f"{where}: {number} is listed twice: kept on its first line only")
            else:
                keep.append(number)
        return dataclasses.replace(row, extra_numbers=tuple(keep))

    def _line(self, row: Row, own: set[str], claimed: dict[str, str]) -> dict:
        lid = line_id(row.number)
        where = f"{row.where} ({row.name}, {row.number})"
        mode = row.mode or "sub_center"
        if row.note.sub_center and row.mode != "sub_center":
            self.problems.append(f"{where}: mode {row.mode_text!r} but note says 设立分中心: imported as a "
                                 "sub-center, confirm")
            mode = "sub_center"
        line: dict = {"id": lid, "name": row.name, "numbers": list(row.numbers)}
        aliases = self._aliases(row, own, claimed)
        if aliases:
            line["aliases"] = aliases
        line.update(department=row.department, mode=mode, effective=self.effective)
        if mode == "full_merge":
            self._full_merge(row, line)
        elif mode == "dual_number":
            self._dual_number(row, line)
        else:
            self._sub_center(row, line)
        if row.note.expert:
            self._expert_queue(row, line)
        for flag, what in ((row.note.enterprise, "the enterprise fast track 涉企专席/一企来: register the numbers "
                            "(`hotline plan enterprises import`) and/or set enterprise.queue/key"),
                           (row.note.language, "language seats 外语坐席: add a languages: entry (queue, menu key)")):
            if flag:
                self.placeholders.append(f"{where}: the note asks for {what} (docs/plan.md, Fast tracks)")
        self.readings += [f"{lid}: {reason}" for reason in row.note.reasons]
        self._not_for_mode(row, mode)
        if row.note.seats == "retained" and mode != "dual_number":
            self.problems.append(f"{where}: note {row.note_text!r} speaks of seats but the mode is {mode}: "
                                 "seats ignored, confirm")
        for part in row.note.unknown:
            self.problems.append(f"{where}: note part {part!r} not understood: ignored, decide what it means")
        if row.levels:
            line["levels"] = row.levels
        if row.note_text:
            line["notes"] = row.note_text
        return line

    def _aliases(self, row: Row, own: set[str], claimed: dict[str, str]) -> list[str]:
        aliases = []
        for alias in row.note.aliases:
            where = f"{row.where} ({row.name}, {row.number})"
            if alias in own:
                self.problems.append(f"{where}: note says it absorbed {alias} (已整合), but {alias} is also its "
                                     f"own row {line_id(alias)}: kept as its own line, decide whether it "
                                     f"should be an alias of {line_id(row.number)} instead")
            elif alias in claimed:
                self.problems.append(f"{where}: alias {alias} is already an alias of {claimed[alias]}: "
                                     "kept there only, decide")
            elif alias in EMERGENCY_NUMBERS:
                self.problems.append(f"{where}: alias {alias} is an emergency number: not imported")
            else:
                claimed[alias] = line_id(row.number)
                aliases.append(alias)
        return aliases

    def _full_merge(self, row: Row, line: dict) -> None:
        lid, note = line["id"], row.note
        end = self.transition_end
        if note.transition:
            end = transition_end(self.effective, *note.transition)
            self.readings.append(f"{lid}: transition_end {end.isoformat() if end else '无'}（本热线自己的过渡期，"
                                 f"不用 --transition-days {self.days}）")
        elif note.withdrawn:
            end = None
            self.readings.append(f"{lid}: 号码、座席已撤销且未给过渡期 → 生效即停止服务 (no transition)")
        if end is not None:
            line["transition_end"] = end
        line["during"] = "forward"
        if note.cancel_number or note.withdrawn:
            line["after"] = "not_in_service"
            self.readings.append(f"{lid}: after: not_in_service（取消/撤销号码）")
            return
        if note.keep_number:
            self.problems.append(f"{row.where} ({row.name}, {row.number}): note says 保留号码 (the number stays) "
                                 "but the mode is 整体并入: after the transition the number would stop; decide: "
                                 "mode dual_number (seats pooled) or a later transition_end")
        if len(row.number.partition("-")[0]) in (7, 8):
            line["department_target"] = f"trunk:{PSTN}/{row.number}"
            self.placeholders.append(
                f"{lid} ({row.name}) is a local {len(row.number.partition('-')[0])}-digit number: after the "
                f"transition it goes back to its department at the placeholder {line['department_target']} "
                "(also used before the effective date): put the department's real destination, or set "
                "`after: not_in_service` to cancel the number")
        if any(w in row.name for w in FIRE_WORDS):
            self.placeholders.append(
                f"{lid} ({row.name}) is an alarm line merged into 12345: make sure agents hand such calls "
                "to 119/110 at once (emergency linkage), or keep the number outside the merge")

    def _dual_number(self, row: Row, line: dict) -> None:
        lid = line["id"]
        seats = row.note.seats
        if seats is None and (row.note.forwarded or row.note.keep_number):
            seats = "pooled"
            self.readings.append(f"{lid}: seats: pooled（已呼叫转移至12345 / 只保留号码，不保留座席）")
        elif seats is None:
            seats = "pooled"
            self.problems.append(f"{row.where} ({row.name}, {row.number}): dual number without "
                                 "座席并入/保留座席 in the note: assumed pooled (座席并入), confirm")
        line["seats"] = seats
        if seats == "retained":
            line["department_target"] = f"trunk:{PSTN}/{row.number}"
            self.placeholders.append(
                f"{lid} ({row.name}) keeps its own seats (保留座席): calls are forwarded to the placeholder "
                f"{line['department_target']}: put the number/trunk the department's seats really answer")

    def _sub_center(self, row: Row, line: dict) -> None:
        sc_id = f"sc-{row.number}"
        self.sub_centers.append({"id": sc_id, "name": f"{row.name}分中心", "trunk": SUBCENTER_TRUNK,
                                 "numbers": list(row.numbers)})
        line["sub_center"] = sc_id

    def _expert_queue(self, row: Row, line: dict) -> None:
        qid = f"{line['id']}-expert"
        remote = "远程" if row.note.remote_expert else ""
        self.queues.append({"id": qid, "name": f"{row.name}{remote}专家座席", "overflow_after": 30,
                            "overflow_to": GENERAL})
        line["queue"] = qid
        if remote:
            self.placeholders.append(
                f"queue {qid} is a remote expert queue (远程专家座席): its experts are not in the 12345 room; "
                "list them as members reached over a trunk (e.g. PJSIP/<extension>@<trunk endpoint>) or "
                "let them log in from browser seats")

    def _not_for_mode(self, row: Row, mode: str) -> None:
        """Note phrases that only make sense for a full merge, on a line that is not one."""
        said = [word for flag, word in ((row.note.transition, "过渡期"), (row.note.cancel_number, "取消号码"),
                                        (row.note.withdrawn, "撤销号码、座席")) if flag]
        if said and mode != "full_merge":
            self.problems.append(f"{row.where} ({row.name}, {row.number}): note says {'、'.join(said)} but the "
                                 f"mode is {mode}: only a full merge has a transition; ignored, decide")

    # -- whole file --------------------------------------------------------

    def _hotline(self) -> dict:
        hotline = {"name": f"{self.city}12345政务服务便民热线"}
        if self.city:
            hotline["city"] = self.city
        hotline.update(number="12345", timezone="Asia/Shanghai", entry={"menu": False, "default": f"queue:{GENERAL}"})
        return hotline

    def _trunks(self) -> dict:
        trunks = {PSTN: {"type": "local", "context": "sim-outside"}}
        if self.sub_centers:
            trunks[SUBCENTER_TRUNK] = {"type": "pjsip", "endpoint": SUBCENTER_TRUNK, "host": "127.0.0.1:5070"}
        return trunks

    def _general(self) -> list[str]:
        items = []
        no_target = [ln["id"] for ln in self.lines if "department_target" not in ln]
        if no_target:
            items.append(f"{len(no_target)} lines have no original destination (department_target): a call "
                         f"reaching this switch before {self.effective.isoformat()} goes to the 12345 general "
                         f"queue. Set department_target where the old line must keep working: "
                         + ", ".join(sorted(no_target)))
        kept_numbers = [ln["id"] for ln in self.lines if ln["mode"] == "full_merge" and "queue" in ln]
        if kept_numbers:
            items.append("full-merge lines with expert seats often keep their number (暂保留号码): after the "
                         "transition they become not in service unless you set `after`, a later "
                         "transition_end, or mode dual_number: " + ", ".join(kept_numbers))
        end = f", last day {self.transition_end.isoformat()}" if self.transition_end else ""
        items.append(f"every line takes effect on {self.effective.isoformat()} (--effective-from){end}: "
                     "set `effective`/`transition_end` per line if the plan merges in phases, and "
                     "`during: hangup` where the call should end after the prompt")
        if not self.city:
            items.append("no --city given: set hotline.name and hotline.city")
        items.append(f"trunk {PSTN} is the embedded demo's simulated outside world (local context "
                     "sim-outside): in production point it at the city's PSTN gateway (type pjsip)")
        if self.sub_centers:
            items.append(f"trunk {SUBCENTER_TRUNK} is a placeholder PJSIP trunk to 127.0.0.1:5070: set the "
                         "sub-centers' real SIP gateway (one trunk per sub-center if they differ)")
        items.append("queues have no members: agents join by logging in at the console, or list static "
                     "members (e.g. PJSIP/agent1001)")
        return items
