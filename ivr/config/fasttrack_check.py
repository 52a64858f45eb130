"""Whole-file rules for `enterprise:` and `languages:` (called by `ivr.config.check`).

Like the rest of the check, they read the plain YAML data, so they still run
when another part of the file failed validation. A fast-track key is a menu
key like `hotline.entry.options`: it must be unique across all of them and
needs the menu on, or no caller could ever press it.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

Path = tuple
Add = Callable[..., None]           # _Checker.add(path, reason, at=None)
QueueRef = Callable[[Path, Any], None]


def check(data: dict, add: Add, queue_ref: QueueRef) -> None:
    enterprise = data.get("enterprise")
    if isinstance(enterprise, dict):
        queue_ref(("enterprise", "queue"), enterprise.get("queue"))
    languages = data.get("languages")
    seen: dict[str, Path] = {}
    for i, lang in enumerate(languages if isinstance(languages, list) else []):
        if not isinstance(lang, dict):
            continue
        queue_ref(("languages", i, "queue"), lang.get("queue"))
        lang_id = lang.get("id")
        if isinstance(lang_id, str):
            if lang_id in seen:
                add(("languages", i, "id"), f"duplicate language id {lang_id!r}")
            seen.setdefault(lang_id, ("languages", i, "id"))
    _keys(data, add)


def _keys(data: dict, add: Add) -> None:
    hotline = data.get("hotline")
    entry = hotline.get("entry") if isinstance(hotline, dict) else None
    entry = entry if isinstance(entry, dict) else {}
    options = entry.get("options") if isinstance(entry.get("options"), dict) else {}
    taken: dict[str, Path] = {str(k): ("hotline", "entry", "options", k) for k in options}
    for path in key_paths(data):
        key = str(_get(data, path))
        if entry.get("menu") is not True:
            add(path, f"menu key {key!r} is never offered: the entry menu is off (hotline.entry.menu: false)")
        if key in taken and taken[key] != path:
            add(path, f"menu key {key!r} is already used by {'.'.join(map(str, taken[key]))}")
        taken.setdefault(key, path)


def key_paths(data: dict) -> list[Path]:
    """Where the fast-track menu keys are set (enterprise.key, languages[i].key)."""
    paths: list[Path] = []
    enterprise = data.get("enterprise")
    if isinstance(enterprise, dict) and enterprise.get("key") is not None:
        paths.append(("enterprise", "key"))
    languages = data.get("languages")
    for i, lang in enumerate(languages if isinstance(languages, list) else []):
        if isinstance(lang, dict) and lang.get("key") is not None:
            paths.append(("languages", i, "key"))
    return paths


def _get(data: Any, path: Path) -> Any:
    for part in path:
        data = data[part]
    return data
