"""Stage functions the flows orchestrate: discover candidates and fetch pages. No Prefect, no database.

The fetch stage returns what it fetched (`Fetched`); the flows' load stage (flows.load) stores it. What the
last fetch of a URL left behind comes in as a `PageState` (scrapers.state), read by the flows.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from scrapers.discover import (
    Candidate,
    DiscoveryError,
    canonical_url,
    dedupe,
    filter_topics,
    in_range,
    parse_feed,
    walk_listings,
    walk_sitemaps,
)
from scrapers.http import FetchResult, HttpClient
from scrapers.parse import ParsedPage, parse_page
from scrapers.registry import Registry, Source
from scrapers.state import PageState

log = logging.getLogger(__name__)

DiscoveryMode = Literal["recent", "backfill"]
OutcomeStatus = Literal["stored", "unchanged", "not_modified", "skipped", "failed"]
FEED_ACCEPT = "application/rss+xml,application/atom+xml,application/xml;q=0.9,text/xml;q=0.9,*/*;q=0.5"
SITEMAP_ACCEPT = "application/xml,text/xml;q=0.9,application/gzip;q=0.8,*/*;q=0.5"


@dataclass(frozen=True)
class DiscoveryResult:
    """The candidates one source yielded, and one line per feed/sitemap/listing that could not be read."""

    source_code: str
    candidates: tuple[Candidate, ...]
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class FetchOutcome:
    """What fetch_and_store did with one URL.

    stored: a new or changed document; unchanged: fetched, same content; not_modified: 304, or not
    requested at all because discovery dates it before the last successful fetch (`fetch_kind` "fresh");
    skipped: not fetched or not a page (retry not yet due, not HTML); failed: see `reason` (one line).
    """

    url: str
    status: OutcomeStatus
    reason: str
    document_id: int | None = None
    changed: bool = False
    http_status: int = 0
    document_url: str | None = None
    fetch_kind: str | None = None


@dataclass(frozen=True)
class SourceReport:
    """One source's pass: discovery, then one outcome per fetched candidate."""

    source_code: str
    discovery: DiscoveryResult
    outcomes: tuple[FetchOutcome, ...] = field(default_factory=tuple)

    def count(self, status: OutcomeStatus) -> int:
        """How many outcomes have this status."""
        return sum(1 for o in self.outcomes if o.status == status)


# --- discovery -------------------------------------------------------------------------------------


# Told about every feed, sitemap and listing fetch (the flows leave each in fetch_state).
Recorder = Callable[[FetchResult], None]


def _fetcher(
    client: HttpClient, problems: list[str], *, accept: str, what: str, record: Recorder | None = None
) -> Callable[[str], bytes | None]:
    # Conditional on the client's cache: an unchanged feed or sitemap answers 304 and its kept body is read.
    def fetch(url: str) -> bytes | None:
        result, body = client.fetch_cached(url, accept=accept)
        if record is not None:
            record(result)
        if body is not None:
            return body
        problems.append(f"{what} {url}: {result.reason}")
        return None

    return fetch


def discover(
    source: Source,
    client: HttpClient,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    mode: DiscoveryMode = "recent",
    max_listing_pages: int = 3,
    apply_topics: bool = True,
    record: Recorder | None = None,
) -> DiscoveryResult:
    """Candidate article URLs of one source within [since, until], topic-filtered and deduplicated.

    recent: feeds and listing pages (what is new now); backfill: sitemaps, walking only the monthly
    shards of the range (feeds and listings when the source has no sitemap). Unreadable inputs are
    reported in `problems`, never raised; `record` is told about every feed, sitemap and listing fetch.
    """
    problems: list[str] = []
    found: list[Candidate] = []
    use_sitemaps = mode == "backfill" and bool(source.sitemaps)
    if not use_sitemaps:
        feed_fetch = _fetcher(client, problems, accept=FEED_ACCEPT, what="feed", record=record)
        for feed in source.feeds:
            data = feed_fetch(feed.url)
            if data is None:
                continue
            try:
                entries = parse_feed(data, feed_url=feed.url, source_code=source.code)
            except DiscoveryError as exc:  # one bad feed is a problem line; the other inputs still count
                problems.append(str(exc))
                continue
            if not entries:
                problems.append(f"feed {feed.url}: no entries")
            found.extend(entries)
        found.extend(discover_listings(source, client, problems, max_pages=max_listing_pages, record=record))
    else:
        walk = walk_sitemaps(
            [s.url for s in source.sitemaps],
            _fetcher(client, problems, accept=SITEMAP_ACCEPT, what="sitemap", record=record),
            since=since,
            until=until,
            source_code=source.code,
        )
        problems.extend(p for p in walk.problems if not p.endswith(" unavailable"))
        found.extend(walk.candidates)
    kept = [c for c in dedupe(found) if in_range(c.published, since=since, until=until)]
    kept = [c for c in kept if client_allows_host(client, c.url)]
    if apply_topics:
        kept = filter_topics(kept, source.topics)
    return DiscoveryResult(source_code=source.code, candidates=tuple(kept), problems=tuple(problems))


def client_allows_host(client: HttpClient, url: str) -> bool:
    """Whether the URL's host is on the client's allow-list (feeds sometimes link to partner sites)."""
    return client.allows(url)


def discover_listings(
    source: Source, client: HttpClient, problems: list[str], *, max_pages: int, record: Recorder | None = None
) -> list[Candidate]:
    """Candidates from the source's listing pages (its parser's hook when it has one); problems appended."""
    if not source.listings:
        return []
    fetch = _fetcher(client, problems, accept="text/html,*/*;q=0.5", what="listing", record=record)
    custom = _listing_hook(source)
    if custom is None:
        found, walk_problems = walk_listings(
            [link.url for link in source.listings], fetch, source_code=source.code, max_pages=max_pages
        )
        problems.extend(p for p in walk_problems if not p.endswith(" unavailable"))
        return found
    candidates: list[Candidate] = []
    for link in source.listings:
        data = fetch(link.url)
        if data is not None:
            candidates.extend(custom(data, page_url=link.url, source_code=source.code))
    return candidates


def _listing_hook(source: Source) -> Callable[..., list[Candidate]] | None:
    if not source.parser:
        return None
    module = importlib.import_module(f"scrapers.parsers.{source.parser}")
    hook = getattr(module, "listing_candidates", None)
    return hook if callable(hook) else None


# --- fetch -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fetched:
    """One URL after the fetch stage: the response (None when not requested) and the state it started from."""

    url: str
    key: str
    previous: PageState | None
    result: FetchResult | None = None
    skip_reason: str | None = None


def fetch_page(url: str, *, client: HttpClient, previous: PageState | None, force: bool = False) -> Fetched:
    """GET one page, conditionally when its content is stored; not at all while a recorded retry is not due.

    `force` ignores a recorded retry time. Network and HTTP problems are in the result, never raised.
    """
    key = canonical_url(url)
    retry_at = previous.next_allowed_at if previous else None
    if not force and retry_at is not None and retry_at > client.now():
        return Fetched(
            url, key, previous, skip_reason=f"retry not before {retry_at.isoformat(timespec='seconds')}"
        )
    stored_before = previous is not None and bool(previous.content_hash)
    result = client.fetch(
        url,
        etag=previous.etag if previous is not None and stored_before else None,
        last_modified=previous.last_modified if previous is not None and stored_before else None,
    )
    return Fetched(url, key, previous, result=result)


def is_fresh(candidate: Candidate, previous: PageState | None) -> bool:
    """Whether discovery says the page has not changed since its last successful fetch: no request needed.

    Needs a date from discovery (sitemap lastmod, else the sitemap or feed date) and a stored fetch at or
    after it; anything unknown is fetched (conditionally).
    """
    changed = candidate.changed_at
    if previous is None or not previous.succeeded or previous.last_fetched_at is None or changed is None:
        return False
    fetched = previous.last_fetched_at
    if changed.tzinfo is None or fetched.tzinfo is None:
        return False
    return changed <= fetched


def fresh_outcome(candidate: Candidate, previous: PageState) -> FetchOutcome:
    """The outcome of a page not requested because discovery says it is unchanged since its last fetch."""
    when = previous.last_fetched_at.isoformat(timespec="seconds") if previous.last_fetched_at else "?"
    changed = candidate.changed_at.isoformat(timespec="seconds") if candidate.changed_at else "?"
    return FetchOutcome(
        url=candidate.url,
        status="not_modified",
        reason=f"not requested: changed {changed}, fetched {when}",
        fetch_kind="fresh",
    )


def parse_fetched(result: FetchResult, *, source: Source) -> ParsedPage:
    """Parse a fetched page with its source's parser: decoded text when the client decoded it, else bytes."""
    return parse_page(
        result.text if result.text is not None else result.body,
        url=result.final_url,
        source=source,
        fetched_at=result.fetched_at,
        content_type=result.content_type,
    )


def make_client(registry: Registry, **options: Any) -> HttpClient:
    """A client for the registry (hosts, delays, User-Agent, private-host setting); options pass through."""
    return HttpClient.from_registry(registry, **options)
