"""`hotline dialplan build|apply`: render the plan for Asterisk and install it."""
from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from ivr.ami.client import AmiClient
from ivr.asterisk import embedded
from ivr.commands._common import add_config_arg, load_or_exit
from ivr.dialplan.apply import ApplyError, apply
from ivr.dialplan.build import GENERATED, instance_files, render
from ivr.prompts import BUILD_DIR, build_for
from ivr.prompts.build import PromptError, install
from ivr.prompts.manifest import ManifestError
from ivr.seats import httpconf as seats_http
from ivr.safefile import CONFIG_MODE, SECRET_MODE, secret_file, write_atomic


def _build(args) -> int:
    config = load_or_exit(args.config)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name, text in render(config).items():
        # pjsip files (auth, trunks): 0600 like the installed ones
        write_atomic(out / name, text, SECRET_MODE if secret_file(name) else CONFIG_MODE)
        print(out / name)
    return 0


async def _apply_async(config, etc: Path, files: dict[str, str], sounds: Path | None) -> int:
    a = config.asterisk
    ami = AmiClient(a.ami.host, a.ami.port, a.ami.username, embedded.ami_secret(config))
    try:
        if not await ami.connect(timeout=10):
            print(f"hotline dialplan apply: cannot reach AMI at {a.ami.host}:{a.ami.port}; nothing applied",
                  file=sys.stderr)
            return 1
        if sounds:  # only once Asterisk is reachable: otherwise nothing at all is touched
            install(BUILD_DIR, sounds)
        result = await apply(files, etc, ami, config)
    except ApplyError as exc:
        print(f"hotline dialplan apply: {exc}", file=sys.stderr)
        return 1
    finally:
        await ami.close()
    for problem in result.problems:
        print(f"  {problem}", file=sys.stderr)
    if result.rolled_back:
        print("hotline dialplan apply: Asterisk did not accept the new config; previous files restored",
              file=sys.stderr)
        return 1
    print(f"applied {len(result.written)} files to {etc}; Asterisk reloaded and verified")
    return 0


def _apply(args) -> int:
    config = load_or_exit(args.config)
    try:
        build_for(config, lambda m: print(m, file=sys.stderr))
    except (PromptError, ManifestError) as exc:
        print(f"hotline dialplan apply: {exc}; nothing applied", file=sys.stderr)
        return 1
    if args.etc:  # a city's own Asterisk: only the generated files
        etc = Path(args.etc)
        files, notes = seats_http.for_city(render(config), etc)  # never the city's own http.conf
        for note in notes:
            print(f"hotline dialplan apply: {note}", file=sys.stderr)
        sounds = Path(args.sounds) if args.sounds else None
    else:
        inst = embedded.center(config)
        etc, files, sounds = inst.host / "etc", instance_files(config, "center"), inst.sounds
    return asyncio.run(_apply_async(config, etc, files, sounds))


def register(sub) -> None:
    parser = sub.add_parser("dialplan", help="generate and apply the Asterisk dialplan")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    b = verbs.add_parser("build", help=f"render .conf files (default into {GENERATED})")
    add_config_arg(b)
    b.add_argument("-o", "--out", default=str(GENERATED))
    b.set_defaults(func=_build)
    a = verbs.add_parser("apply", help="install into the running Asterisk, reload, verify, roll back on failure")
    add_config_arg(a)
    a.add_argument("--etc", help="the Asterisk config folder of a city's own Asterisk (default: the embedded center)")
    a.add_argument("--sounds", help="with --etc: the Asterisk sounds/hotline folder for prompts")
    a.set_defaults(func=_apply)
