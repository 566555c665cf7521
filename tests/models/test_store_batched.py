"""The batched writes give exactly the rows, ids and reports of one call per document (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import Engine

from models import migrate
from models.db import dispose_engines, get_engine, session_scope
from models.store import (
    Extraction,
    RankingFact,
    StoredDocument,
    replace_extraction,
    replace_extractions,
    store_raw_page,
    store_raw_pages,
    upsert_document,
    upsert_documents,
)
from tests.conftest import _counter
from tests.models import dataset
from tests.models.test_store import TABLES
from tests.pgcluster import PostgresCluster

# Written at "now": they differ between two databases loaded a moment apart, so only their presence is compared.
CLOCK_COLUMNS = {"created_at", "updated_at", "extracted_at"}
FETCHED_AT = datetime(2025, 11, 21, 12, 0, tzinfo=UTC)
# SQLite (no AUTOINCREMENT) gives a new row max(rowid) + 1: deleting a batch's stale records before inserting
# the new ones can hand the new records lower surrogate ids than deleting and inserting document by document.
# Kept records keep their ids (the re-run test); on PostgreSQL (sequences) the ids are compared as well.
RECORD_TABLES = {"ranking_mention", "indicator_value"}

Item = tuple[dict[str, Any], Extraction]


@pytest.fixture
def two_engines(
    request: pytest.FixtureRequest, db_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Engine, Engine]]:
    """Two fresh databases on the same backend: one loaded per document, one in batches."""
    if db_url.startswith("sqlite"):
        other = f"sqlite:///{tmp_path_factory.mktemp('db') / 'batched.db'}"
    else:
        cluster: PostgresCluster = request.getfixturevalue("pg_cluster")
        other = cluster.create_database(f"t{next(_counter)}")
    engines = []
    for url in (db_url, other):
        migrate.upgrade(url)
        engine = get_engine(url)
        with session_scope(engine) as session:
            dataset.store_reference(session, run_id="ref")
        engines.append(engine)
    yield engines[0], engines[1]
    dispose_engines()


def extraction(rankings: list[dict[str, Any]], indicators: list[dict[str, Any]], version: str) -> Extraction:
    return Extraction(rankings=rankings, indicators=indicators, extractor_version=version)


def first_pass() -> list[Item]:
    """Three documents; the first and third share a ranking fact, the third names a new community twice."""
    coral = dataset.ranking(entity="Coral Gables", evidence="Coral Gables, Florida, USA") | {
        "country": "US",
        "entity_local": "Coral Gables FL",
    }
    return [
        (dataset.document(0), extraction([dataset.ranking()], [dataset.indicator(value=1.5e9)], "1")),
        (dataset.document(1), extraction([], [dataset.indicator(value=2.1e9, status="estimate")], "1")),
        (
            dataset.document(2),
            extraction(
                [dataset.ranking(evidence="Binh Duong, Vietnam"), coral, coral | {"entity_local": None}],
                [],
                "1",
            ),
        ),
    ]


def second_pass() -> list[Item]:
    """New rules: records dropped, changed and added across all three documents, one text edited."""
    return [
        (dataset.document(0), extraction([], [dataset.indicator(value=1.6e9)], "2")),
        (
            dataset.document(1) | {"text": "Vốn FDI năm 2023 ước đạt 2,2 tỷ USD."},
            extraction(
                [dataset.ranking(status="achieved"), dataset.ranking()],
                [dataset.indicator(value=2.2e9, status="estimate")],
                "2",
            ),
        ),
        (dataset.document(2), extraction([dataset.ranking(evidence="Binh Duong, Vietnam")], [], "2")),
    ]


def load_one_by_one(engine: Engine, items: list[Item], *, run_id: str) -> tuple[list[Any], list[Any]]:
    stored: list[StoredDocument] = []
    facts: list[list[RankingFact]] = []
    with session_scope(engine) as session:
        for row, ext in items:
            raw = store_raw_page(
                session,
                url=row["url"],
                body=row["text"].encode(),
                content_type="text/html",
                encoding="utf-8",
                run_id=run_id,
                fetched_at=FETCHED_AT,
            )
            doc = upsert_document(session, row | {"raw_hash": raw}, run_id=run_id)
            stored.append(doc)
            facts.append(
                replace_extraction(
                    session,
                    document_id=doc.id,
                    rankings=ext.rankings,
                    indicators=ext.indicators,
                    extractor_version=ext.extractor_version,
                    run_id=run_id,
                )
            )
    return stored, facts


def load_batched(engine: Engine, items: list[Item], *, run_id: str) -> tuple[list[Any], list[Any]]:
    with session_scope(engine) as session:
        pages = [
            {
                "url": row["url"],
                "body": row["text"].encode(),
                "content_type": "text/html",
                "encoding": "utf-8",
                "fetched_at": FETCHED_AT,
            }
            for row, _ in items
        ]
        raws = store_raw_pages(session, pages, run_id=run_id)
        rows = [row | {"raw_hash": raw} for (row, _), raw in zip(items, raws, strict=True)]
        stored = upsert_documents(session, rows, run_id=run_id)
        facts = replace_extractions(
            session, [(doc.id, ext) for doc, (_, ext) in zip(stored, items, strict=True)], run_id=run_id
        )
    return stored, facts


def dump(engine: Engine, *, clocks: bool) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows in key order; without `clocks`, write-time stamps (and SQLite record ids) only as
    present or not."""
    out = {}
    with engine.connect() as connection:
        for table in sorted(TABLES):
            result = connection.execute(text(f"SELECT * FROM {table} ORDER BY 1"))
            names = list(result.keys())
            masked = set() if clocks else set(CLOCK_COLUMNS)
            if not clocks and table in RECORD_TABLES and engine.dialect.name == "sqlite":
                masked.add("id")
            out[table] = sorted(
                (
                    tuple(
                        (value is not None) if name in masked else value
                        for name, value in zip(names, row, strict=True)
                    )
                    for row in result
                ),
                key=repr,
            )
    return out


def test_batched_first_pass_writes_the_same_rows_as_one_by_one(two_engines: tuple[Engine, Engine]) -> None:
    single, batched = two_engines
    expected = load_one_by_one(single, first_pass(), run_id="run-1")
    got = load_batched(batched, first_pass(), run_id="run-1")
    assert (got, dump(batched, clocks=False)) == (expected, dump(single, clocks=False))


def test_batched_reextraction_removes_the_same_stale_records(two_engines: tuple[Engine, Engine]) -> None:
    single, batched = two_engines
    load_one_by_one(single, first_pass(), run_id="run-1")
    load_batched(batched, first_pass(), run_id="run-1")
    expected = load_one_by_one(single, second_pass(), run_id="run-2")
    got = load_batched(batched, second_pass(), run_id="run-2")
    assert (got, dump(batched, clocks=False)) == (expected, dump(single, clocks=False))


def test_batched_reextraction_reports_new_facts_like_one_by_one(two_engines: tuple[Engine, Engine]) -> None:
    _, batched = two_engines
    load_batched(batched, first_pass(), run_id="run-1")
    _, facts = load_batched(batched, second_pass(), run_id="run-2")
    achieved = RankingFact(
        entity="Binh Duong", country="VN", program="icf_top7", year=2023, status="achieved"
    )
    assert facts == [[], [achieved], []]


def test_batched_rerun_leaves_every_table_byte_identical(two_engines: tuple[Engine, Engine]) -> None:
    _, batched = two_engines
    load_batched(batched, first_pass(), run_id="run-1")
    load_batched(batched, second_pass(), run_id="run-2")
    before = dump(batched, clocks=True)
    stored, facts = load_batched(batched, second_pass(), run_id="run-3")
    assert (dump(batched, clocks=True), [s.changed for s in stored], facts) == (
        before,
        [False, False, False],
        [[], [], []],
    )


def test_a_url_and_a_document_given_twice_in_one_batch_end_as_one_by_one(
    two_engines: tuple[Engine, Engine],
) -> None:
    single, batched = two_engines
    items = [*first_pass(), *second_pass()]
    expected = load_one_by_one(single, items, run_id="run-1")
    got = load_batched(batched, items, run_id="run-1")
    assert (got, dump(batched, clocks=False)) == (expected, dump(single, clocks=False))


def test_stale_records_of_a_batch_go_in_one_delete_per_table(two_engines: tuple[Engine, Engine]) -> None:
    _, batched = two_engines
    load_batched(batched, first_pass(), run_id="run-1")
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement.split()[0].upper() + " " + statement.split()[2].strip('"'))

    event.listen(batched, "before_cursor_execute", record)
    try:
        load_batched(batched, second_pass(), run_id="run-2")
    finally:
        event.remove(batched, "before_cursor_execute", record)
    deletes = sorted(s for s in statements if s.startswith("DELETE"))
    assert deletes == ["DELETE indicator_value", "DELETE ranking_mention"]
