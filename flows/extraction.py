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
from models.store import RankingFact, replace_extraction
from models.tables import Document


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
) -> list[int]:
    """Ids of stored documents to extract: those never extracted, changed since, or on older rules.

    With `reextract`, every document (fetched since `since`) is taken again; `among` limits it to those ids.
    """
    documents = Document.__table__  # type: ignore[attr-defined]
    query = select(documents.c.id).order_by(documents.c.id)
    if among is not None:
        query = query.where(documents.c.id.in_(list(among)))
    if since is not None:
        query = query.where(documents.c.fetched_at >= since)
    if not reextract:
        query = query.where(
            or_(
                documents.c.extractor_version.is_(None),
                documents.c.extractor_version != EXTRACTOR_VERSION,
                documents.c.extracted_at < documents.c.updated_at,
            )
        )
    with engine.connect() as connection:
        return [row[0] for row in connection.execute(query)]


def extract_document(engine: Engine, document_id: int, *, run_id: str | None) -> DocumentExtraction:
    """Extract one stored document and replace its records; reports the facts no document had before."""
    with session_scope(engine) as session:
        document = session.get(Document, document_id)
        if document is None:
            return DocumentExtraction(document_id=document_id, skipped=True)
        text = DocumentText(
            url=document.url,
            title=document.title,
            published=document.published_at,
            lang=document.lang,
            text=document.text,
        )
        result = extract(text)
        new = replace_extraction(
            session,
            document_id=document_id,
            rankings=[dataclasses.asdict(r) for r in result.rankings],
            indicators=[dataclasses.asdict(i) for i in result.indicators],
            extractor_version=result.extractor_version,
            run_id=run_id,
        )
    return DocumentExtraction(
        document_id=document_id,
        rankings=len(result.rankings),
        indicators=len(result.indicators),
        new_rankings=new,
    )
