"""Where the client remembers when each host may be asked again: in memory, or in the host_state table."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy.engine import Engine

from models.db import session_scope
from models.store import upsert
from models.tables import HostState
from models.types import utcnow


class PolitenessStore(Protocol):
    """The next time (epoch seconds, the client's clock) each host may receive a request."""

    def next_allowed(self, host: str) -> float | None:
        """When the host may be asked again, or None if never recorded."""
        ...

    def record(self, host: str, *, next_allowed: float, crawl_delay: float | None) -> None:
        """Remember when the host may be asked again (and its robots Crawl-delay, for operators)."""
        ...


class MemoryPoliteness:
    """Per-process politeness: enough for one run or one test."""

    def __init__(self) -> None:
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    def next_allowed(self, host: str) -> float | None:
        with self._lock:
            return self._next.get(host)

    def record(self, host: str, *, next_allowed: float, crawl_delay: float | None) -> None:
        with self._lock:
            self._next[host] = next_allowed


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
