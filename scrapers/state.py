"""What the scrapers need to remember between runs, as small interfaces the flows implement.

The scrapers never import the database layer: the flows hand them objects with these shapes
(flows.state has the database-backed ones; the memory ones here serve one process and the tests).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class PageState:
    """What the last fetch of one URL left behind (the fetch_state row)."""

    url: str
    etag: str | None = None
    last_modified: str | None = None
    content_hash: str | None = None
    last_status: int | None = None
    last_fetched_at: datetime | None = None
    next_allowed_at: datetime | None = None
    failures: int = 0

    @property
    def succeeded(self) -> bool:
        """Whether the last fetch reached the page (2xx or 304) and its content is stored."""
        return (
            bool(self.content_hash)
            and self.last_status is not None
            and (200 <= self.last_status < 300 or self.last_status == 304)
        )


@dataclass(frozen=True)
class Cached:
    """A discovery resource (robots.txt, feed, sitemap) as last read: its validators and body."""

    etag: str | None
    last_modified: str | None
    body: bytes


class PageStates(Protocol):
    """The fetch state of article URLs, read in bulk before a host's queue is fetched."""

    def states(self, urls: Iterable[str]) -> Mapping[str, PageState]:
        """The state of each of these canonical URLs that has one."""
        ...


class ConditionalCache(Protocol):
    """Validators and bodies of discovery resources, so they are fetched conditionally."""

    def recall(self, url: str) -> Cached | None:
        """The last body read from the URL with its validators, or None."""
        ...

    def remember(self, url: str, cached: Cached) -> None:
        """Keep the body just read from the URL and its validators."""
        ...


class MemoryCache:
    """A ConditionalCache for one process."""

    def __init__(self) -> None:
        self._entries: dict[str, Cached] = {}
        self._lock = threading.Lock()

    def recall(self, url: str) -> Cached | None:
        with self._lock:
            return self._entries.get(url)

    def remember(self, url: str, cached: Cached) -> None:
        with self._lock:
            self._entries[url] = cached
