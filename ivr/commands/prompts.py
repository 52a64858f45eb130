"""`hotline prompts build`: convert recordings / synthesize placeholders for Asterisk."""
from __future__ import annotations

import sys
from pathlib import Path

from ivr.commands._common import add_config_arg, load_or_exit
from ivr.prompts import BUILD_DIR, build_for
from ivr.prompts.build import PromptError, install
from ivr.prompts.manifest import ManifestError


def _build(args) -> int:
    config = load_or_exit(args.config)
    out = Path(args.out)
    try:
        result = build_for(config, lambda m: print(m, file=sys.stderr), out)
    except (PromptError, ManifestError) as exc:
        print(f"hotline prompts build: {exc}", file=sys.stderr)
        return 1
    print(f"{out}: {len(result.built)} built, {len(result.unchanged)} unchanged, "
          f"{len(result.placeholders)} placeholder(s) from text")
    if args.install:
        print(f"installed {install(out, Path(args.install))} files into {args.install}")
    return 0


def register(sub) -> None:
    parser = sub.add_parser("prompts", help="prompt audio for Asterisk")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    p = verbs.add_parser("build", help="convert recordings (8 and 16 kHz), synthesize missing ones")
    add_config_arg(p)
    p.add_argument("--out", default=str(BUILD_DIR), help="output folder (default prompts/build)")
    p.add_argument("--install", metavar="SOUNDS_DIR", help="also copy into this Asterisk sounds/hotline folder")
    p.set_defaults(func=_build)
