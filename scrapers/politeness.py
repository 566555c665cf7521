"""Where the client keeps each host's request schedule: the Protocol, and the in-memory store.

A request to a host is a turn that one client holds at a time (`exclusive`: across threads by the
client's lock, across processes by the store): wait for the host's next allowed time, send, and record
next allowed = end of the response + delay before releasing the turn. Spacing from the end rather than
from the start is what lets the host never see two requests in flight nor two starts closer than the delay:
the host stamps a request when its own handler runs, up to tens of milliseconds after the client sent it on a
loaded machine, so start-spaced requests reach it closer together than the delay (measured: 78-195 ms for a
200 ms delay in tests/flows/test_scale_out.py). A store shared by processes (the host_state table) is provided
by the flows (flows.state.DbPoliteness); the scrapers never import the database layer.
"""

from __future__ import annotations

import contextlib
import threading
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
