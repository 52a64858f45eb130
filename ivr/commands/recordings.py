"""`hotline recordings list|purge`: call recordings in the database and on disk (recordings/, docs/recordings.md).

`purge` deletes the files whose retention (recordings.retention_days) has
passed, exactly as the running server's purge task does, one audit row per
deletion; `--dry-run` only lists them. `list` shows metadata and is itself an
audited read (the operator's login name is the actor).
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import getpass
import json

from ivr.commands.db import add_db_args, open_store
from ivr.storage import repo as core


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("recordings", help="call recordings: list, purge expired ones (录音)")
    actions = parser.add_subparsers(dest="recordings_action", metavar="ACTION")
    purge = actions.add_parser("purge", help="delete recordings past recordings.retention_days (audited)")
    purge.add_argument("--dry-run", action="store_true", help="only list what would be deleted")
    lst = actions.add_parser("list", help="the latest recordings (an audited read)")
    lst.add_argument("--call", help="only the recordings of this call id (linkedid)")
    lst.add_argument("--limit", type=int, default=50)
    for sub, func in ((purge, run_purge), (lst, run_list)):
        add_db_args(sub)
        sub.add_argument("--json", action="store_true", help="print JSON")
        sub.set_defaults(func=func)
    parser.set_defaults(func=lambda args: parser.print_help() or 2)


def open_recordings(args: argparse.Namespace, what: str):
    """(config, store) with the recordings tables ready (also for `hotline qa`)."""
    from recordings.models import ensure_tables

    return open_store(args, what, ensure_tables)


def run_purge(args: argparse.Namespace) -> int:
    from recordings import repo
    from recordings.service import local_folder, purge

    config, store = open_recordings(args, "recordings purge")
    now = dt.datetime.now(dt.timezone.utc)
    try:
        if args.dry_run:
            gone = [r["rec_id"] for r in store.run_sync(repo.expired, now)]
        else:
            gone = asyncio.run(purge(store, local_folder(config), now))
    finally:
        store.close()
    if args.json:
        print(json.dumps({"deleted" if not args.dry_run else "expired": gone}))
    else:
        verb = "would delete" if args.dry_run else "deleted"
        print(f"{verb} {len(gone)} expired recording(s)" + "".join(f"\n  {g}" for g in gone))
    return 0


def run_list(args: argparse.Namespace) -> int:
    from recordings import repo

    _config, store = open_recordings(args, "recordings list")
    try:
        rows = store.run_sync(repo.for_call, args.call) if args.call else store.run_sync(repo.listing,
                                                                                       limit=args.limit)
        store.run_sync(core.log_access, getpass.getuser(), "list", "recording", None, "hotline recordings",
                       {"count": len(rows), "call": args.call})
    finally:
        store.close()
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
        return 0
    for r in rows:
        print(f"{r['id']:>6}  {r['started_at'][:19]}  {r['duration']:7.1f}s  {r['status']:<10}  "
              f"{','.join(r['agents']) or '-':<12}  {r['call_id']}")
    return 0
