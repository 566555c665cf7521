"""Where the client keeps each host's request schedule: the Protocol, and the in-memory store.

The client spaces request *starts* per host, within a turn on the host that one client holds at a time
(`exclusive`: across threads by the client's lock, across processes by the store): it waits for the host's
next allowed time, books its start (next allowed becomes start + delay), sends, and releases the turn when
the response has ended. The response's latency therefore does not add to the delay, no host ever has two
requests in flight, and a process that wakes late only widens the gap. A store shared by processes (the
host_state table) is provided by the flows (flows.state.DbPoliteness); the scrapers never import the
database layer.
"""

from __future__ import annotations

import contextlib
import threading
import time
from contextlib import AbstractContextManager
from typing import Protocol


class PolitenessStore(Protocol):
    """The next time (epoch seconds, the client's clock) each host may receive a request."""

    def next_allowed(self, host: str) -> float | None:
        """When the host may be asked again, or None if never recorded."""
        ...

    def record(self, host: str, *, next_allowed: float, crawl_delay: float | None) -> None:
        """Remember when the host may be asked again (a later stored time stays), and its robots Crawl-delay."""
        ...

    def reserve(self, host: str, *, delay: float, now: float | None = None) -> float:
        """Atomically book the host's next start slot, max(now, next allowed); next allowed becomes slot + delay.

        `now` is the caller's clock (epoch seconds); stores default to the wall clock.
        """
        ...

    def exclusive(self, host: str) -> AbstractContextManager[None]:
        """Hold the host against every other client sharing this store, for one wait-book-send turn."""
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

    def reserve(self, host: str, *, delay: float, now: float | None = None) -> float:
        current = time.time() if now is None else now
        with self._lock:
            slot = max(current, self._next.get(host, current))
            self._next[host] = slot + delay
            return slot

    def exclusive(self, host: str) -> AbstractContextManager[None]:
        return contextlib.nullcontext()
