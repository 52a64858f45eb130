"""`hotline report [--from DATE --to DATE] [--json] [--chart FILE.png]`: calls per old number."""
from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.exc import SQLAlchemyError

from callbacks.report import figures as callback_figures, format_lines as callback_lines
from ivr.commands._common import load_or_exit
from ivr.commands.db import add_db_args
from ivr.reports import ReportError, format_table, line_report, parse_range, render_chart
from ivr.storage.db import DatabaseError, redacted, sqlite_file_missing
from ivr.storage.store import Store
from supervision import cli as kpi_cli


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("report", help="per-line call figures over the transition (table, JSON, chart)")
    add_db_args(parser)
    parser.add_argument("--from", dest="start", metavar="DATE", help="first day, YYYY-MM-DD (default: 30 days ago)")
    parser.add_argument("--to", dest="end", metavar="DATE", help="last day, YYYY-MM-DD (default: today)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--chart", metavar="FILE.png", help="also draw calls per number per day to this PNG")
    parser.add_argument("--tz", help="timezone for 'today' (default: hotline.timezone, else Asia/Shanghai)")
    parser.set_defaults(func=run)
    kpi_cli.register(parser)  # supervision hook: hotline report kpi


def run(args: argparse.Namespace) -> int:
    if args.url and not args.config:
        url, tz = args.url, args.tz or "Asia/Shanghai"
    else:
        config = load_or_exit(args.config)
        url, tz = args.url or config.database.url, args.tz or config.hotline.timezone
    try:
        start, end = parse_range(args.start, args.end, dt.datetime.now(ZoneInfo(tz)).date())
    except (ReportError, ZoneInfoNotFoundError, ValueError) as exc:
        print(f"hotline report: {exc}", file=sys.stderr)
        return 2
    missing = sqlite_file_missing(url)
    if missing:
        print(f"hotline report: no database at {missing} (run `hotline db upgrade` or `hotline serve` first)",
              file=sys.stderr)
        return 1
    try:
        store = Store.open(url, upgrade=False)
    except DatabaseError as exc:
        print(f"hotline report: {exc}", file=sys.stderr)
        return 1
    try:
        report = store.run_sync(line_report, start, end)
        callbacks = store.run_sync(callback_figures, start, end, tz)  # callbacks hook
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        print(f"hotline report: {redacted(url)}: {reason} (run `hotline db upgrade`?)", file=sys.stderr)
        return 1
    finally:
        store.close()
    if args.chart:
        Path(args.chart).write_bytes(render_chart(report))
    if args.json:
        print(json.dumps(report.to_dict() | callbacks, ensure_ascii=False, indent=2, default=str))
    else:
        print("\n".join([format_table(report), *callback_lines(callbacks)]))
        if args.chart:
            print(f"\nchart: {args.chart}")
    return 0
