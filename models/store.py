"""Writes: batched upserts on natural keys, each stamped with the run that made them."""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, or_, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql import ColumnElement
from sqlmodel import Session, SQLModel

from models.tables import (
    BackfillChunk,
    Document,
    Entity,
    EntityAlias,
    FetchState,
    HostState,
    Indicator,
    IndicatorValue,
    Program,
    RankingMention,
    RawPage,
    Source,
)
from models.types import utcnow

NATURAL_KEYS: dict[type[SQLModel], tuple[str, ...]] = {
    Source: ("code",),
    RawPage: ("content_hash",),
    Document: ("url",),
    Entity: ("name", "country"),
    EntityAlias: ("alias", "lang"),
    Program: ("code",),
    Indicator: ("code",),
    RankingMention: ("document_id", "entity_id", "program_code", "year_key", "status", "rank_key"),
    IndicatorValue: ("document_id", "entity_id", "indicator_key", "period_key", "value"),
    FetchState: ("url",),
    HostState: ("host",),
    BackfillChunk: ("source_code", "chunk"),
}

# Bookkeeping columns: they change when a row is written but never make a row "changed".
_BOOKKEEPING = frozenset({"id", "run_id", "created_at", "updated_at"})
BATCH_SIZE = 500


def _insert(session: Session, model: type[SQLModel]) -> Any:
    table = model.__table__  # type: ignore[attr-defined]
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"upserts are written for SQLite and PostgreSQL, not {dialect}")


def _complete(model: type[SQLModel], row: Mapping[str, Any], *, run_id: str | None) -> dict[str, Any]:
    full: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        if name == "id" and "id" not in row:
            continue
        if name in row:
            full[name] = row[name]
        else:
            full[name] = field.get_default(call_default_factory=True)
    if "run_id" in full:
        full["run_id"] = run_id
    return full


def upsert(
    session: Session,
    model: type[SQLModel],
    rows: Iterable[Mapping[str, Any]],
    *,
    run_id: str | None,
    update: bool = True,
) -> int:
    """Insert rows, or update them on their natural key only where a data column differs.

    A row whose data is unchanged is left alone, run_id included, so a re-run changes nothing.
    With update=False existing rows are never touched (insert-or-ignore). Returns the rows given.
    """
    keys = NATURAL_KEYS[model]
    given = list(rows)
    if not given:
        return 0
    prepared = [_complete(model, row, run_id=run_id) for row in given]
    # Only the columns the caller gave are compared and updated: an omitted column keeps its stored value.
    data_columns = [c for c in given[0] if c not in keys and c not in _BOOKKEEPING]
    columns = data_columns + [c for c in ("run_id", "updated_at") if c in prepared[0]]
    table = model.__table__  # type: ignore[attr-defined]
    for start in range(0, len(prepared), BATCH_SIZE):
        batch = prepared[start : start + BATCH_SIZE]
        stmt = _insert(session, model)
        if update and data_columns:
            changed: list[ColumnElement[bool]] = [
                table.c[c].is_distinct_from(stmt.excluded[c]) for c in data_columns
            ]
            set_ = {c: stmt.excluded[c] for c in columns}
            stmt = stmt.on_conflict_do_update(index_elements=list(keys), set_=set_, where=or_(*changed))
        else:
            stmt = stmt.on_conflict_do_nothing(index_elements=list(keys))
        session.execute(stmt, batch)
    return len(prepared)


def content_hash(data: bytes | str) -> str:
    """The SHA-256 hex digest used as a content key."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def store_raw_page(
    session: Session,
    *,
    url: str,
    body: bytes,
    content_type: str | None,
    encoding: str | None,
    run_id: str | None,
    fetched_at: datetime | None = None,
) -> str:
    """Archive the bytes of a response (compressed); returns their content hash."""
    digest = content_hash(body)
    row = {
        "content_hash": digest,
        "url": url,
        "content_type": content_type,
        "encoding": encoding,
        "size": len(body),
        "body": zlib.compress(body, 6),
        "fetched_at": fetched_at or utcnow(),
    }
    upsert(session, RawPage, [row], run_id=run_id, update=False)
    return digest


def load_raw_page(session: Session, digest: str) -> bytes:
    """The archived bytes for a content hash."""
    page = session.get(RawPage, digest)
    if page is None:
        raise KeyError(f"no raw page with hash {digest}")
    return zlib.decompress(page.body)


@dataclass(frozen=True)
class StoredDocument:
    """Where a document landed: its id and whether its text is new or changed."""

    id: int
    changed: bool


def upsert_document(session: Session, row: Mapping[str, Any], *, run_id: str | None) -> StoredDocument:
    """Store one document by canonical URL; `changed` is true when it is new or its text changed."""
    data = dict(row)
    data.setdefault("content_hash", content_hash(data.get("text") or ""))
    previous = session.execute(
        select(Document.id, Document.content_hash).where(Document.url == data["url"])  # type: ignore[call-overload]
    ).first()
    if previous is not None:
        data["updated_at"] = utcnow()
        data.pop("created_at", None)
    upsert(session, Document, [data], run_id=run_id)
    doc_id = session.execute(select(Document.id).where(Document.url == data["url"])).scalar_one()  # type: ignore[call-overload]
    changed = previous is None or previous.content_hash != data["content_hash"]
    return StoredDocument(id=doc_id, changed=changed)


def upsert_reference(
    session: Session,
    *,
    programs: Sequence[Mapping[str, Any]] = (),
    indicators: Sequence[Mapping[str, Any]] = (),
    entities: Sequence[Mapping[str, Any]] = (),
    run_id: str | None,
) -> None:
    """Load reference data: programs, indicators, entities and their aliases (key `aliases`: [(alias, lang)])."""
    upsert(session, Program, programs, run_id=run_id)
    upsert(session, Indicator, indicators, run_id=run_id)
    entity_rows = [{k: v for k, v in e.items() if k != "aliases"} for e in entities]
    upsert(session, Entity, entity_rows, run_id=run_id)
    ids = entity_ids(session, [(e["name"], e["country"]) for e in entities])
    alias_rows = [
        {"alias": alias, "lang": lang, "entity_id": ids[(e["name"], e["country"])]}
        for e in entities
        for alias, lang in e.get("aliases", ())
    ]
    upsert(session, EntityAlias, alias_rows, run_id=run_id)


def entity_ids(session: Session, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """Entity ids by (canonical name, country)."""
    wanted = sorted(set(keys))
    found: dict[tuple[str, str], int] = {}
    for start in range(0, len(wanted), BATCH_SIZE):
        chunk = wanted[start : start + BATCH_SIZE]
        table = Entity.__table__  # type: ignore[attr-defined]
        rows = session.execute(
            select(table.c.name, table.c.country, table.c.id).where(
                tuple_(table.c.name, table.c.country).in_(chunk)
            )
        )
        found.update({(r.name, r.country): r.id for r in rows})
    return found


def ensure_entities(
    session: Session, rows: Sequence[Mapping[str, Any]], *, run_id: str | None
) -> dict[tuple[str, str], int]:
    """Ids for the given entities, creating the unknown ones (communities learned from ICF lists)."""
    keys = [(r["name"], r["country"]) for r in rows]
    known = entity_ids(session, keys)
    missing = {(r["name"], r["country"]): r for r in rows if (r["name"], r["country"]) not in known}
    if missing:
        upsert(session, Entity, list(missing.values()), run_id=run_id, update=False)
        known.update(entity_ids(session, missing))
    return known


@dataclass(frozen=True)
class RankingFact:
    """An entity × program × year × status fact, as first seen by a document."""

    entity: str
    country: str
    program: str
    year: int | None
    status: str


def _ranking_facts(
    session: Session, facts: Iterable[tuple[int, str, int | None, str]]
) -> set[tuple[int, str, int | None, str]]:
    wanted = set(facts)
    if not wanted:
        return set()
    clauses = [
        and_(
            RankingMention.entity_id == e,  # type: ignore[arg-type]
            RankingMention.program_code == p,  # type: ignore[arg-type]
            RankingMention.year_key == (y or 0),  # type: ignore[arg-type]
            RankingMention.status == s,  # type: ignore[arg-type]
        )
        for e, p, y, s in wanted
    ]
    found: set[tuple[int, str, int | None, str]] = set()
    for start in range(0, len(clauses), 100):
        rows = session.execute(
            select(
                RankingMention.entity_id,
                RankingMention.program_code,
                RankingMention.year,
                RankingMention.status,
            )  # type: ignore[call-overload]
            .where(or_(*clauses[start : start + 100]))
            .distinct()
        )
        found.update((r.entity_id, r.program_code, r.year, r.status) for r in rows)
    return found


def replace_extraction(
    session: Session,
    *,
    document_id: int,
    rankings: Sequence[Mapping[str, Any]],
    indicators: Sequence[Mapping[str, Any]],
    extractor_version: str,
    run_id: str | None,
) -> list[RankingFact]:
    """Store one document's extraction, dropping its records that the new extraction no longer yields.

    Records are mappings with the `chiso extract` fields plus `country`; those without an entity are
    skipped. Returns the entity × program × year × status facts that no document had before.
    """
    entity_rows = [
        {
            "name": r["entity"],
            "country": r["country"],
            "local_name": r.get("entity_local"),
            "kind": "community",
        }
        for r in [*rankings, *indicators]
        if r.get("entity") and r.get("country")
    ]
    ids = ensure_entities(session, entity_rows, run_id=run_id)
    mention_rows = [
        {
            "document_id": document_id,
            "entity_id": ids[(r["entity"], r["country"])],
            "program_code": r["program"],
            "year": r.get("year"),
            "year_key": r.get("year") or 0,
            "status": r["status"],
            "rank": r.get("rank"),
            "rank_key": r.get("rank") or 0,
            "out_of": r.get("out_of"),
            "year_inferred": bool(r.get("year_inferred")),
            "evidence": r["evidence"],
            "start": r["start"],
            "end": r["end"],
            "extractor_version": extractor_version,
        }
        for r in rankings
        if r.get("entity") and r.get("country")
    ]
    value_rows = [
        {
            "document_id": document_id,
            "entity_id": ids[(r["entity"], r["country"])],
            "indicator_code": r.get("indicator"),
            "label": r.get("label"),
            "indicator_key": indicator_key(r.get("indicator"), r.get("label")),
            "value": float(r["value"]),
            "unit": r["unit"],
            "period": r.get("period"),
            "period_key": r.get("period") or "",
            "qualifier": r.get("qualifier"),
            "status": r.get("status") or "actual",
            "evidence": r["evidence"],
            "start": r["start"],
            "end": r["end"],
            "extractor_version": extractor_version,
        }
        for r in indicators
        if r.get("entity") and r.get("country")
    ]
    facts = {(m["entity_id"], m["program_code"], m["year"], m["status"]) for m in mention_rows}
    known_before = _ranking_facts(session, facts)

    _delete_stale(session, RankingMention, document_id, mention_rows)
    _delete_stale(session, IndicatorValue, document_id, value_rows)
    upsert(session, RankingMention, mention_rows, run_id=run_id)
    upsert(session, IndicatorValue, value_rows, run_id=run_id)
    documents = Document.__table__  # type: ignore[attr-defined]
    # Stamped only when the rules or the text changed since the last extraction, so a re-run changes nothing.
    session.execute(
        documents.update()
        .where(documents.c.id == document_id)
        .where(
            or_(
                documents.c.extractor_version.is_distinct_from(extractor_version),
                documents.c.extracted_at.is_(None),
                documents.c.extracted_at < documents.c.updated_at,
            )
        )
        .values(extractor_version=extractor_version, extracted_at=utcnow())
    )

    names = {v: k for k, v in ids.items()}
    return [
        RankingFact(entity=names[e][0], country=names[e][1], program=p, year=y, status=s)
        for e, p, y, s in sorted(facts - known_before, key=lambda f: (f[0], f[1], f[2] or 0, f[3]))
    ]


def indicator_key(code: str | None, label: str | None) -> str:
    """What stands for the indicator in a figure's natural key: its code, else "label:<label>"."""
    if code:
        return code
    if not label:
        raise ValueError("an indicator value needs a code or a label")
    return f"label:{label}"[:300]


def _delete_stale(
    session: Session, model: type[SQLModel], document_id: int, rows: Sequence[Mapping[str, Any]]
) -> None:
    keys = NATURAL_KEYS[model]
    table = model.__table__  # type: ignore[attr-defined]
    keep = {tuple(r[k] for k in keys) for r in rows}
    existing = session.execute(
        select(*[table.c[k] for k in keys], table.c.id).where(table.c.document_id == document_id)
    )
    stale = [r.id for r in existing if tuple(r[:-1]) not in keep]
    if stale:
        session.execute(delete(table).where(table.c.id.in_(stale)))
