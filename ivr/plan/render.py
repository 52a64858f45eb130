"""The imported config as readable YAML with the open decisions as comments on top (pure)."""
from __future__ import annotations

from typing import TYPE_CHECKING

import yaml

if TYPE_CHECKING:
    from ivr.plan.importer import ImportResult


class _Dumper(yaml.SafeDumper):
    """Block style, no &anchors for repeated dates, short scalar lists inline: `numbers: ['12349']`."""

    def ignore_aliases(self, data) -> bool:
        return True


def _list(dumper: yaml.SafeDumper, data: list):
    flow = all(not isinstance(v, (dict, list)) for v in data)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


_Dumper.add_representer(list, _list)


def render_yaml(result: ImportResult) -> str:
    """The config as readable, deterministic YAML with the decisions as comments on top."""
    out = [f"# {h}" for h in result.header]
    out += ["#", f"# NEEDS A HUMAN DECISION ({len(result.decisions)}):"]
    out += [f"# {i:2d}. {text}" for i, text in enumerate(result.decisions, 1)]
    body = yaml.dump(result.config, Dumper=_Dumper, allow_unicode=True, sort_keys=False,
                     default_flow_style=False, width=1000)
    for text in body.splitlines():
        # A blank line between sections and between list entries keeps a long file scannable.
        starts_block = text and (not text.startswith((" ", "-")) or text.startswith("- id:"))
        if starts_block and not out[-1].endswith(":"):
            out.append("")
        out.append(text)
    return "\n".join(out) + "\n"


def numbered(decisions: list[str]) -> str:
    return "\n".join(f"{i:2d}. {text}" for i, text in enumerate(decisions, 1))
