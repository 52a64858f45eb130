"""`hotline agents login|logout|pause|unpause|list`: agents in and out of queues (签入/签出), through AMI."""
from __future__ import annotations

import argparse
import asyncio
import json
import sys

from ivr.ami.client import AmiClient, AmiError
from ivr.asterisk import embedded
from ivr.commands._common import add_config_arg, load_or_exit
from transfer.agents import AgentDesk, AgentError


async def _run(args) -> int:
    config = load_or_exit(args.config)
    a = config.asterisk.ami
    ami = AmiClient(a.host, a.port, a.username, embedded.ami_secret(config))
    try:
        if not await ami.connect(timeout=10):
            print(f"hotline agents: cannot reach AMI at {a.host}:{a.port}", file=sys.stderr)
            return 1
        desk = AgentDesk(config, ami)
        if args.action == "list":
            members = await desk.members()
            if args.json:
                print(json.dumps(members, ensure_ascii=False, indent=2))
            else:
                for qid, rows in members.items():
                    print(f"{qid}: " + (", ".join(_row(m) for m in rows) or "(nobody)"))
            return 0
        if args.action == "login":
            done = await desk.login(args.agent, args.queue, interface=args.interface, penalty=args.penalty)
        elif args.action == "logout":
            done = await desk.logout(args.agent, args.queue, interface=args.interface)
        else:
            await desk.pause(args.agent, args.action == "pause", interface=args.interface, reason=args.reason)
            done = []
        print(f"{args.agent}: {args.action} {' '.join(done)}".rstrip())
        return 0
    except (AgentError, AmiError) as exc:
        print(f"hotline agents {args.action}: {exc}", file=sys.stderr)
        return 1
    finally:
        await ami.close()


def _row(m: dict) -> str:
    flags = [f for f, on in (("paused", m["paused"]), ("in call", m["in_call"]), (m["membership"], True)) if on]
    return f"{m['agent']} ({', '.join(flags)})"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("agents", help="log agents in and out of queues (签入/签出)")
    actions = p.add_subparsers(dest="action", required=True)
    for name, text in (("login", "join queues (default: the general pool)"),
                       ("logout", "leave queues (default: all of them)"),
                       ("pause", "示忙: stop getting calls"), ("unpause", "示闲: get calls again")):
        a = actions.add_parser(name, help=text)
        a.add_argument("agent", help="agent id, e.g. agent1001")
        a.add_argument("--interface", help="Asterisk interface (default PJSIP/<agent>)")
        if name in ("login", "logout"):
            a.add_argument("-q", "--queue", action="append", help="queue id from config (repeatable)")
        if name == "login":
            a.add_argument("--penalty", type=int, default=0)
        if name in ("pause", "unpause"):
            a.add_argument("--reason", default="")
        add_config_arg(a)
    lst = actions.add_parser("list", help="who is in which queue now")
    lst.add_argument("--json", action="store_true")
    add_config_arg(lst)
    p.set_defaults(func=lambda args: asyncio.run(_run(args)))
