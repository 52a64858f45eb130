"""`hotline plan route NUMBER`, `plan import FILE` (csv/tsv/xlsx), `plan timeline`, `plan diff OLD NEW`."""
from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import sys
import tempfile
from pathlib import Path
from zoneinfo import ZoneInfo

from ivr.commands import plan_enterprises
from ivr.commands._common import add_config_arg, load_or_exit
from ivr.config.loader import ConfigError, load_config
from ivr.plan import Plan, PlanError
from ivr.plan.cells import CellError, clean_cell
from ivr.plan.importer import import_file
from ivr.plan.render import numbered, render_yaml
from ivr.plan.merge_list import MergeListError
from ivr.plan.notes import BUILTIN, LexiconError, load_phrases
from ivr.plan.timeline import diff, timeline
from ivr.privacy import mask_number

log = logging.getLogger("ivr.plan")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("plan", help="the merged number plan: route a number, import a merge list")
    sub = parser.add_subparsers(dest="plan_command", metavar="SUBCOMMAND", required=True)

    route = sub.add_parser("route", help="print (as JSON) what happens to a call to NUMBER")
    route.add_argument("number", metavar="NUMBER")
    route.add_argument("--at", help="when (ISO 8601, e.g. 2021-12-01T10:00; without offset: the hotline's "
                                    "timezone); default now")
    route.add_argument("--caller", help="the caller's number (masked in logs)")
    route.add_argument("--key", help="for the hotline number: the entry-menu key pressed (e.g. 9 for English)")
    add_config_arg(route)
    route.set_defaults(func=_route)

    imp = sub.add_parser("import", help="turn a city's merge list (CSV/TSV/XLSX as published) into a config.yaml")
    imp.add_argument("csv", metavar="FILE", help="归并清单: .csv/.tsv (UTF-8 or GB18030) or .xlsx")
    imp.add_argument("--effective-from", required=True, type=_date, metavar="DATE",
                     help="date the merge takes effect (YYYY-MM-DD)")
    imp.add_argument("--transition-days", required=True, type=_days, metavar="N",
                     help="length of the full-merge transition in days (0: none)")
    imp.add_argument("-o", "--output", metavar="FILE", help="write the config here (default: stdout)")
    imp.add_argument("--city", default="", help="city name, e.g. 盐城")
    imp.add_argument("--phrases", metavar="FILE.yaml",
                     help="the city's own note phrases (YAML list of {effect, pattern, meaning}), read before "
                          "the built-in lexicon; see docs/plan.md")
    imp.set_defaults(func=_import)

    tl = sub.add_parser("timeline", help="every number's phase changes in date order (review what changes when)")
    tl.add_argument("--from", dest="start", metavar="WHEN", help="only changes from then (date or ISO 8601)")
    tl.add_argument("--to", dest="end", metavar="WHEN", help="only changes before then (date or ISO 8601)")
    add_config_arg(tl)
    tl.set_defaults(func=_timeline)

    df = sub.add_parser("diff", help="for each number, what a caller gets under OLD and NEW config")
    df.add_argument("old", metavar="OLD.yaml")
    df.add_argument("new", metavar="NEW.yaml")
    df.add_argument("--at", help="when (ISO 8601; default now)")
    df.set_defaults(func=_diff)

    plan_enterprises.register(sub)


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _days(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"not a number of days (0 or more): {text!r}")
    return int(text)


def parse_at(text: str | None, tz: ZoneInfo) -> dt.datetime:
    """--at as an aware datetime: now if absent, a naive value read in the hotline's timezone."""
    if not text:
        return dt.datetime.now(dt.timezone.utc)
    at = dt.datetime.fromisoformat(text.strip())
    return at if at.tzinfo is not None else at.replace(tzinfo=tz)


def _plan_or_exit(path: str | None) -> Plan:
    try:
        return Plan(load_or_exit(path))
    except PlanError as exc:
        print(f"config: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _when_or_exit(option: str, text: str | None, plan: Plan) -> dt.datetime | None:
    if text is None:
        return None
    try:
        return parse_at(text, plan.tz)
    except ValueError:
        print(f"{option}: not an ISO 8601 date/time: {text!r} (e.g. 2021-12-01 or 2021-12-01T10:00)",
              file=sys.stderr)
        raise SystemExit(2) from None


def _timeline(args: argparse.Namespace) -> int:
    plan = _plan_or_exit(args.config)
    start, end = _when_or_exit("--from", args.start, plan), _when_or_exit("--to", args.end, plan)
    changes = timeline(plan, start, end)
    for change in changes:
        print(change.text())
    print(f"{len(changes)} 项变化 (changes)", file=sys.stderr)
    return 0


def _diff(args: argparse.Namespace) -> int:
    old, new = _plan_or_exit(args.old), _plan_or_exit(args.new)
    at = _when_or_exit("--at", args.at, new) or parse_at(None, new.tz)
    differences = diff(old, new, at)
    for d in differences:
        print(f"{d.number:<12} 旧 OLD: {d.old}\n{'':<12} 新 NEW: {d.new}")
    print(f"{len(differences)} 个号码不同 (numbers differ) at {at.astimezone(new.tz).isoformat(timespec='minutes')}",
          file=sys.stderr)
    return 0


def _route(args: argparse.Namespace) -> int:
    config = load_or_exit(args.config)
    try:
        plan = Plan(config)
    except PlanError as exc:
        print(f"config: {exc}", file=sys.stderr)
        return 2
    try:
        at = parse_at(args.at, plan.tz)
    except ValueError:
        print(f"--at: not an ISO 8601 date/time: {args.at!r} (e.g. 2021-12-01T10:00 or "
              "2021-12-01T02:00:00+00:00)", file=sys.stderr)
        return 2
    decision = plan.decide(args.number, at, caller=args.caller)
    if args.key is not None:
        if decision.action != "menu" or (choice := plan.menu_choice(args.key, at)) is None:
            print(f"--key {args.key!r}: {args.number} has no menu key {args.key!r} (for this caller)", file=sys.stderr)
            return 2
        decision = choice
    if args.caller:
        log.debug("routed %s for caller %s: %s", decision.number, mask_number(args.caller), decision.action)
    print(json.dumps(decision.to_dict(), ensure_ascii=False))
    return 0


def _import(args: argparse.Namespace) -> int:
    source = Path(args.csv)
    try:
        if clean_cell(args.city) != args.city:
            raise CellError("line breaks or leading/trailing spaces")
    except CellError as exc:
        print(f"--city: {exc}", file=sys.stderr)
        return 2
    try:
        phrases = load_phrases(Path(args.phrases)) + BUILTIN if args.phrases else BUILTIN
    except (OSError, LexiconError) as exc:
        print(f"--phrases: {exc}", file=sys.stderr)
        return 2
    try:
        result = import_file(source, effective_from=args.effective_from, transition_days=args.transition_days,
                             city=args.city, progress=lambda text: print(text, file=sys.stderr, flush=True),
                             phrases=phrases)
    except (OSError, UnicodeDecodeError) as exc:
        print(f"{source}: 无法读取 (cannot read): {exc}", file=sys.stderr)
        return 2
    except (MergeListError, ValueError) as exc:
        print(f"{source}: {exc}", file=sys.stderr)
        return 2
    output = render_yaml(result)
    problems = _check(output)
    if problems:
        print(f"the generated config does not pass the checks (an importer bug, please report):\n{problems}",
              file=sys.stderr)
        return 1
    if args.output:
        Path(args.output).write_text(output, encoding="utf-8")
    else:
        sys.stdout.write(output)
    if result.readings:
        print(f"从备注读出 READ FROM NOTES ({len(result.readings)}):\n" + "\n".join(result.readings), file=sys.stderr)
    print(f"NEEDS A HUMAN DECISION ({len(result.decisions)}):\n{numbered(result.decisions)}", file=sys.stderr)
    return 0


def _check(output: str) -> str:
    """The ConfigError text if the generated YAML does not load and plan, else ""."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "config.yaml"
        path.write_text(output, encoding="utf-8")
        try:
            Plan(load_config(path, env={}))
        except (ConfigError, PlanError) as exc:
            return str(exc)
    return ""
