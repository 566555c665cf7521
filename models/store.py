"""Writes: batched upserts on natural keys, each stamped with the run that made them."""

from __future__ import annotations

import functools
import hashlib
import re
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import and_, bindparam, delete, or_, select, text, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import psycopg2 as _psycopg2
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
    for name, factory, default in _defaults(model):
        if name == "id" and "id" not in row:
            continue
        if name in row:
            full[name] = row[name]
        else:
            full[name] = factory() if factory is not None else default
    if "run_id" in full:
        full["run_id"] = run_id
    return full


@functools.cache
def _defaults(model: type[SQLModel]) -> tuple[tuple[str, Callable[[], Any] | None, Any], ...]:
    """Each field's default factory or default, read once (pydantic's get_default inspects the factory's
    signature on every call, which cost more than the statements here)."""
    out = []
    for name, field in model.model_fields.items():
        factory = field.default_factory
        out.append((name, cast(Callable[[], Any], factory), None) if factory else (name, None, field.default))
    return tuple(out)


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
    All rows go through one prepared INSERT ... ON CONFLICT, executed for many rows at once
    (executemany), in order, so a key given twice ends as the later row, exactly as one call per row.
    """
    keys = NATURAL_KEYS[model]
    given = list(rows)
    if not given:
        return 0
    prepared = [_complete(model, row, run_id=run_id) for row in given]
    # Only the columns the caller gave are compared and updated: an omitted column keeps its stored value.
    data_columns = tuple(c for c in given[0] if c not in keys and c not in _BOOKKEEPING)
    names = tuple(prepared[0])
    dialect = session.get_bind().dialect
    shape = (dialect.name, model, names, data_columns, update)
    stmt = _STATEMENTS.get(shape)
    if stmt is None:
        stmt = _STATEMENTS[shape] = _upsert_statement(
            session, model, names, data_columns=data_columns, update=update
        )
    for start in range(0, len(prepared), BATCH_SIZE):
        session.execute(stmt, prepared[start : start + BATCH_SIZE])
    return len(prepared)


def _upsert_statement(
    session: Session,
    model: type[SQLModel],
    names: Sequence[str],
    *,
    data_columns: Sequence[str],
    update: bool,
) -> Any:
    """The INSERT ... ON CONFLICT for rows with these columns, as a typed text() clause.

    SQLAlchemy never caches its dialect-specific upserts (their Insert sets inherit_cache = False), so
    without this every call compiled the statement again; a text() clause is compiled once and cached.
    Measured against multi-row VALUES statements (500 rows per statement, also cached): the same speed on
    SQLite and a third of it on PostgreSQL, where psycopg re-parses every query longer than 4 kB.
    """
    keys = NATURAL_KEYS[model]
    table = model.__table__  # type: ignore[attr-defined]
    stmt = _insert(session, model).values({n: bindparam(n, type_=table.c[n].type) for n in names})
    if update and data_columns:
        changed: list[ColumnElement[bool]] = [
            table.c[c].is_distinct_from(stmt.excluded[c]) for c in data_columns
        ]
        columns = [*data_columns, *(c for c in ("run_id", "updated_at") if c in names)]
        set_ = {c: stmt.excluded[c] for c in columns}
        stmt = stmt.on_conflict_do_update(index_elements=list(keys), set_=set_, where=or_(*changed))
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=list(keys))
    dialect = session.get_bind().dialect
    # Named ":param" placeholders for text(); psycopg 3's dialect would append "::TYPE" casts (and
    # psycopg2's does for JSON) that text() cannot read: those become CAST(:param AS TYPE).
    kind: Any = _psycopg2.dialect if dialect.name == "postgresql" else type(dialect)
    named = kind(paramstyle="named")
    compiled = stmt.compile(dialect=named)
    sql = re.sub(r":(\w+)::([A-Za-z_][\w ]*(?:\[\])?)", r"CAST(:\1 AS \2)", str(compiled))
    binds = [bindparam(name, type_=param.type) for name, param in compiled.binds.items()]
    return text(sql).bindparams(*binds)


# Bound parameters per statement, under SQLite's default limit (32766) and PostgreSQL's (65535).
_MAX_PARAMS = 30_000
_STATEMENTS: dict[tuple[Any, ...], Any] = {}


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
    page = {"url": url, "body": body, "content_type": content_type, "encoding": encoding}
    return store_raw_pages(session, [page | {"fetched_at": fetched_at}], run_id=run_id)[0]


def store_raw_pages(session: Session, pages: Sequence[Mapping[str, Any]], *, run_id: str | None) -> list[str]:
    """Archive responses (keys url, body, content_type, encoding, optional fetched_at) in one insert-or-ignore.

    Returns each page's content hash, in order; bytes already archived are left as they are.
    """
    rows = []
    for page in pages:
        body: bytes = page["body"]
        rows.append(
            {
                "content_hash": content_hash(body),
                "url": page["url"],
                "content_type": page.get("content_type"),
                "encoding": page.get("encoding"),
                "size": len(body),
                "body": zlib.compress(body, 6),
                "fetched_at": page.get("fetched_at") or utcnow(),
            }
        )
    upsert(session, RawPage, rows, run_id=run_id, update=False)
    return [row["content_hash"] for row in rows]


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
    return upsert_documents(session, [row], run_id=run_id)[0]


def upsert_documents(
    session: Session, rows: Sequence[Mapping[str, Any]], *, run_id: str | None
) -> list[StoredDocument]:
    """Store documents by canonical URL in batched upserts; one StoredDocument per row, in order.

    A URL given twice is stored in order (the later row wins), and `changed` compares each row with
    what was stored just before it, as one call per row would.
    """
    if not rows:
        return []
    table = Document.__table__  # type: ignore[attr-defined]
    data = [dict(row) for row in rows]
    for item in data:
        item.setdefault("content_hash", content_hash(item.get("text") or ""))
    urls = sorted({item["url"] for item in data})
    stored = _by_url(session, select(table.c.url, table.c.content_hash), table, urls)
    now = utcnow()
    hashes: dict[str, str | None] = {url: row.content_hash for url, row in stored.items()}
    changed: list[bool] = []
    for item in data:
        url = item["url"]
        if url in hashes:
            item["updated_at"] = now
            item.pop("created_at", None)
            changed.append(hashes[url] != item["content_hash"])
        else:
            changed.append(True)
        hashes[url] = item["content_hash"]
    upsert(session, Document, data, run_id=run_id)
    ids = _by_url(session, select(table.c.url, table.c.id), table, urls)
    return [
        StoredDocument(id=ids[item["url"]].id, changed=flag) for item, flag in zip(data, changed, strict=True)
    ]


def _by_url(session: Session, query: Any, table: Any, urls: Sequence[str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for start in range(0, len(urls), BATCH_SIZE):
        chunk = list(urls[start : start + BATCH_SIZE])
        found.update({r.url: r for r in session.execute(query.where(table.c.url.in_(chunk)))})
    return found


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


@dataclass(frozen=True)
class Extraction:
    """One document's extraction, as `replace_extractions` stores it (records in the `chiso extract` shape)."""

    rankings: Sequence[Mapping[str, Any]]
    indicators: Sequence[Mapping[str, Any]]
    extractor_version: str


_Fact = tuple[int, str, int | None, str]


def _fact_holders(
    session: Session, facts: Iterable[_Fact], *, batch: Sequence[int]
) -> tuple[set[_Fact], dict[_Fact, set[int]]]:
    """Which facts a stored mention of a document outside `batch` holds, and which batch documents hold each.

    Outside the batch only existence is asked (EXISTS stops at the first mention), so the cost does not
    grow with the number of documents that state a fact; inside, at most the batch's documents come back.
    """
    wanted = sorted(set(facts), key=_fact_order)
    outside: set[_Fact] = set()
    inside: dict[_Fact, set[int]] = {}
    if not wanted:
        return outside, inside

    ids = sorted(set(batch))
    for start in range(0, len(wanted), 200):
        chunk = wanted[start : start + 200]
        params: dict[str, Any] = {}
        for i, (e, p, y, s) in enumerate(chunk):
            params.update({f"e{i}": e, f"p{i}": p, f"y{i}": y or 0, f"s{i}": s})
        hits = session.execute(_holder_query(len(chunk), inside=False), params | {"ids": ids})
        outside |= {chunk[row[0]] for row in hits}
        for start_ids in range(0, len(ids), BATCH_SIZE):
            some = ids[start_ids : start_ids + BATCH_SIZE]
            for i, document_id in session.execute(
                _holder_query(len(chunk), inside=True), params | {"ids": some}
            ):
                inside.setdefault(chunk[i], set()).add(document_id)
    return outside, inside


@functools.cache
def _holder_query(facts: int, *, inside: bool) -> Any:
    """Facts given as parameters e<i>, p<i>, y<i>, s<i> (entity id, program, year key, status): with `inside`,
    the (fact index, document) pairs of the documents in :ids holding them; else the indexes of the facts a
    mention of a document not in :ids holds (EXISTS stops at the first such mention).

    Plain SQL in one shape per fact count: the same questions as SQLAlchemy expressions took longer to
    compile than to run on a fresh engine.
    """
    values = ", ".join(
        f"(CAST({i} AS INTEGER), CAST(:e{i} AS INTEGER), CAST(:p{i} AS TEXT), CAST(:y{i} AS INTEGER), "
        f"CAST(:s{i} AS TEXT))"
        for i in range(facts)
    )
    same = "m.entity_id = f.e AND m.program_code = f.p AND m.year_key = f.yk AND m.status = f.s"
    if inside:
        query = f"SELECT DISTINCT f.i, m.document_id FROM f JOIN ranking_mention m ON {same} AND m.document_id IN :ids"
    else:
        query = f"SELECT f.i FROM f WHERE EXISTS (SELECT 1 FROM ranking_mention m WHERE {same} AND m.document_id NOT IN :ids)"
    return text(f"WITH f(i, e, p, yk, s) AS (VALUES {values}) {query}").bindparams(
        bindparam("ids", expanding=True)
    )


def _fact_order(fact: _Fact) -> tuple[int, str, int, str]:
    return (fact[0], fact[1], fact[2] or 0, fact[3])


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
    extraction = Extraction(rankings=rankings, indicators=indicators, extractor_version=extractor_version)
    return replace_extractions(session, [(document_id, extraction)], run_id=run_id)[0]


def replace_extractions(
    session: Session, items: Sequence[tuple[int, Extraction]], *, run_id: str | None
) -> list[list[RankingFact]]:
    """Store many documents' extractions at once, with the same rows and facts as one call per document.

    One insert-or-ignore for new entities, one DELETE per record table for the stale records of all the
    documents, multi-row upserts for the records, one UPDATE for the extraction stamps. Returns, per item
    in order, the facts no document had before it (a fact new to the batch is reported by its first
    document only). A document given twice starts a new round, so the later extraction wins.
    """
    results: list[list[RankingFact]] = []
    start = 0
    while start < len(items):
        seen: set[int] = set()
        end = start
        while end < len(items) and items[end][0] not in seen:
            seen.add(items[end][0])
            end += 1
        results.extend(_replace_round(session, items[start:end], run_id=run_id))
        start = end
    return results


def _replace_round(
    session: Session, items: Sequence[tuple[int, Extraction]], *, run_id: str | None
) -> list[list[RankingFact]]:
    # Entities: each document's unknown ones in its order, the first document naming one creating it.
    entity_rows: dict[tuple[str, str], dict[str, Any]] = {}
    for _, extraction in items:
        own: dict[tuple[str, str], dict[str, Any]] = {}
        for r in [*extraction.rankings, *extraction.indicators]:
            if r.get("entity") and r.get("country"):
                own[(r["entity"], r["country"])] = {
                    "name": r["entity"],
                    "country": r["country"],
                    "local_name": r.get("entity_local"),
                    "kind": "community",
                }
        for key, row in own.items():
            entity_rows.setdefault(key, row)
    ids = ensure_entities(session, list(entity_rows.values()), run_id=run_id)
    mention_rows: list[dict[str, Any]] = []
    value_rows: list[dict[str, Any]] = []
    doc_facts: list[set[_Fact]] = []
    for document_id, extraction in items:
        mentions = _mention_rows(document_id, extraction, ids)
        mention_rows += mentions
        value_rows += _value_rows(document_id, extraction, ids)
        doc_facts.append({(m["entity_id"], m["program_code"], m["year"], m["status"]) for m in mentions})
    document_ids = [document_id for document_id, _ in items]
    known_outside, holders = _fact_holders(session, set().union(*doc_facts), batch=document_ids)

    _delete_stale_many(session, RankingMention, document_ids, mention_rows)
    _delete_stale_many(session, IndicatorValue, document_ids, value_rows)
    upsert(session, RankingMention, mention_rows, run_id=run_id)
    upsert(session, IndicatorValue, value_rows, run_id=run_id)
    _stamp_extracted(session, items)

    # A fact is new to a document when no stored mention outside the documents before it in the batch held
    # it, and none of those documents yields it (their old mentions were replaced by their new ones).
    names = {v: k for k, v in ids.items()}
    results: list[list[RankingFact]] = []
    earlier: set[int] = set()
    yielded: set[_Fact] = set()
    for (document_id, _), facts in zip(items, doc_facts, strict=True):
        new = {
            f
            for f in facts
            if f not in yielded and f not in known_outside and not (holders.get(f, set()) - earlier)
        }
        results.append(
            [
                RankingFact(entity=names[e][0], country=names[e][1], program=p, year=y, status=s)
                for e, p, y, s in sorted(new, key=_fact_order)
            ]
        )
        earlier.add(document_id)
        yielded |= facts
    return results


def _mention_rows(
    document_id: int, extraction: Extraction, ids: Mapping[tuple[str, str], int]
) -> list[dict[str, Any]]:
    return [
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
            "extractor_version": extraction.extractor_version,
        }
        for r in extraction.rankings
        if r.get("entity") and r.get("country")
    ]


def _value_rows(
    document_id: int, extraction: Extraction, ids: Mapping[tuple[str, str], int]
) -> list[dict[str, Any]]:
    return [
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
            "extractor_version": extraction.extractor_version,
        }
        for r in extraction.indicators
        if r.get("entity") and r.get("country")
    ]


def _stamp_extracted(session: Session, items: Sequence[tuple[int, Extraction]]) -> None:
    """Stamp the documents' extraction, only where the rules or the text changed since the last one."""
    documents = Document.__table__  # type: ignore[attr-defined]
    now = utcnow()
    by_version: dict[str, list[int]] = {}
    for document_id, extraction in items:
        by_version.setdefault(extraction.extractor_version, []).append(document_id)
    for version, document_ids in by_version.items():
        for start in range(0, len(document_ids), BATCH_SIZE):
            session.execute(
                documents.update()
                .where(documents.c.id.in_(document_ids[start : start + BATCH_SIZE]))
                .where(
                    or_(
                        documents.c.extractor_version.is_distinct_from(version),
                        documents.c.extracted_at.is_(None),
                        documents.c.extracted_at < documents.c.updated_at,
                    )
                )
                .values(extractor_version=version, extracted_at=now)
            )


def indicator_key(code: str | None, label: str | None) -> str:
    """What stands for the indicator in a figure's natural key: its code, else "label:<label>"."""
    if code:
        return code
    if not label:
        raise ValueError("an indicator value needs a code or a label")
    return f"label:{label}"[:300]


def _delete_stale_many(
    session: Session, model: type[SQLModel], document_ids: Sequence[int], rows: Sequence[Mapping[str, Any]]
) -> None:
    """Delete the documents' records whose natural key is not among `rows`: one DELETE per parameter-sized
    group of documents (one for a usual batch)."""
    keys = NATURAL_KEYS[model]
    table = model.__table__  # type: ignore[attr-defined]
    keep: dict[int, set[tuple[Any, ...]]] = {document_id: set() for document_id in document_ids}
    for r in rows:
        keep[r["document_id"]].add(tuple(r[k] for k in keys))
    group: list[int] = []
    params = 0
    for document_id in [*document_ids, None]:
        size = len(keep[document_id]) * len(keys) + 1 if document_id is not None else 0
        if group and (document_id is None or params + size > _MAX_PARAMS):
            kept = sorted({key for d in group for key in keep[d]}, key=repr)
            condition = table.c.document_id.in_(group)
            if kept:
                condition = and_(condition, tuple_(*[table.c[k] for k in keys]).not_in(kept))
            session.execute(delete(table).where(condition))
            group, params = [], 0
        if document_id is not None:
            group.append(document_id)
            params += size
