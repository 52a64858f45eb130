"""What is wrong with a config file, one problem per `FILE:LINE: field: reason` line."""
from __future__ import annotations

from dataclasses import dataclass

Path = tuple[str | int, ...]  # ('lines', 3, 'mode')


def dotted(path: Path) -> str:
    """('lines', 3, 'mode') -> 'lines[3].mode'."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    line: int          # 1-based; 0 when the problem has no line (missing file, environment)
    field: str         # dotted path, e.g. lines[3].mode; "" for the whole file
    reason: str
    label: str = ""    # id of the item the field belongs to, e.g. the line id

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        field = f"{self.field} [{self.label}]" if self.label else self.field
        return f"{where}: {field}: {self.reason}" if field else f"{where}: {self.reason}"


class ConfigError(Exception):
    """The config cannot be used; `.problems` lists every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(set(problems))
        super().__init__("\n".join(str(p) for p in self.problems))
