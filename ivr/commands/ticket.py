"""`hotline ticket draft TEXT`: draft a work order from a transcript, as JSON.

`hotline ticket eval FILE...`: score drafting on labelled utterance sets
(ivr.tickets.evaluate): per-set figures and misses, the figures as JSON last.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import sys

from ivr.commands._common import add_config_arg, load_or_exit
from ivr.tickets.deadlines import WorkCalendar
from ivr.tickets.evaluate import evaluate, load_rows
from ivr.tickets.draft import draft_ticket


def register(subparsers) -> None:
    parser = subparsers.add_parser("ticket", help="work orders drafted from speech")
    sub = parser.add_subparsers(dest="ticket_command", metavar="ACTION")
    draft = sub.add_parser("draft", help="print the ticket drafted from TEXT as one JSON object")
    draft.add_argument("text", metavar="TEXT", help="what the caller said ('-' reads standard input)")
    add_config_arg(draft)
    draft.add_argument("--at", help="when the call came in, ISO 8601 (default: now; no offset = hotline time)")
    draft.add_argument("--line", help="id of the old line the call came in on")
    draft.add_argument("--caller", help="the caller's number (kept in the ticket)")
    draft.add_argument("--holidays", metavar="FILE", help="YAML with 'holidays:' and 'workdays:' date lists")
    draft.set_defaults(func=_draft)
    ev = sub.add_parser("eval", help="score drafting on labelled JSONL sets; figures as JSON on the last line")
    ev.add_argument("sets", nargs="+", metavar="FILE", help="JSONL: text + emergency_target/department/category/out_of_scope")
    ev.add_argument("--misses", action="store_true", help="list every miss")
    add_config_arg(ev)
    ev.set_defaults(func=_eval)
    parser.set_defaults(func=lambda args: (parser.print_help(), 2)[1])


def _draft(args: argparse.Namespace) -> int:
    text = (sys.stdin.read() if args.text == "-" else args.text).strip()
    try:
        at = dt.datetime.fromisoformat(args.at) if args.at else dt.datetime.now(dt.timezone.utc)
    except ValueError:
        print(f"--at: {args.at!r} is not an ISO 8601 date-time (e.g. 2024-11-20T10:00:00+08:00)", file=sys.stderr)
        return 2
    calendar = None
    if args.holidays:
        try:
            calendar = WorkCalendar.from_file(args.holidays)
        except (OSError, ValueError) as exc:
            print(f"--holidays: {exc}", file=sys.stderr)
            return 2
    config = load_or_exit(args.config)
    if args.line and config.line(args.line) is None:
        print(f"--line: no line {args.line!r} in the config", file=sys.stderr)
        return 2
    ticket = draft_ticket(text, config, at=at, caller=args.caller, line_id=args.line, calendar=calendar)
    print(json.dumps(ticket.to_dict(), ensure_ascii=False))
    return 0


def _eval(args: argparse.Namespace) -> int:
    config = load_or_exit(args.config)
    figures = {}
    for path in args.sets:
        try:
            rows = load_rows(path)
        except (OSError, ValueError) as exc:
            print(f"{path}: {exc}", file=sys.stderr)
            return 2
        result = evaluate(rows, config)
        misses = result.pop("misses")
        figures[path] = result
        print(f"{path}: " + ", ".join(f"{k} {v}" for k, v in result.items()))
        for miss in misses if args.misses else ():
            print(f"  {miss}")
    print(json.dumps(figures, ensure_ascii=False))
    return 0
