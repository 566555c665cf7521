"""Where the client remembers when each host may be asked again: in memory, or in the host_state table."""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from models.db import session_scope
from models.store import upsert
from models.tables import HostState
from models.types import utcnow

# Namespace of chiso's PostgreSQL advisory locks (pg_advisory_lock(ns, key)): "chis" as an int4.
ADVISORY_NAMESPACE = 0x63686973


class PolitenessStore(Protocol):
    """The next time (epoch seconds, the client's clock) each host may receive a request."""

    def next_allowed(self, host: str) -> float | None:
        """When the host may be asked again, or None if never recorded."""
        ...

    def record(self, host: str, *, next_allowed: float, crawl_delay: float | None) -> None:
        """Remember that the host may not be asked before `next_allowed` (a later stored time stays)."""
        ...

    def exclusive(self, host: str) -> AbstractContextManager[None]:
        """Hold the host against every other client sharing this store, for one wait-send-record turn."""
        ...


class MemoryPoliteness:
    """Per-process politeness: enough for one run or one test (the client's own lock serialises a host)."""

    def __init__(self) -> None:
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    def next_allowed(self, host: str) -> float | None:
        with self._lock:
            return self._next.get(host)

    def record(self, host: str, *, next_allowed: float, crawl_delay: float | None) -> None:
        with self._lock:
            self._next[host] = max(next_allowed, self._next.get(host, next_allowed))

    def exclusive(self, host: str) -> AbstractContextManager[None]:
        return contextlib.nullcontext()


class DbPoliteness:
    """Politeness shared by processes through the host_state table, so several workers keep one host's delay.

    A turn (wait for next allowed, send, record end + delay) is exclusive across processes: on PostgreSQL
    a session advisory lock per host, held on a connection of its own (released by the server if the
    process dies); on SQLite an flock on a lock file per host beside the database (one machine). The
    waiting worker therefore reads the time the previous request really ended, so neither two requests
    in flight nor a gap under the delay can happen, however late a process wakes. The client's clock must
    be wall-clock epoch seconds (the default, time.time), the same on every machine.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def next_allowed(self, host: str) -> float | None:
        with session_scope(self._engine) as session:
            state = session.get(HostState, host)
            if state is None or state.next_allowed_at is None:
                return None
            return state.next_allowed_at.timestamp()

    def record(self, host: str, *, next_allowed: float, crawl_delay: float | None) -> None:
        with session_scope(self._engine) as session:
            # Insert-if-missing, then lock the row (FOR UPDATE; on SQLite the INSERT already holds the
            # database's write lock): read and write are one step for concurrent writers.
            upsert(session, HostState, [{"host": host, "updated_at": utcnow()}], run_id=None, update=False)
            state = _locked_row(session, host)
            # Never earlier than stored: a retry's back-off written by another process stays.
            if state.next_allowed_at is None or state.next_allowed_at.timestamp() < next_allowed:
                state.next_allowed_at = datetime.fromtimestamp(next_allowed, UTC)
            state.crawl_delay = crawl_delay
            state.updated_at = utcnow()

    @contextlib.contextmanager
    def exclusive(self, host: str) -> Iterator[None]:
        if self._engine.dialect.name == "postgresql":
            with self._advisory_lock(host):
                yield
        else:
            with self._file_lock(host):
                yield

    @contextlib.contextmanager
    def _advisory_lock(self, host: str) -> Iterator[None]:
        with _lock_engine(self._engine).connect() as connection:
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            key = {"ns": ADVISORY_NAMESPACE, "host": host}
            connection.execute(text("SELECT pg_advisory_lock(CAST(:ns AS integer), hashtext(:host))"), key)
            try:
                yield
            finally:
                try:
                    connection.execute(
                        text("SELECT pg_advisory_unlock(CAST(:ns AS integer), hashtext(:host))"), key
                    )
                except Exception:
                    # Never pool a session that may still hold the lock: closing it releases the lock.
                    connection.invalidate()
                    raise

    @contextlib.contextmanager
    def _file_lock(self, host: str) -> Iterator[None]:
        database = self._engine.url.database
        if not database or database == ":memory:":
            yield  # one process only
            return
        import fcntl  # POSIX only, like chiso's SQLite-on-one-box use; imported here so the module loads anywhere

        digest = hashlib.sha1(host.encode()).hexdigest()[:16]
        path = Path(f"{database}.host-{digest}.lock")
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock


_lock_engines: dict[str, Engine] = {}
_lock_engines_guard = threading.Lock()


def _lock_engine(engine: Engine) -> Engine:
    """The process's engine for advisory locks on this database: its own pool, without a bound, so a held
    lock never waits for, or starves, the data connections."""
    key = engine.url.render_as_string(hide_password=False)
    with _lock_engines_guard:
        if key not in _lock_engines:
            _lock_engines[key] = create_engine(
                engine.url,
                pool_size=2,
                max_overflow=-1,
                pool_pre_ping=True,
                connect_args={"connect_timeout": 10},
            )
        return _lock_engines[key]


def _locked_row(session: Session, host: str) -> HostState:
    """The host's row, locked until the session's transaction ends."""
    stmt = select(HostState).where(HostState.host == host).with_for_update()  # type: ignore[arg-type]
    return session.execute(stmt).scalar_one()
