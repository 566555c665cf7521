"""Engine and sessions: one URL (CHISO_DATABASE_URL) selects SQLite or PostgreSQL."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError
from sqlmodel import Session, create_engine

DEFAULT_SQLITE_PATH = Path("data") / "chiso.db"
SQLITE_BUSY_TIMEOUT_MS = 30_000


class DatabaseError(Exception):
    """A database problem worth one clear line to the user."""


def database_url(url: str | None = None) -> str:
    """The database URL: explicit, else CHISO_DATABASE_URL, else data/chiso.db under the working directory."""
    chosen = url or os.environ.get("CHISO_DATABASE_URL")
    if chosen:
        return chosen
    return f"sqlite:///{DEFAULT_SQLITE_PATH}"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers (analysts' SQL clients) work while a flow writes; busy_timeout makes
    # concurrent writers (a schedule and a backfill) wait instead of failing with "database is locked".
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


_engines: dict[str, Engine] = {}


def get_engine(url: str | None = None) -> Engine:
    """A cached engine for the URL; creates the SQLite file's directory on first use."""
    resolved = database_url(url)
    if resolved in _engines:
        return _engines[resolved]
    try:
        parsed = make_url(resolved)
    except (ArgumentError, ValueError) as exc:  # ValueError: a port that is not a number
        raise DatabaseError(f"invalid database URL {redacted(resolved)!r}: {exc}") from exc
    if parsed.drivername in ("postgresql", "postgres"):
        # The driver chiso ships is psycopg 3; SQLAlchemy 2.0 would otherwise look for psycopg2.
        parsed = parsed.set(drivername="postgresql+psycopg")
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        # A URI filename (`sqlite:///file:data/chiso.db?mode=ro&uri=true`, the analysts' read-only open)
        # names an existing file: there is no directory to create, and "file:data" is not one.
        is_uri = str(parsed.query.get("uri", "")).lower() in ("true", "1")
        if database and database != ":memory:" and not is_uri:
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}
    else:
        kwargs["pool_pre_ping"] = True
        kwargs["connect_args"] = {"connect_timeout": 10}
    engine = create_engine(parsed, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    _engines[resolved] = engine
    return engine


def dispose_engines() -> None:
    """Close every cached engine (tests and forked workers)."""
    for engine in _engines.values():
        engine.dispose()
    _engines.clear()


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    session = Session(engine or get_engine(), expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


_USERINFO_PASSWORD_RE = re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.\-]*:/*[^\s:/@'\"]*:)[^\s@'\"]+@")


def redacted(url: str) -> str:
    """The URL with its password hidden, for messages; also when the URL does not parse."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        # flows.redaction does the same for any text; models cannot import flows.
        return _USERINFO_PASSWORD_RE.sub(r"\1***@", url)
