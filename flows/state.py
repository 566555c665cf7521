"""The database-backed state the scrapers work with: host politeness, article fetch state, discovery cache.

These implement the scrapers' small interfaces (scrapers.politeness.PolitenessStore, scrapers.state.PageStates
and ConditionalCache), so the scrapers never import the database layer.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from models.db import session_scope
from models.store import load_raw_page, store_raw_page, upsert
from models.tables import FetchState, HostState
from models.types import utcnow
from scrapers.discover import canonical_url
from scrapers.http import FetchResult
from scrapers.state import Cached, PageState

# Namespace of chiso's PostgreSQL advisory locks (pg_advisory_lock(ns, key)): "chis" as an int4.
ADVISORY_NAMESPACE = 0x63686973
# Enough URLs per IN (...) query to read a host's queue in a few statements, within SQLite's parameter limit.
STATE_BATCH = 500


class DbPoliteness:
    """Politeness shared by processes through the host_state table, so several workers keep one host's delay.

    A turn (wait for next allowed, send, record end + delay) is exclusive across processes: on PostgreSQL a
    session advisory lock per host, held on a connection of its own (the server releases it if the process
    dies); on SQLite an flock on a lock file per host beside the database (one machine). The waiting worker
    reads the time the previous request really ended, so neither two requests in flight nor a gap under
    the delay can happen, however late a process wakes. The client's clock must be wall-clock epoch seconds
    (the default, time.time), the same on every machine.
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
    """The host's row (inserted when missing), locked until the session's transaction ends.

    FOR UPDATE on PostgreSQL; on SQLite the insert already holds the database's write lock.
    """
    upsert(session, HostState, [{"host": host, "updated_at": utcnow()}], run_id=None, update=False)
    stmt = select(HostState).where(HostState.host == host).with_for_update()  # type: ignore[arg-type]
    return session.execute(stmt).scalar_one()


class DbFetchState:
    """Article fetch state read in bulk, and robots/feed/sitemap bodies kept for conditional requests.

    A discovery resource is a fetch_state row (its validators and content hash) and a raw_page row (its bytes).
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def states(self, urls: Iterable[str]) -> dict[str, PageState]:
        wanted = list(dict.fromkeys(urls))
        table = FetchState.__table__  # type: ignore[attr-defined]
        out: dict[str, PageState] = {}
        with self._engine.connect() as connection:
            for start in range(0, len(wanted), STATE_BATCH):
                batch = wanted[start : start + STATE_BATCH]
                for row in connection.execute(select(table).where(table.c.url.in_(batch))):
                    out[row.url] = PageState(
                        url=row.url,
                        etag=row.etag,
                        last_modified=row.last_modified,
                        content_hash=row.content_hash,
                        last_status=row.last_status,
                        last_fetched_at=_utc(row.last_fetched_at),
                        next_allowed_at=_utc(row.next_allowed_at),
                        failures=row.failures or 0,
                    )
        return out

    def recall(self, url: str) -> Cached | None:
        with session_scope(self._engine) as session:
            state = session.get(FetchState, url)
            if state is None or not state.content_hash:
                return None
            try:
                body = load_raw_page(session, state.content_hash)
            except KeyError:
                return None
            return Cached(etag=state.etag, last_modified=state.last_modified, body=body)

    def record(self, result: FetchResult, *, run_id: str | None) -> None:
        """Leave a feed, sitemap or listing fetch in fetch_state as a page fetch does: outcome and reason.

        Only these columns are written, so the validators and body kept by `remember` stay.
        """
        key = canonical_url(result.url)
        with session_scope(self._engine) as session:
            state = session.get(FetchState, key)
            failures = state.failures if state is not None else 0
            row = {
                "url": key,
                "host": (urlsplit(key).hostname or "").lower(),
                "last_status": result.status,
                "last_reason": result.reason[:500],
                "last_fetched_at": result.fetched_at,
                "next_allowed_at": result.retry_at,
                "failures": failures + 1 if result.failed else 0,
            }
            upsert(session, FetchState, [row], run_id=run_id)

    def remember(self, url: str, cached: Cached) -> None:
        with session_scope(self._engine) as session:
            digest = store_raw_page(
                session, url=url, body=cached.body, content_type=None, encoding=None, run_id=None
            )
            row = {
                "url": url,
                "host": (urlsplit(url).hostname or "").lower(),
                "last_status": 200,
                "last_reason": "kept for conditional requests",
                "etag": cached.etag,
                "last_modified": cached.last_modified,
                "content_hash": digest,
                "last_fetched_at": utcnow(),
                "next_allowed_at": None,
                "failures": 0,
            }
            upsert(session, FetchState, [row], run_id=None)


def _utc(value: datetime | None) -> datetime | None:
    # SQLite hands timestamps back naive; they are stored in UTC.
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)
