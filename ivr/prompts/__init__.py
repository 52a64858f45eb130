"""Prompts: the manifest (ids, texts, recordings) and their conversion for Asterisk."""
from pathlib import Path

from ivr.paths import PROMPTS

MANIFEST = PROMPTS / "manifest.yaml"
BUILD_DIR = PROMPTS / "build"


def build_for(config, progress=lambda _m: None, out_dir: Path = BUILD_DIR):
    """Build every prompt `config` needs into `out_dir` (only what changed)."""
    from ivr.prompts.build import build
    from ivr.prompts.manifest import prompts_for

    return build(prompts_for(config, MANIFEST), out_dir, progress)
