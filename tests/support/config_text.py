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


def city_with_tickets(tmp_path: Path, base: Path, section: str, body: str) -> Path:
    """`base` (a city's config) with `tickets.<section>` set to the indented YAML `body`."""
    path = tmp_path / "city.yaml"
    path.write_text(base.read_text(encoding="utf-8") + f"tickets:\n  {section}:\n" + body, encoding="utf-8")
    return path


def assert_check_reports(capsys, path: Path, line: int, field: str, reason: str) -> None:
    """`hotline config check` refuses `path` and names `FILE:LINE: field: reason`."""
    from ivr.cli import main as cli_main

    assert cli_main(["config", "check", "-c", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:{line}: {field}: {reason}" in err, err
