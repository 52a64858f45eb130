"""`hotline agents login|logout|pause|unpause|list`: agents in and out of queues (签入/签出), through AMI;
`hotline agents auth-file`: the agent phones' PJSIP passwords file (from $HOTLINE_AGENT_PASSWORDS)."""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys

from ivr.ami.client import AmiClient, AmiError
from ivr.asterisk import embedded
from ivr.commands._common import add_config_arg, load_or_exit
from transfer.agents import AgentDesk, AgentError
from transfer.dialplan import PASSWORDS_ENV, render_agent_auth


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


def _auth_file(args) -> int:
    config = load_or_exit(args.config)
    text, missing = render_agent_auth(config)
    if missing:
        print(f"hotline agents auth-file: no password in ${PASSWORDS_ENV} for {', '.join(missing)}: "
              "they cannot register", file=sys.stderr)
    if not args.out:
        sys.stdout.write(text)
        return 0
    fd = os.open(args.out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    os.chmod(args.out, 0o600)
    print(f"{args.out}: {text.count('type = auth')} agent passwords")
    return 0


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
    auth = actions.add_parser("auth-file", help=f"write pjsip_agents_auth.conf from ${PASSWORDS_ENV}")
    auth.add_argument("-o", "--out", help="file to write (mode 600); default: print it")
    add_config_arg(auth)
    p.set_defaults(func=lambda args: _auth_file(args) if args.action == "auth-file" else asyncio.run(_run(args)))
