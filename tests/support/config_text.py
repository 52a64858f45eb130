"""Load a config written as text and list what it reports (config tests of every feature)."""
from __future__ import annotations

from pathlib import Path

from ivr.config.loader import ConfigError, load_config


def config_problems(tmp_path: Path, text: str) -> list[str]:
    """The problems (`FILE:LINE: field: reason`) of `text` as a config file; [] when it loads."""
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        load_config(path, env={})
    except ConfigError as exc:
        return [str(p) for p in exc.problems]
    return []
