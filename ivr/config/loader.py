"""Load config.yaml: YAML with line numbers, environment overrides, validation, cross-checks.

Precedence: model defaults < config file < environment < command line.
Every problem is collected (YAML-level, pydantic, cross-checks) and raised
together as one `ConfigError`, each with its own file and line.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ivr.config.check import check
from ivr.config.enterprise_file import include as include_enterprise_numbers
from ivr.config.errors import translate
from ivr.config.model import Config
from ivr.config.problems import ConfigError, Problem, dotted
from ivr.config.problems import Path as FieldPath
from ivr.config.tickets_model import include_lexicon
from ivr.config.yamlpos import Document, YamlSyntaxError, read_yaml

__all__ = ["ConfigError", "Problem", "default_config_path", "load_config", "ENV_OVERRIDES"]

# Environment variable -> the field it replaces. Secrets belong here, not in the file.
ENV_OVERRIDES: dict[str, FieldPath] = {
    "HOTLINE_AMI_SECRET": ("asterisk", "ami", "secret"),
    "HOTLINE_DATABASE_URL": ("database", "url"),
    "HOTLINE_WEB_TOKENS": ("web", "tokens"),  # "token1=agent1,token2=agent2"
    "HOTLINE_CALLBACK_WEBHOOK_TOKEN": ("callbacks", "webhook_token"),  # the work-order system's bearer token
}
CLI_SOURCE = "command line"


def default_config_path(env: Mapping[str, str] = os.environ) -> Path:
    """$HOTLINE_CONFIG, else ./config.yaml."""
    return Path(env.get("HOTLINE_CONFIG") or "config.yaml")


def load_config(
    path: str | os.PathLike[str],
    *,
    env: Mapping[str, str] = os.environ,
    overrides: Mapping[str, Any] | None = None,
) -> Config:
    """Read, override, validate and cross-check `path`; raise `ConfigError` listing every problem.

    `overrides` maps dotted field paths to values from the command line,
    e.g. {"web.port": 8081}; they win over the file and the environment.
    """
    file = str(path)
    doc = _read(Path(path), file)
    found = [Problem(file, line, dotted(p), reason) for p, line, reason in doc.issues]
    if doc.data is None:
        doc.data = {}
    if not isinstance(doc.data, dict):
        found.append(Problem(file, doc.line_of(()), "", "expected a mapping of sections (hotline:, lines:, ...)"))
        raise ConfigError(found)
    data: dict = doc.data

    sources: dict[FieldPath, str] = {}
    for var, target in ENV_OVERRIDES.items():
        if env.get(var):
            value, bad = _env_value(var, env[var])
            found += [Problem(f"${var}", 0, dotted(target), reason) for reason in bad]
            found += _put(data, target, value, f"${var}", sources, doc, file)
    for key, value in (overrides or {}).items():
        found += _put(data, tuple(key.split(".")), value, CLI_SOURCE, sources, doc, file)

    found += include_enterprise_numbers(data, file, doc.line_of)
    found += include_lexicon(data, doc.line_of, file)  # tickets.lexicon, checked entry by entry
    config = None
    reasons: list[tuple[FieldPath, str, FieldPath | None]] = []
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        reasons += [(p, reason, None) for p, reason in translate(exc, data)]
    reasons += [(f.path, f.reason, f.at) for f in check(data, doc.line_of)]
    for p, reason, at in reasons:
        found.append(_problem(file, doc, sources, p, reason, at))
    if found or config is None:
        raise ConfigError(found)
    return config


def _read(path: Path, file: str) -> Document:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError([Problem(file, 0, "", "file not found (give one with -c FILE or $HOTLINE_CONFIG)")]) from None
    except OSError as exc:
        raise ConfigError([Problem(file, 0, "", f"cannot read: {exc.strerror or exc}")]) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError([Problem(file, line, "", "not UTF-8 text")]) from None
    try:
        return read_yaml(text)
    except YamlSyntaxError as exc:
        raise ConfigError([Problem(file, exc.line, "", f"YAML syntax error: {exc.reason}")]) from None


def _env_value(var: str, raw: str) -> tuple[Any, list[str]]:
    """The override value of `var` and what is wrong with it (never echoing secrets)."""
    if var != "HOTLINE_WEB_TOKENS":
        return raw, []
    tokens: dict[str, str] = {}
    bad: list[str] = []
    for n, item in enumerate((i.strip() for i in raw.split(",")), start=1):
        token, eq, agent = (s.strip() for s in item.partition("="))
        if not item:
            continue
        if not eq or not token or not agent:
            bad.append(f"item {n} is not token=agent")
        elif token in tokens:
            bad.append(f"item {n} repeats an earlier token")
        else:
            tokens[token] = agent
    return tokens, bad


def _put(data: dict, target: FieldPath, value: Any, source: str,
         sources: dict[FieldPath, str], doc: Document, file: str) -> list[Problem]:
    """Set `target` in `data`, creating sections the file left out."""
    node = data
    for depth, key in enumerate(target[:-1]):
        if node.get(key) is None:  # section left out, or "asterisk:" with nothing under it
            node[key] = {}
        node = node[key]
        if not isinstance(node, dict):
            where = target[: depth + 1]
            return [Problem(file, doc.line_of(where), dotted(where), f"must be a mapping to apply {source}")]
    node[target[-1]] = value
    sources[target] = source
    return []


def _problem(file: str, doc: Document, sources: dict[FieldPath, str],
             path: FieldPath, reason: str, at: FieldPath | None) -> Problem:
    field = dotted(path)
    for target, source in sources.items():
        if path[: len(target)] == target:
            return Problem(source, 0, field, reason)
    return Problem(file, doc.line_of(at or path), field, reason, _label(doc.data, path))


def _label(data: dict, path: FieldPath) -> str:
    """The id (or name) of the list item a path is in, e.g. the line id."""
    if len(path) < 2 or path[0] not in ("lines", "queues", "sub_centers", "utilities"):
        return ""
    items = data.get(path[0])
    if not isinstance(path[1], int) or not isinstance(items, list) or path[1] >= len(items):
        return ""
    item = items[path[1]]
    value = item.get("name" if path[0] == "utilities" else "id") if isinstance(item, dict) else None
    return value.strip() if isinstance(value, str) else ""
