"""The database-backed state the scrapers work with: host politeness, article fetch state, discovery cache.

These implement the scrapers' small interfaces (scrapers.politeness.PolitenessStore, scrapers.state.PageStates
and ConditionalCache), so the scrapers never import the database layer.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import UTC, datetime
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.engine import Engine

from models.db import session_scope
from models.store import load_raw_page, store_raw_page, upsert
from models.tables import FetchState, HostState
from models.types import utcnow
from scrapers.discover import canonical_url
from scrapers.http import FetchResult
from scrapers.state import Cached, PageState

# Enough URLs per IN (...) query to read a host's queue in a few statements, within SQLite's parameter limit.
STATE_BATCH = 500


class DbPoliteness:
    """Politeness shared by processes through the host_state table, so `chiso fetch` twice keeps the delay.

    The client's clock must then be wall-clock epoch seconds (the default, time.time).
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
        row = {
            "host": host,
            "next_allowed_at": datetime.fromtimestamp(next_allowed, UTC),
            "crawl_delay": crawl_delay,
            "updated_at": utcnow(),
        }
        with session_scope(self._engine) as session:
            upsert(session, HostState, [row], run_id=None)

    def reserve(self, host: str, *, delay: float, now: float | None = None) -> float:
        current = time.time() if now is None else now
        with session_scope(self._engine) as session:
            # FOR UPDATE: on PostgreSQL two processes booking the same host's slot take turns.
            state = session.get(HostState, host, with_for_update=True)
            known = state.next_allowed_at.timestamp() if state is not None and state.next_allowed_at else None
            slot = max(current, known) if known is not None else current
            row = {
                "host": host,
                "next_allowed_at": datetime.fromtimestamp(slot + delay, UTC),
                "updated_at": utcnow(),
            }
            upsert(session, HostState, [row], run_id=None)
        return slot


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
