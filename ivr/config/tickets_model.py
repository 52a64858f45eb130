"""The `tickets:` section: a city's own words for ticket drafting, over the shipped lexicon.

`tickets.lexicon` is the overlay itself (inline) or the path of a YAML file
holding it (relative to config.yaml). Why its own check: a misspelt
department or group would otherwise never match and nobody would notice, so
every entry is checked (ivr.tickets.lexicon.overlay_problems) and a bad one
is reported as `FILE:LINE: field: reason`, in the overlay file when there is
one. `include_lexicon` runs in the loader before validation: it reads the
file, checks entries against the city's lines, and leaves the checked
overlay inline for the model.
"""
from __future__ import annotations

from pathlib import Path as FsPath
from typing import Any, Callable

from pydantic import Field, field_validator

from ivr.config.base import Strict
from ivr.config.problems import Path, Problem, dotted
from ivr.config.tickets_possible_model import Possible
from ivr.config.tickets_scope_vote_model import ScopeVote
from ivr.config.tickets_vote_model import Vote
from ivr.config.yamlpos import YamlSyntaxError, read_yaml

FIELD = ("tickets", "lexicon")


class Tickets(Strict):
    # The city's lexicon overlay (docs/tickets.md, "A city's own words"); a path when read by the loader.
    lexicon: dict[str, Any] = Field(default_factory=dict)
    # Possible-emergency thresholds and the trained classifier (docs/tickets.md, "The trained classifier").
    possible: Possible = Field(default_factory=Possible)
    # The trained department/category vote (docs/tickets.md, "The department and category vote").
    vote: Vote = Field(default_factory=Vote)
    # The trained out-of-scope vote (docs/tickets.md, "The out-of-scope vote").
    scope_vote: ScopeVote = Field(default_factory=ScopeVote)

    @field_validator("lexicon", mode="before")
    @classmethod
    def _lexicon(cls, v: Any) -> dict[str, Any]:
        from ivr.tickets.lexicon import overlay_problems  # pure; reads only the shipped data

        if isinstance(v, str):  # a config built in code with a path (the loader reads files itself)
            v = _read_file(FsPath(v))[0] if v else {}
        good, problems = overlay_problems(v)
        if problems:
            raise ValueError("; ".join(f"{dotted(p) or 'lexicon'}: {reason}" for p, reason in problems))
        return good


def _read_file(path: FsPath) -> tuple[Any, Callable[[Path], int]]:
    doc = read_yaml(path.read_text(encoding="utf-8-sig"))
    return doc.data, doc.line_of


def include_lexicon(data: dict, line_of: Callable[[Path], int], file: str) -> list[Problem]:
    """Check `tickets.lexicon` entry by entry (reading it from its file if it names one); problems with FILE:LINE."""
    from ivr.tickets.lexicon import overlay_problems

    section = data.get("tickets")
    if not isinstance(section, dict) or section.get("lexicon") in (None, ""):
        return []
    value, where, lines = section["lexicon"], file, lambda p: line_of((*FIELD, *p))
    if isinstance(value, str):
        path = FsPath(file).parent / value
        try:
            value, file_lines = _read_file(path)
        except OSError as exc:
            section["lexicon"] = {}
            return [Problem(file, line_of(FIELD), dotted(FIELD), f"cannot read {value}: {exc.strerror or exc}")]
        except (UnicodeDecodeError, YamlSyntaxError) as exc:
            section["lexicon"] = {}
            return [Problem(str(path), getattr(exc, "line", 0), "", f"not a YAML lexicon: {getattr(exc, 'reason', exc)}")]
        where, lines = str(path), file_lines
    departments = {ln.get("department") for ln in data.get("lines") or () if isinstance(ln, dict)}
    good, problems = overlay_problems(value, {d for d in departments if isinstance(d, str)})
    section["lexicon"] = good
    field = (lambda p: dotted(p)) if where != file else (lambda p: dotted((*FIELD, *p)))
    return [Problem(where, lines(p), field(p) or dotted(FIELD), reason) for p, reason in problems]
