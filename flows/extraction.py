"""The extract stage: stored documents -> ranking mentions and indicator values, without Prefect."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.engine import Engine

from extractors import EXTRACTOR_VERSION, DocumentText, extract
from models.db import session_scope
from models.store import Extraction, RankingFact, replace_extractions
from models.tables import Document

# Ids or URLs per IN (...) query, well within SQLite's parameter limit.
IN_BATCH = 500


@dataclass(frozen=True)
class DocumentExtraction:
    """What extracting one stored document produced."""

    document_id: int
    rankings: int = 0
    indicators: int = 0
    new_rankings: list[RankingFact] = field(default_factory=list)
    skipped: bool = False


def pending_documents(
    engine: Engine,
    *,
    since: datetime | None = None,
    reextract: bool = False,
    among: Sequence[int] | None = None,
    urls: Sequence[str] | None = None,
    source_codes: Sequence[str] | None = None,
) -> list[int]:
    """Ids of stored documents to extract: those never extracted, changed since, or on older rules.

    With `reextract`, every document (fetched since `since`) is taken again. `among` (ids) and `urls`
    (canonical URLs) limit it to those documents, in batches that stay within SQLite's parameter limit;
    `source_codes` to those sources' documents.
    """
    documents = Document.__table__  # type: ignore[attr-defined]
    query = select(documents.c.id).order_by(documents.c.id)
    if since is not None:
        query = query.where(documents.c.fetched_at >= since)
    if source_codes is not None:
        query = query.where(documents.c.source_code.in_(list(source_codes)))
    if not reextract:
        query = query.where(
            or_(
                documents.c.extractor_version.is_(None),
                documents.c.extractor_version != EXTRACTOR_VERSION,
                documents.c.extracted_at < documents.c.updated_at,
            )
        )
    if among is None and urls is None:
        queries = [query]
    else:
        ids, links = list(among or []), list(urls or [])
        queries = [
            query.where(documents.c.id.in_(ids[i : i + IN_BATCH])) for i in range(0, len(ids), IN_BATCH)
        ]
        queries += [
            query.where(documents.c.url.in_(links[i : i + IN_BATCH])) for i in range(0, len(links), IN_BATCH)
        ]
    with engine.connect() as connection:
        found = {row[0] for q in queries for row in connection.execute(q)}
    return sorted(found)


def pending_of_sources(engine: Engine, source_codes: Sequence[str]) -> list[tuple[int, str]]:
    """(id, source code) of these sources' stored documents not yet extracted with the current rules."""
    documents = Document.__table__  # type: ignore[attr-defined]
    ids = pending_documents(engine, source_codes=source_codes)
    out: list[tuple[int, str]] = []
    with engine.connect() as connection:
        for i in range(0, len(ids), IN_BATCH):
            query = select(documents.c.id, documents.c.source_code).where(
                documents.c.id.in_(ids[i : i + IN_BATCH])
            )
            out += [(row.id, row.source_code) for row in connection.execute(query)]
    return sorted(out)


def document_urls(engine: Engine, document_ids: Sequence[int]) -> dict[int, str]:
    """The URL of each of these documents."""
    documents = Document.__table__  # type: ignore[attr-defined]
    ids = list(document_ids)
    out: dict[int, str] = {}
    with engine.connect() as connection:
        for i in range(0, len(ids), IN_BATCH):
            query = select(documents.c.id, documents.c.url).where(documents.c.id.in_(ids[i : i + IN_BATCH]))
            out.update({row.id: row.url for row in connection.execute(query)})
    return out


def extract_document(engine: Engine, document_id: int, *, run_id: str | None) -> DocumentExtraction:
    """Extract one stored document and replace its records; reports the facts no document had before."""
    return extract_documents(engine, [document_id], run_id=run_id)[0]


def extract_documents(
    engine: Engine, document_ids: Sequence[int], *, run_id: str | None
) -> list[DocumentExtraction]:
    """Extract stored documents and replace their records in one transaction (one batched write).

    One DocumentExtraction per id, in order; an id with no stored document comes back skipped.
    """
    documents = Document.__table__  # type: ignore[attr-defined]
    columns = [documents.c[c] for c in ("id", "url", "title", "published_at", "lang", "text")]
    with session_scope(engine) as session:
        stored = {
            row.id: row
            for start in range(0, len(document_ids), 500)
            for row in session.execute(
                select(*columns).where(documents.c.id.in_(document_ids[start : start + 500]))
            )
        }
        results = {}
        for document_id, row in stored.items():
            text = DocumentText(
                url=row.url, title=row.title, published=row.published_at, lang=row.lang, text=row.text
            )
            results[document_id] = extract(text)
        found = [document_id for document_id in document_ids if document_id in results]
        new = replace_extractions(
            session,
            [
                (
                    document_id,
                    Extraction(
                        rankings=[dataclasses.asdict(r) for r in results[document_id].rankings],
                        indicators=[dataclasses.asdict(i) for i in results[document_id].indicators],
                        extractor_version=results[document_id].extractor_version,
                    ),
                )
                for document_id in found
            ],
            run_id=run_id,
        )
    facts = iter(new)  # in the order of `found`, which keeps the order (and repeats) of document_ids
    return [
        DocumentExtraction(
            document_id=document_id,
            rankings=len(results[document_id].rankings),
            indicators=len(results[document_id].indicators),
            new_rankings=next(facts),
        )
        if document_id in results
        else DocumentExtraction(document_id=document_id, skipped=True)
        for document_id in document_ids
    ]
