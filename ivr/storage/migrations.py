"""A small versioned migration runner (`hotline db upgrade`, also run by `serve`).

`schema_version` holds one row per applied migration. Each migration is a
function of a connection, applied once, in order, inside a transaction that
also records it. Rule for new migrations: use idempotent operations
(`_add_column` below, `create_all(checkfirst=True)`), because migration 1
creates the tables from today's models — so on a fresh database a later
migration may find its change already there.
"""
from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import Column, Connection, DateTime, Engine, Integer, MetaData, String, Table, inspect, select, text

from ivr.seats import history as seats_history
from ivr.storage import models

log = logging.getLogger(__name__)

_meta = MetaData()
schema_version = Table(
    "schema_version",
    _meta,
    Column("version", Integer, primary_key=True),
    Column("name", String(128), nullable=False),
    Column("applied_at", DateTime, nullable=False),
)


def _initial(conn: Connection) -> None:
    models.Base.metadata.create_all(conn, checkfirst=True)


def _add_column(conn: Connection, table: str, ddl: str) -> None:
    """ALTER TABLE ADD COLUMN unless the column exists (for future migrations)."""
    name = ddl.split()[0]
    if name not in {c["name"] for c in inspect(conn).get_columns(table)}:
        conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {ddl}"))


MIGRATIONS: list[tuple[int, str, Callable[[Connection], None]]] = [
    (1, "initial schema: calls, call_events, tickets, transfers, audit_log", _initial),
    (2, "agent_states: 示闲/示忙 history of the seats", seats_history.create),  # seats hook
]


def current_version(engine: Engine) -> int:
    with engine.connect() as conn:
        if not inspect(conn).has_table("schema_version"):
            return 0
        return conn.execute(select(schema_version.c.version).order_by(schema_version.c.version.desc())).scalar() or 0


def upgrade(engine: Engine) -> list[int]:
    """Apply every pending migration; returns the versions applied (empty if none)."""
    _meta.create_all(engine, checkfirst=True)
    applied: list[int] = []
    for version, name, fn in MIGRATIONS:
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                # Two processes upgrading at once (serve + CLI): the second waits.
                conn.execute(text("SELECT pg_advisory_xact_lock(724501)"))
            done = conn.execute(select(schema_version.c.version).where(schema_version.c.version == version)).first()
            if done:
                continue
            log.info("applying migration %d: %s", version, name)
            fn(conn)
            conn.execute(schema_version.insert().values(version=version, name=name, applied_at=models.utcnow().replace(tzinfo=None)))
            applied.append(version)
    return applied


def latest_version() -> int:
    return MIGRATIONS[-1][0]
