"""`hotline asterisk install|start|stop|status|cli`: the embedded Asterisk."""
from __future__ import annotations

import argparse
import json
import sys

from ivr.asterisk import embedded, rootfs
from ivr.asterisk.instance import Instance, InstanceError
from ivr.commands._common import add_config_arg, load_or_exit


def _instances(config, which: str) -> list[Instance]:
    pick = {"center": [embedded.center(config)], "subcenter": [embedded.subcenter(config)]}
    return pick.get(which) or [embedded.center(config), embedded.subcenter(config)]


def start_instances(config, which: str = "all") -> list[Instance]:
    """Write each instance's config (dialplans/ + generated files) and start it."""
    from ivr.dialplan.build import instance_files

    rootfs.ensure_root(config.asterisk.root)
    started = []
    for inst in _instances(config, which):
        kind = "subcenter" if inst.name.endswith("-subcenter") else "center"
        inst.write_config(instance_files(config, kind))
        embedded.install_agi_scripts(inst)
        inst.start()
        started.append(inst)
    return started


def _install(args) -> int:
    config = load_or_exit(args.config)
    try:
        root = rootfs.ensure_root(config.asterisk.root)
    except rootfs.RootError as exc:
        print(f"hotline asterisk install: {exc}", file=sys.stderr)
        return 1
    print(f"{root}: {rootfs.asterisk_version(root)}")
    return 0


def _start(args) -> int:
    config = load_or_exit(args.config)
    try:
        for inst in start_instances(config, args.instance):
            print(f"{inst.name}: running (SIP 127.0.0.1:{inst.sip_port}, AMI 127.0.0.1:{inst.ami_port})")
    except (InstanceError, rootfs.RootError) as exc:
        print(f"hotline asterisk start: {exc}", file=sys.stderr)
        return 1
    return 0


def _stop(args) -> int:
    config = load_or_exit(args.config)
    for inst in _instances(config, args.instance):
        inst.stop()
        print(f"{inst.name}: stopped")
    return 0


def _status(args) -> int:
    config = load_or_exit(args.config)
    states = [inst.status() for inst in _instances(config, args.instance)]
    print(json.dumps(states, indent=2))
    return 0 if all(s["running"] for s in states) else 3


def _cli(args) -> int:
    config = load_or_exit(args.config)
    try:
        print(_instances(config, args.instance)[0].rx(" ".join(args.words)), end="")
    except InstanceError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("asterisk", help="the embedded Asterisk (Debian sid root, instances)")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    for name, func, help_ in (
        ("install", _install, "build the Asterisk root (once; cached)"),
        ("start", _start, "write config and start instance(s)"),
        ("stop", _stop, "stop instance(s)"),
        ("status", _status, "show instance status as JSON"),
        ("cli", _cli, "run an Asterisk CLI command on an instance"),
    ):
        p = verbs.add_parser(name, help=help_)
        add_config_arg(p)
        if name != "install":
            default = "center" if name == "cli" else "all"
            p.add_argument("--instance", choices=["center", "subcenter", "all"], default=default)
        if name == "cli":
            p.add_argument("words", nargs="+", help="e.g. core show channels")
        p.set_defaults(func=func)
