"""`hotline report kpi [--from D --to D] [--by hour|day|line|queue|agent] [--json|--csv] [--chart FILE.png]`.

Registered under `hotline report` (ivr/commands/report.py, one line). Without
--json/--csv it prints a table: the total, then one row per group.
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import sys
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.exc import SQLAlchemyError

from ivr.commands._common import load_or_exit
from ivr.commands.db import add_db_args
from ivr.reports import ReportError, parse_range
from ivr.storage.db import DatabaseError, redacted, sqlite_file_missing
from ivr.storage.store import Store
from supervision import kpi, kpi_store

TABLE = (("group", 16), ("offered", 8), ("answered", 9), ("sl15", 7), ("connect", 8), ("aband", 6), ("ab<=5s", 7),
         ("p50", 6), ("p90", 6), ("max", 6), ("talk_s", 8), ("acw_s", 7))


def register(report_parser: argparse.ArgumentParser) -> None:
    sub = report_parser.add_subparsers(dest="report_kind", metavar="{kpi}")
    parser = sub.add_parser("kpi", help="service level (15 s), connect rate, abandons, waits, agents (docs/supervision.md)")
    add_db_args(parser)
    parser.add_argument("--from", dest="start", metavar="DATE", help="first day, YYYY-MM-DD (default: 30 days ago)")
    parser.add_argument("--to", dest="end", metavar="DATE", help="last day, YYYY-MM-DD (default: today)")
    parser.add_argument("--by", choices=kpi.GROUPS, help="one row per hour, day, line, queue or agent")
    out = parser.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print the report as JSON")
    out.add_argument("--csv", action="store_true", help="print one CSV row per group, then the total")
    parser.add_argument("--chart", metavar="FILE.png", help="also draw the 15-s rate and connect rate per day")
    parser.add_argument("--tz", help="timezone of the days (default: hotline.timezone)")
    parser.set_defaults(func=run)


def _settings(args: argparse.Namespace) -> tuple[str, dict]:
    if args.url and not args.config:
        return args.url, {"tz": ZoneInfo(args.tz or "Asia/Shanghai")}
    config = load_or_exit(args.config)
    opts = kpi_store.options(config)
    if args.tz:
        opts["tz"] = ZoneInfo(args.tz)
    return args.url or config.database.url, opts


def run(args: argparse.Namespace) -> int:
    try:
        url, opts = _settings(args)
        start, end = parse_range(args.start, args.end, dt.datetime.now(opts["tz"]).date())
    except (ReportError, ZoneInfoNotFoundError, ValueError) as exc:
        print(f"hotline report kpi: {exc}", file=sys.stderr)
        return 2
    missing = sqlite_file_missing(url)
    if missing:
        print(f"hotline report kpi: no database at {missing} (run `hotline db upgrade` first)", file=sys.stderr)
        return 1
    try:
        store = Store.open(url, upgrade=False)
    except DatabaseError as exc:
        print(f"hotline report kpi: {exc}", file=sys.stderr)
        return 1
    try:
        rep = store.run_sync(kpi_store.load, start, end, by=args.by, **opts)
        daily = store.run_sync(kpi_store.load, start, end, by="day", **opts) if args.chart else None
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        print(f"hotline report kpi: {redacted(url)}: {reason} (run `hotline db upgrade`?)", file=sys.stderr)
        return 1
    finally:
        store.close()
    if daily is not None:
        Path(args.chart).write_bytes(kpi_store.render_chart(daily))
    if args.json:
        print(json.dumps(rep, ensure_ascii=False, indent=2))
    elif args.csv:
        csv.writer(sys.stdout, lineterminator="\n").writerows(kpi.csv_rows(rep))
    else:
        print(format_table(rep))
    return 0


def _cell(value, name: str) -> str:
    if value is None:
        return "-"
    if name in ("sl15", "connect"):
        return f"{100 * value:.1f}%"
    return f"{value:g}" if isinstance(value, float) else str(value)


def format_table(rep: dict) -> str:
    keys = ("offered", "answered", "service_level", "connect_rate", "abandoned", "abandoned_short", "wait_p50_s",
            "wait_p90_s", "wait_max_s", "talk_s", "acw_s")
    lines = [f"KPI {rep['from'][:10]} .. {rep['to'][:10]} (15 s = {rep['thresholds']['service_level_s']:g} s; "
             f"abandons <= {rep['thresholds']['short_abandon_s']:g} s left out of the rates)",
             "".join(name.rjust(w) if i else name.ljust(w) for i, (name, w) in enumerate(TABLE))]
    for group, fig in list(rep["groups"].items()) + [("总计 total", rep["total"])]:
        cells = [group[:15].ljust(TABLE[0][1])]
        cells += [_cell(fig[k], TABLE[i + 1][0]).rjust(TABLE[i + 1][1]) for i, k in enumerate(keys)]
        lines.append("".join(cells))
    r = rep.get("ratings") or {}
    if r.get("rated"):
        lines.append(f"\n回访 ratings: {r['rated']} rated: 满意 {r['satisfied']}, 基本满意 {r['basic']}, "
                     f"不满意 {r['dissatisfied']} (satisfied {_cell(r['satisfied_rate'], 'sl15')})")
    if rep["agents"]:
        lines.append("\nagent           answered  talk_s   acw_s  ready_s  occupancy  paused (by reason)")
        for agent, a in rep["agents"].items():
            occ = "-" if a["occupancy"] is None else f"{100 * a['occupancy']:.1f}%"
            pauses = ", ".join(f"{r} {s:g}s" for r, s in a["pause_by_reason"].items()) or "-"
            lines.append(f"{agent[:15]:<15} {a['answered']:>8} {a['talk_s']:>7g} {a['acw_s']:>7g} {a['ready_s']:>8g}"
                         f" {occ:>10}  {pauses}")
    return "\n".join(lines)
