"""`hotline db upgrade|status`: bring the database schema up to date, or show its version."""
from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from ivr.commands._common import add_config_arg, load_or_exit
from ivr.storage import migrations
from ivr.storage.db import DatabaseError, make_engine, redacted


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("db", help="database schema (migrations)")
    actions = parser.add_subparsers(dest="db_action", metavar="ACTION")
    for name, func, text in (("upgrade", run_upgrade, "apply pending migrations (safe to repeat)"),
                             ("status", run_status, "show the schema version")):
        sub = actions.add_parser(name, help=text)
        add_db_args(sub)
        sub.set_defaults(func=func)
    parser.set_defaults(func=lambda args: parser.print_help() or 2)


def add_db_args(parser: argparse.ArgumentParser) -> None:
    add_config_arg(parser)
    parser.add_argument("--url", help="database URL (default: database.url from the config)")


def open_store(args: argparse.Namespace, what: str, ensure: Callable[[Any], None] | None = None) -> tuple[Any, Any]:
    """(config, Store) for a feature's command, its tables made by `ensure(engine)`; exit 1 saying why not."""
    from ivr.storage.store import Store

    config = load_or_exit(args.config)
    url = args.url or config.database.url
    try:
        store = Store.open(url)
        if ensure is not None:
            ensure(store.engine)
    except (DatabaseError, SQLAlchemyError, OSError) as exc:
        print(f"hotline {what}: {redacted(url)}: {type(exc).__name__}: cannot open the database", file=sys.stderr)
        raise SystemExit(1)
    return config, store


def database_url(args: argparse.Namespace) -> str:
    return args.url or load_or_exit(args.config).database.url


def run_upgrade(args: argparse.Namespace) -> int:
    url = database_url(args)
    try:
        applied = migrations.upgrade(make_engine(url))
    except (DatabaseError, SQLAlchemyError, OSError) as exc:
        print(f"{redacted(url)}: cannot upgrade: {_reason(exc)}", file=sys.stderr)
        return 1
    if applied:
        print(f"{redacted(url)}: applied migration(s) {', '.join(map(str, applied))}; "
              f"schema version {migrations.latest_version()}")
    else:
        print(f"{redacted(url)}: up to date (schema version {migrations.latest_version()})")
    return 0


def run_status(args: argparse.Namespace) -> int:
    url = database_url(args)
    try:
        version = migrations.current_version(make_engine(url))
    except (DatabaseError, SQLAlchemyError, OSError) as exc:
        print(f"{redacted(url)}: cannot read: {_reason(exc)}", file=sys.stderr)
        return 1
    latest = migrations.latest_version()
    state = "up to date" if version == latest else f"{latest - version} migration(s) pending: run `hotline db upgrade`"
    print(f"{redacted(url)}: schema version {version} of {latest} ({state})")
    return 0 if version == latest else 3


def _reason(exc: Exception) -> str:
    # The first line only: SQLAlchemy appends SQL and a help link.
    return str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
