"""Engine and session factory from a database URL.

SQLite is the default (one file next to the server, WAL so readers never wait
for the tracker's writer, foreign keys on because SQLite leaves them off);
PostgreSQL is used through psycopg 3 (`postgresql+psycopg://user@host/db`).
"""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from ivr.safefile import create_private_file, private_dir


class DatabaseError(Exception):
    """A database URL or backend that cannot be used, with a readable reason."""


def normalize_url(url: str) -> str:
    """Pick the psycopg 3 driver for bare `postgresql://` URLs (psycopg2 is not installed)."""
    try:
        u = make_url(url)
    except Exception as exc:  # sqlalchemy.exc.ArgumentError
        raise DatabaseError(f"malformed database URL: {exc}") from None
    if u.drivername in ("postgresql", "postgres"):
        u = u.set(drivername="postgresql+psycopg")
    if u.get_backend_name() not in ("sqlite", "postgresql"):
        raise DatabaseError(f"unsupported database {u.get_backend_name()!r}: use sqlite or postgresql")
    return u.render_as_string(hide_password=False)


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    # WAL + NORMAL is durable across application crashes; only an OS crash can
    # lose the last commits, which for call records is an acceptable trade.
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.close()


def make_engine(url: str) -> Engine:
    """An engine for `url`; creates the SQLite file's folder if needed.

    hide_parameters: SQL errors would otherwise print caller numbers into logs.
    """
    url = normalize_url(url)
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:":
            # Caller numbers and transcripts: the file is the service user's only
            # (SQLite gives its -wal/-shm files the database file's mode).
            private_dir(Path(u.database).parent)
            create_private_file(Path(u.database))
        engine = create_engine(url, connect_args={"check_same_thread": False}, hide_parameters=True)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, hide_parameters=True)


def sqlite_file_missing(url: str) -> str | None:
    """The path of a SQLite URL's file when it does not exist (readers must not create it)."""
    try:
        u = make_url(normalize_url(url))
    except DatabaseError:
        return None
    if u.get_backend_name() == "sqlite" and u.database and u.database != ":memory:" \
            and not Path(u.database).exists():
        return u.database
    return None


def session_factory(engine: Engine) -> sessionmaker[Session]:
    # expire_on_commit=False: rows returned from a worker thread stay readable.
    return sessionmaker(engine, expire_on_commit=False)


def redacted(url: str) -> str:
    """The URL with its password hidden, for logs and error messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<malformed URL>"
