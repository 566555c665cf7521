"""Stage functions the flows orchestrate: discover candidates, fetch and store one page. No Prefect needed."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from models.db import session_scope
from models.store import store_raw_page, upsert, upsert_document
from models.tables import Document, FetchState
from models.tables import Source as SourceRow
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
from scrapers.parse import is_html, parse_page
from scrapers.registry import Registry, Source

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

    stored: a new or changed document; unchanged: fetched, same content; not_modified: 304;
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


def _fetcher(
    client: HttpClient, problems: list[str], *, accept: str, what: str
) -> Callable[[str], bytes | None]:
    def fetch(url: str) -> bytes | None:
        result = client.fetch(url, accept=accept)
        if result.ok:
            return result.body
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
) -> DiscoveryResult:
    """Candidate article URLs of one source within [since, until], topic-filtered and deduplicated.

    recent: feeds and listing pages (what is new now); backfill: sitemaps, walking only the monthly
    shards of the range (feeds and listings when the source has no sitemap). Unreadable inputs are
    reported in `problems`, never raised.
    """
    problems: list[str] = []
    found: list[Candidate] = []
    use_sitemaps = mode == "backfill" and bool(source.sitemaps)
    if not use_sitemaps:
        feed_fetch = _fetcher(client, problems, accept=FEED_ACCEPT, what="feed")
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
        found.extend(discover_listings(source, client, problems, max_pages=max_listing_pages))
    else:
        walk = walk_sitemaps(
            [s.url for s in source.sitemaps],
            _fetcher(client, problems, accept=SITEMAP_ACCEPT, what="sitemap"),
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
    source: Source, client: HttpClient, problems: list[str], *, max_pages: int
) -> list[Candidate]:
    """Candidates from the source's listing pages (its parser's hook when it has one); problems appended."""
    if not source.listings:
        return []
    fetch = _fetcher(client, problems, accept="text/html,*/*;q=0.5", what="listing")
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


# --- fetch and store -------------------------------------------------------------------------------


def store_sources(engine: Engine, sources: Iterable[Source], *, run_id: str | None) -> int:
    """Upsert the registry's sources into the source table (documents reference them)."""
    rows = [_source_row(s) for s in sources]
    with session_scope(engine) as session:
        return upsert(session, SourceRow, rows, run_id=run_id)


def _source_row(source: Source) -> dict[str, object]:
    return {
        "code": source.code,
        "name": source.name,
        "lang": source.lang,
        "base_url": source.base_url,
        "kind": "icf" if source.parser == "icf" else "news",
    }


def fetch_and_store(
    url: str,
    *,
    source: Source,
    client: HttpClient,
    engine: Engine,
    run_id: str | None,
    force: bool = False,
) -> FetchOutcome:
    """Fetch one page (conditional GET from its fetch_state), archive the bytes, parse, upsert the document.

    Network and HTTP problems come back as a failed outcome with a one-line reason and are recorded in
    fetch_state; a 304 or identical bytes re-process nothing. `force` ignores a recorded retry time.
    """
    key = canonical_url(url)
    host = (urlsplit(key).hostname or "").lower()
    with session_scope(engine) as session:
        state = session.get(FetchState, key)
        previous = _state_dict(state)
    now = client.now()
    retry_at = previous.get("next_allowed_at")
    if not force and isinstance(retry_at, datetime) and retry_at > now:
        return FetchOutcome(
            url=url,
            status="skipped",
            reason=f"retry not before {retry_at.isoformat(timespec='seconds')}",
        )
    stored_before = bool(previous.get("content_hash"))
    result = client.fetch(
        url,
        etag=_str(previous.get("etag")) if stored_before else None,
        last_modified=_str(previous.get("last_modified")) if stored_before else None,
    )
    failures = previous.get("failures")
    failures = failures if isinstance(failures, int) else 0
    state_row: dict[str, object] = {
        "url": key,
        "host": host,
        "last_status": result.status,
        "last_reason": result.reason[:500],
        "etag": previous.get("etag"),
        "last_modified": previous.get("last_modified"),
        "content_hash": previous.get("content_hash"),
        "last_fetched_at": result.fetched_at,
        "next_allowed_at": None,
        "failures": 0,
    }

    if result.not_modified:
        with session_scope(engine) as session:
            upsert(session, FetchState, [state_row], run_id=run_id)
            doc = _document_by_raw(session, _str(previous.get("content_hash")))
        return _outcome(url, "not_modified", result, document=doc)

    if not result.ok:
        state_row.update(failures=failures + 1, next_allowed_at=result.retry_at)
        with session_scope(engine) as session:
            upsert(session, FetchState, [state_row], run_id=run_id)
        return _outcome(url, "failed", result)

    if not is_html(result.content_type, result.body):
        state_row["last_reason"] = f"not an HTML page ({result.content_type or 'no content type'})"
        with session_scope(engine) as session:
            upsert(session, FetchState, [state_row], run_id=run_id)
        return _outcome(url, "skipped", result, reason=str(state_row["last_reason"]))

    with session_scope(engine) as session:
        raw_hash = store_raw_page(
            session,
            url=result.final_url,
            body=result.body,
            content_type=result.content_type,
            encoding=result.encoding,
            run_id=run_id,
            fetched_at=result.fetched_at,
        )
        state_row.update(etag=result.etag, last_modified=result.last_modified)
        if raw_hash == previous.get("content_hash"):
            doc = _document_by_raw(session, raw_hash)
            if doc is not None:
                upsert(session, FetchState, [state_row], run_id=run_id)
                return _outcome(url, "unchanged", result, document=doc, reason="same bytes as last fetch")
        try:
            page = parse_page(
                result.text if result.text is not None else result.body,
                url=result.final_url,
                source=source,
                fetched_at=result.fetched_at,
                content_type=result.content_type,
            )
        except Exception as exc:  # a parser bug on one page must not stop the run
            log.exception("parsing %s failed", url)
            state_row.update(
                last_reason=f"parse failed: {type(exc).__name__}: {exc}"[:500], failures=failures + 1
            )
            upsert(session, FetchState, [state_row], run_id=run_id)
            return _outcome(url, "failed", result, reason=str(state_row["last_reason"]))
        upsert(session, SourceRow, [_source_row(source)], run_id=run_id)
        stored = upsert_document(
            session,
            {
                "url": page.url,
                "source_code": source.code,
                "title": page.title,
                "published_at": page.published_at,
                "lang": page.lang,
                "text": page.text,
                "raw_hash": raw_hash,
                "etag": result.etag,
                "last_modified": result.last_modified,
                "fetch_status": result.status,
                "fetched_at": result.fetched_at,
            },
            run_id=run_id,
        )
        state_row["content_hash"] = raw_hash
        upsert(session, FetchState, [state_row], run_id=run_id)
    return FetchOutcome(
        url=url,
        status="stored" if stored.changed else "unchanged",
        reason=result.reason if stored.changed else "text unchanged",
        document_id=stored.id,
        changed=stored.changed,
        http_status=result.status,
        document_url=page.url,
        fetch_kind=result.kind,
    )


def _state_dict(state: FetchState | None) -> dict[str, object]:
    if state is None:
        return {}
    return {
        "etag": state.etag,
        "last_modified": state.last_modified,
        "content_hash": state.content_hash,
        "next_allowed_at": state.next_allowed_at,
        "failures": state.failures,
    }


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _document_by_raw(session: Session, raw_hash: str | None) -> tuple[int, str] | None:
    if not raw_hash:
        return None
    row = session.execute(
        select(Document.id, Document.url).where(Document.raw_hash == raw_hash).limit(1)  # type: ignore[call-overload]
    ).first()
    return (int(row.id), str(row.url)) if row is not None else None


def _outcome(
    url: str,
    status: OutcomeStatus,
    result: FetchResult,
    *,
    document: tuple[int, str] | None = None,
    reason: str | None = None,
) -> FetchOutcome:
    return FetchOutcome(
        url=url,
        status=status,
        reason=reason or result.reason,
        document_id=document[0] if document else None,
        changed=False,
        http_status=result.status,
        document_url=document[1] if document else None,
        fetch_kind=result.kind,
    )


# --- one source end to end -------------------------------------------------------------------------


def crawl_source(
    source: Source,
    client: HttpClient,
    *,
    engine: Engine,
    run_id: str | None,
    since: datetime | None = None,
    until: datetime | None = None,
    mode: DiscoveryMode = "recent",
    limit: int | None = None,
) -> SourceReport:
    """Discover then fetch-and-store every candidate of one source, sequentially (flows parallelise per host)."""
    found = discover(source, client, since=since, until=until, mode=mode)
    candidates: Sequence[Candidate] = found.candidates[:limit] if limit is not None else found.candidates
    outcomes = tuple(
        fetch_and_store(c.url, source=source, client=client, engine=engine, run_id=run_id) for c in candidates
    )
    return SourceReport(source_code=source.code, discovery=found, outcomes=outcomes)


def make_client(registry: Registry, **options: Any) -> HttpClient:
    """A client for the registry (hosts, delays, User-Agent, private-host setting); options pass through."""
    return HttpClient.from_registry(registry, **options)
