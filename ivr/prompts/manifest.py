"""Which prompts a plan needs, and where their audio comes from.

Every prompt has an id (the sound file name Asterisk plays as
`hotline/<id>`), its text, and optionally an operator-supplied recording.
The ids a config needs come from the plan itself (welcome, menu,
not-in-service, merged-<line id>); `prompts/manifest.yaml` adds
recordings (and may override texts) by id.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from ivr.config.model import DEFAULT_MERGED_PROMPT, DEFAULT_NOT_IN_SERVICE_PROMPT, Config, Mode
from ivr.plan.fasttrack import menu_prompts


class ManifestError(ValueError):
    pass


@dataclass(frozen=True)
class Prompt:
    id: str
    text: str
    source: Path | None = None  # operator recording (wav/mp3, any rate); None = synthesize


def config_prompts(config: Config) -> dict[str, str]:
    """id -> text for every prompt the plan can play."""
    entry = config.hotline.entry
    prompts = {"welcome": entry.prompt, "menu": entry.menu_prompt, "not-in-service": DEFAULT_NOT_IN_SERVICE_PROMPT}
    if config.speech.enabled and entry.speech_intake:
        prompts["intake"] = config.speech.intake_prompt
    if config.callbacks.enabled:
        prompts |= config.callbacks.prompts()
    prompts |= menu_prompts(config)  # "For English, press 9" after the menu prompt
    if config.recordings.enabled and config.recordings.notice:  # recordings/: 「您的通话可能会被录音」
        prompts["recording-notice"] = config.recordings.notice_prompt
    for line in config.lines:
        if line.mode == Mode.full_merge:
            prompts[f"merged-{line.id}"] = line.prompt or DEFAULT_MERGED_PROMPT
    return prompts


def load_manifest(path: Path) -> list[dict]:
    """prompts/manifest.yaml: a list of {id, text?, file?}; file paths relative to it."""
    if not path.is_file():
        return []
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ManifestError(f"{path}: {exc}") from exc
    items = data.get("prompts") or []
    if not isinstance(items, list):
        raise ManifestError(f"{path}: `prompts` must be a list")
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            raise ManifestError(f"{path}: prompts[{i}]: each prompt needs an `id`")
        unknown = set(item) - {"id", "text", "file"}
        if unknown:
            raise ManifestError(f"{path}: prompts[{i}] ({item['id']}): unknown field(s) {', '.join(sorted(unknown))}")
    return items


def prompts_for(config: Config, manifest_path: Path) -> list[Prompt]:
    """The plan's prompts, with the operator's recordings and texts applied."""
    texts = config_prompts(config)
    sources: dict[str, Path] = {}
    for item in load_manifest(manifest_path):
        if item.get("text"):
            texts[item["id"]] = item["text"]
        if item.get("file"):
            source = (manifest_path.parent / item["file"]).resolve()
            if not source.is_file():
                raise ManifestError(f"{manifest_path}: prompt {item['id']}: recording {item['file']} not found")
            sources[item["id"]] = source
        texts.setdefault(item["id"], "")
    return [Prompt(pid, texts[pid], sources.get(pid)) for pid in sorted(texts)]
