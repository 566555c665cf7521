"""The load stage: what the scrapers fetched goes into the database (raw page, document, fetch state)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from flows.state import DbFetchState
from models.db import session_scope
from models.store import content_hash, store_raw_page, upsert, upsert_document
from models.tables import Document, FetchState
from models.tables import Source as SourceRow
from scrapers.crawl import (
    DiscoveryMode,
    Fetched,
    FetchOutcome,
    OutcomeStatus,
    SourceReport,
    discover,
    fetch_page,
    parse_fetched,
)
from scrapers.discover import Candidate, canonical_url
from scrapers.http import FetchResult, HttpClient
from scrapers.parse import is_html
from scrapers.registry import Source

log = logging.getLogger(__name__)


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
    previous = DbFetchState(engine).states([key]).get(key)
    fetched = fetch_page(url, client=client, previous=previous, force=force)
    return store_fetched(fetched, source=source, engine=engine, run_id=run_id)


def store_fetched(fetched: Fetched, *, source: Source, engine: Engine, run_id: str | None) -> FetchOutcome:
    """Record one fetch in fetch_state; archive, parse and upsert a new or changed page."""
    url, key, previous, result = fetched.url, fetched.key, fetched.previous, fetched.result
    if result is None:
        return FetchOutcome(url=url, status="skipped", reason=fetched.skip_reason or "not requested")
    failures = previous.failures if previous is not None else 0
    previous_hash = previous.content_hash if previous is not None else None
    state_row: dict[str, object] = {
        "url": key,
        "host": (urlsplit(key).hostname or "").lower(),
        "last_status": result.status,
        "last_reason": result.reason[:500],
        "etag": previous.etag if previous is not None else None,
        "last_modified": previous.last_modified if previous is not None else None,
        "content_hash": previous_hash,
        "last_fetched_at": result.fetched_at,
        "next_allowed_at": None,
        "failures": 0,
    }

    if result.not_modified:
        with session_scope(engine) as session:
            upsert(session, FetchState, [state_row], run_id=run_id)
            doc = _document_by_raw(session, previous_hash)
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

    # Parse before the write transaction: SQLite has one writer, and other hosts' pages wait for it.
    raw_hash = content_hash(result.body)
    state_row.update(etag=result.etag, last_modified=result.last_modified)
    if raw_hash == previous_hash:
        with session_scope(engine) as session:
            doc = _document_by_raw(session, raw_hash)
            if doc is not None:
                _store_raw(session, result, run_id=run_id)
                upsert(session, FetchState, [state_row], run_id=run_id)
                return _outcome(url, "unchanged", result, document=doc, reason="same bytes as last fetch")
    try:
        page = parse_fetched(result, source=source)
    except Exception as exc:  # a parser bug on one page must not stop the run
        log.exception("parsing %s failed", url)
        state_row.update(
            last_reason=f"parse failed: {type(exc).__name__}: {exc}"[:500], failures=failures + 1
        )
        with session_scope(engine) as session:
            _store_raw(session, result, run_id=run_id)
            upsert(session, FetchState, [state_row], run_id=run_id)
        return _outcome(url, "failed", result, reason=str(state_row["last_reason"]))
    with session_scope(engine) as session:
        _store_raw(session, result, run_id=run_id)
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


def _store_raw(session: Session, result: FetchResult, *, run_id: str | None) -> str:
    return store_raw_page(
        session,
        url=result.final_url,
        body=result.body,
        content_type=result.content_type,
        encoding=result.encoding,
        run_id=run_id,
        fetched_at=result.fetched_at,
    )


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
