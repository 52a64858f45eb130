"""`hotline callback add|import|list|cancel|stats`: outbound tasks (回访) in the database.

Works on the database alone: a task added here is placed by the running
server's engine on its next turn (callbacks.poll_seconds), within the
calling windows and the trunk cap; the same policy (do-not-call, dedupe,
windows) decides here as there.
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import sys

from callbacks import repo
from callbacks.engine import CallbackError, check_task
from callbacks.models import FLOWS, STATES, ensure_tables
from callbacks.policy import CAUSE_TEXT, Policy
from ivr.commands.db import add_db_args, open_store
from ivr.privacy import mask_number


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("callback", help="outbound callbacks and 回访 tasks (add, list, cancel, stats)")
    actions = parser.add_subparsers(dest="callback_action", metavar="ACTION")
    add = actions.add_parser("add", help="add a task (placed by the running server)")
    add.add_argument("number", help="the citizen's number, digits only")
    add.add_argument("--kind", default="survey", choices=FLOWS)
    add.add_argument("--ticket", help="work-order id (one task per ticket and kind)")
    add.add_argument("--campaign", help="campaign id")
    imp = actions.add_parser("import", help="add tasks from a CSV file (number,ticket,kind,campaign)")
    imp.add_argument("file", help="UTF-8 CSV with a header row: number (号码), ticket (工单), kind (类型), campaign (批次)")
    lst = actions.add_parser("list", help="the latest tasks")
    lst.add_argument("--state", choices=STATES)
    lst.add_argument("--limit", type=int, default=50)
    cancel = actions.add_parser("cancel", help="stop calling a task")
    cancel.add_argument("task_id", type=int)
    stats = actions.add_parser("stats", help="tasks by state, attempts by cause")
    for sub, func in ((add, run_add), (imp, run_import), (lst, run_list), (cancel, run_cancel), (stats, run_stats)):
        add_db_args(sub)
        sub.add_argument("--json", action="store_true", help="print JSON")
        sub.set_defaults(func=func)
    parser.set_defaults(func=lambda args: parser.print_help() or 2)


def _open(args: argparse.Namespace):
    return open_store(args, "callback", ensure_tables)


def _show(args: argparse.Namespace, value, text: str) -> int:
    print(json.dumps(value, ensure_ascii=False, indent=2) if args.json else text)
    return 0


def _line(t: dict) -> str:
    result = CAUSE_TEXT.get(t["result"] or "", "-")
    return (f"{t['id']:>6}  {t['flow']:<7} {mask_number(t['number']):<14} {t['ticket'] or '-':<16} "
            f"{t['state']:<9} 第{t['attempts']}次 {result:<6} {t['reason'] or ''}")


def run_add(args: argparse.Namespace) -> int:
    config, store = _open(args)
    try:
        number = check_task(args.kind, args.number, args.ticket, args.campaign)
        task, created, reason = store.run_sync(repo.add_task, Policy.from_config(config),
                                               dt.datetime.now(dt.timezone.utc), args.kind, number, args.ticket,
                                               args.campaign)
    except CallbackError as exc:
        print(f"hotline callback add: {exc}", file=sys.stderr)
        return 2
    finally:
        store.close()
    if task is None:
        print(f"hotline callback add: 未添加：{reason}", file=sys.stderr)
        return 1
    return _show(args, task, ("已添加 " if created else "已存在 ") + _line(task))


def run_import(args: argparse.Namespace) -> int:
    """Every row is checked first (FILE:LINE: reason for each bad one); then the good rows are added.

    A row refused by the policy (do-not-call, dedupe) is reported and skipped;
    a ticket already imported is not added twice (idempotent by ticket).
    """
    try:
        rows, problems = read_tasks_csv(args.file)
    except OSError as exc:
        print(f"hotline callback import: {args.file}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        print(f"hotline callback import: {len(problems)} bad row(s), nothing imported", file=sys.stderr)
        return 2
    config, store = _open(args)
    counts = {"added": 0, "existing": 0, "refused": 0}
    try:
        policy, now = Policy.from_config(config), dt.datetime.now(dt.timezone.utc)
        for line, (kind, number, ticket, campaign) in rows:
            task, created, reason = store.run_sync(repo.add_task, policy, now, kind, number, ticket, campaign)
            if task is None:
                counts["refused"] += 1
                print(f"{args.file}:{line}: 未添加：{reason}", file=sys.stderr)
            else:
                counts["added" if created else "existing"] += 1
    finally:
        store.close()
    return _show(args, counts, f"新增 {counts['added']}，已存在 {counts['existing']}，未添加 {counts['refused']}")


_COLUMNS = {"number": "number", "号码": "number", "ticket": "ticket", "工单": "ticket", "工单号": "ticket",
            "kind": "kind", "类型": "kind", "campaign": "campaign", "批次": "campaign"}
MAX_ROWS = 100_000


def read_tasks_csv(path: str) -> tuple[list[tuple[int, tuple[str, str, str | None, str | None]]], list[str]]:
    """(line, (kind, number, ticket, campaign)) per good row, and `FILE:LINE: reason` per bad one."""
    rows, problems = [], []
    with open(path, encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f)
        header = next(reader, None) or []
        names = [_COLUMNS.get(h.strip().lower()) for h in header]
        if "number" not in names:
            return [], [f"{path}:1: header: needs a number (号码) column"]
        for row in reader:
            line = reader.line_num
            if len(rows) + len(problems) >= MAX_ROWS:
                problems.append(f"{path}:{line}: more than {MAX_ROWS} rows: split the file")
                break
            if not any(cell.strip() for cell in row):
                continue
            v = {n: cell.strip() or None for n, cell in zip(names, row) if n}
            kind = v.get("kind") or "survey"
            try:
                number = check_task(kind, v.get("number") or "", v.get("ticket"), v.get("campaign"))
            except CallbackError as exc:
                problems.append(f"{path}:{line}: {exc}")
                continue
            rows.append((line, (kind, number, v.get("ticket"), v.get("campaign"))))
    return rows, problems


def run_list(args: argparse.Namespace) -> int:
    _config, store = _open(args)
    try:
        tasks = store.run_sync(repo.list_tasks, args.state, max(1, min(args.limit, 10000)))
    finally:
        store.close()
    return _show(args, tasks, "\n".join(_line(t) for t in tasks) or "没有任务")


def run_cancel(args: argparse.Namespace) -> int:
    _config, store = _open(args)
    try:
        task = store.run_sync(repo.cancel_task, args.task_id, dt.datetime.now(dt.timezone.utc))
    finally:
        store.close()
    if task is None:
        print(f"hotline callback cancel: 没有任务 {args.task_id}", file=sys.stderr)
        return 1
    return _show(args, task, _line(task))


def run_stats(args: argparse.Namespace) -> int:
    _config, store = _open(args)
    try:
        figures = store.run_sync(repo.stats)
    finally:
        store.close()
    tasks = "，".join(f"{k} {v}" for k, v in sorted(figures["tasks"].items())) or "无"
    attempts = "，".join(f"{CAUSE_TEXT.get(k, k)} {v}" for k, v in sorted(figures["attempts"].items())) or "无"
    return _show(args, figures, f"任务：{tasks}\n呼叫：{attempts}\n进行中：{figures['active']}")
