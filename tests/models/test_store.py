"""Storage on SQLite and on a real PostgreSQL: migrations, idempotent upserts, natural keys, views."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from models import migrate
from models.db import get_engine, session_scope
from models.store import (
    RankingFact,
    load_raw_page,
    replace_extraction,
    store_raw_page,
    upsert,
    upsert_document,
)
from models.tables import Document, Entity, Source
from tests.models import dataset

TABLES = {
    "source",
    "document",
    "raw_page",
    "entity",
    "entity_alias",
    "program",
    "indicator",
    "ranking_mention",
    "indicator_value",
    "run",
    "fetch_state",
    "host_state",
    "backfill_chunk",
}
VIEWS = {
    "v_rankings",
    "v_ranking_evidence",
    "v_indicator_values",
    "v_indicator_latest",
    "v_indicator_conflicts",
}


@pytest.fixture
def engine(db_url: str) -> Engine:
    migrate.upgrade(db_url)
    return get_engine(db_url)


def load_everything(engine: Engine, *, run_id: str) -> list[RankingFact]:
    """Reference data, three documents and their claims, as one run would write them."""
    facts: list[RankingFact] = []
    with session_scope(engine) as session:
        dataset.store_reference(session, run_id=run_id)
        ids = [upsert_document(session, dataset.document(n), run_id=run_id).id for n in range(3)]
        facts += replace_extraction(
            session,
            document_id=ids[0],
            rankings=[dataset.ranking()],
            indicators=[dataset.indicator(value=1.5e9)],
            extractor_version="1",
            run_id=run_id,
        )
        facts += replace_extraction(
            session,
            document_id=ids[1],
            rankings=[],
            indicators=[
                dataset.indicator(
                    value=2.1e9, status="estimate", evidence="Vốn FDI năm 2023 ước đạt 2,1 tỷ USD."
                )
            ],
            extractor_version="1",
            run_id=run_id,
        )
        facts += replace_extraction(
            session,
            document_id=ids[2],
            rankings=[
                dataset.ranking(evidence="Binh Duong, Vietnam"),
                dataset.ranking(entity="Coral Gables", evidence="Coral Gables, Florida, USA")
                | {"country": "US"},
            ],
            indicators=[],
            extractor_version="1",
            run_id=run_id,
        )
    return facts


def dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows, in key order."""
    with engine.connect() as connection:
        return {
            table: sorted(map(tuple, connection.execute(text(f"SELECT * FROM {table}"))), key=repr)
            for table in sorted(TABLES)
        }


def test_upgrade_creates_every_table_and_view(engine: Engine) -> None:
    names = set(inspect(engine).get_table_names()) | set(inspect(engine).get_view_names())
    assert names >= TABLES | VIEWS


def test_upgrade_twice_changes_nothing(db_url: str, engine: Engine) -> None:
    migrate.upgrade(db_url)
    assert migrate.current_revision(engine) == migrate.head_revision()


def test_downgrade_then_upgrade_restores_views(db_url: str, engine: Engine) -> None:
    from alembic import command

    command.downgrade(migrate.alembic_config(db_url), "0001")
    assert not set(inspect(engine).get_view_names()) & VIEWS
    migrate.upgrade(db_url)
    assert set(inspect(engine).get_view_names()) >= VIEWS


def test_writing_everything_twice_leaves_identical_tables(engine: Engine) -> None:
    load_everything(engine, run_id="run-1")
    first = dump(engine)
    load_everything(engine, run_id="run-2")
    assert dump(engine) == first


def test_unchanged_rows_keep_the_run_id_that_wrote_them(engine: Engine) -> None:
    load_everything(engine, run_id="run-1")
    load_everything(engine, run_id="run-2")
    with engine.connect() as connection:
        run_ids = {row[0] for row in connection.execute(text("SELECT run_id FROM ranking_mention"))}
    assert run_ids == {"run-1"}


def test_a_changed_row_takes_the_new_run_id(engine: Engine) -> None:
    load_everything(engine, run_id="run-1")
    changed = dataset.document(0) | {"title": "Bình Dương lọt Top 7 năm 2023"}
    with session_scope(engine) as session:
        stored = upsert_document(session, changed, run_id="run-2")
    with session_scope(engine) as session:
        document = session.get(Document, stored.id)
        assert document is not None
        assert (document.title, document.run_id) == ("Bình Dương lọt Top 7 năm 2023", "run-2")


def test_upsert_document_reports_new_then_unchanged_then_changed_text(engine: Engine) -> None:
    load_everything(engine, run_id="run-1")
    with session_scope(engine) as session:
        again = upsert_document(session, dataset.document(1), run_id="run-2")
        edited = upsert_document(
            session, dataset.document(1) | {"text": "Vốn FDI năm 2023 đạt 2,2 tỷ USD."}, run_id="run-2"
        )
    assert (again.changed, edited.changed, again.id == edited.id) == (False, True, True)


def test_natural_key_rejects_a_duplicate_entity(engine: Engine) -> None:
    with pytest.raises(IntegrityError), session_scope(engine) as session:
        session.add(Entity(name="Binh Duong", country="VN"))
        session.add(Entity(name="Binh Duong", country="VN"))
        session.flush()


def test_natural_key_rejects_a_duplicate_ranking_mention(engine: Engine) -> None:
    load_everything(engine, run_id="run-1")
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO ranking_mention (document_id, entity_id, program_code, year, year_key, status, rank, "
                'rank_key, out_of, year_inferred, evidence, start, "end", extractor_version, created_at, updated_at) '
                "SELECT document_id, entity_id, program_code, year, year_key, status, rank, rank_key, out_of, "
                'year_inferred, evidence, start, "end", extractor_version, created_at, updated_at FROM ranking_mention'
            )
        )


def test_status_outside_the_vocabulary_is_rejected(engine: Engine) -> None:
    load_everything(engine, run_id="run-1")
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(text("UPDATE ranking_mention SET status = 'won'"))


def test_new_ranking_facts_are_reported_once(engine: Engine) -> None:
    first = load_everything(engine, run_id="run-1")
    second = load_everything(engine, run_id="run-2")
    assert (first, second) == (
        [
            RankingFact(entity="Binh Duong", country="VN", program="icf_top7", year=2023, status="candidate"),
            RankingFact(
                entity="Coral Gables", country="US", program="icf_top7", year=2023, status="candidate"
            ),
        ],
        [],
    )


def test_reextraction_drops_records_the_new_rules_no_longer_yield(engine: Engine) -> None:
    load_everything(engine, run_id="run-1")
    with session_scope(engine) as session:
        doc_id = upsert_document(session, dataset.document(0), run_id="run-2").id
        replace_extraction(
            session,
            document_id=doc_id,
            rankings=[dataset.ranking(status="achieved")],
            indicators=[],
            extractor_version="2",
            run_id="run-2",
        )
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT status, extractor_version FROM ranking_mention WHERE document_id = :d"),
            {"d": doc_id},
        ).all()
        values = connection.execute(
            text("SELECT count(*) FROM indicator_value WHERE document_id = :d"), {"d": doc_id}
        ).scalar()
    assert ([tuple(r) for r in rows], values) == ([("achieved", "2")], 0)


def test_timestamps_read_back_timezone_aware_in_utc(engine: Engine) -> None:
    load_everything(engine, run_id="run-1")
    with session_scope(engine) as session:
        document = session.get(Document, 1)
        assert document is not None
        assert document.published_at == datetime(2023, 2, 3, 1, 30, tzinfo=UTC)
        assert document.published_at.utcoffset() is not None


def test_raw_page_round_trips_compressed(engine: Engine) -> None:
    body = "<html><body>Bình Dương</body></html>".encode() * 100
    with session_scope(engine) as session:
        digest = store_raw_page(
            session,
            url="https://vov.vn/a.vov",
            body=body,
            content_type="text/html",
            encoding="utf-8",
            run_id="run-1",
        )
        store_raw_page(
            session,
            url="https://vov.vn/a.vov",
            body=body,
            content_type="text/html",
            encoding="utf-8",
            run_id="run-2",
        )
    with session_scope(engine) as session:
        assert load_raw_page(session, digest) == body
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT size, length(body), run_id FROM raw_page")).one()
    assert (stored[0], stored[1] < len(body), stored[2]) == (len(body), True, "run-1")


def view(engine: Engine, sql: str) -> list[tuple[Any, ...]]:
    with engine.connect() as connection:
        return [tuple(r) for r in connection.execute(text(sql))]


def test_v_rankings_groups_mentions_per_entity_program_year_status(engine: Engine) -> None:
    load_everything(engine, run_id="run-1")
    rows = view(
        engine,
        "SELECT entity, program, year, status, documents, official, sources FROM v_rankings ORDER BY entity",
    )
    assert [(r[0], r[1], r[2], r[3], r[4], bool(r[5]), r[6]) for r in rows] == [
        ("Binh Duong", "icf_top7", 2023, "candidate", 2, True, "icf,vov"),
        ("Coral Gables", "icf_top7", 2023, "candidate", 1, True, "icf"),
    ]


def test_v_ranking_evidence_ties_each_mention_to_its_sentence(engine: Engine) -> None:
    load_everything(engine, run_id="run-1")
    rows = view(engine, "SELECT entity, url, evidence FROM v_ranking_evidence ORDER BY entity, url")
    assert rows == [
        ("Binh Duong", "https://vov.vn/kinh-te/binh-duong-top7-2023.vov", "Bình Dương vào Top 7 năm 2023."),
        ("Binh Duong", "https://www.intelligentcommunity.org/top7_2023", "Binh Duong, Vietnam"),
        ("Coral Gables", "https://www.intelligentcommunity.org/top7_2023", "Coral Gables, Florida, USA"),
    ]


def test_v_indicator_values_lists_every_figure(engine: Engine) -> None:
    load_everything(engine, run_id="run-1")
    rows = view(
        engine,
        "SELECT entity, indicator, period, value, unit, status, source FROM v_indicator_values "
        "ORDER BY value",
    )
    assert rows == [
        ("Binh Duong", "fdi_registered", "2023", 1.5e9, "USD", "actual", "vov"),
        ("Binh Duong", "fdi_registered", "2023", 2.1e9, "USD", "estimate", "vov"),
    ]


def _open_figures(engine: Engine, labels: list[str], *, document: int = 0) -> None:
    with session_scope(engine) as session:
        upsert(session, Source, dataset.SOURCES, run_id="run-1")
        doc_id = upsert_document(session, dataset.document(document), run_id="run-1").id
        replace_extraction(
            session,
            document_id=doc_id,
            rankings=[],
            indicators=[
                dataset.indicator(value=12.5, code=None, label=label, unit="%", evidence="Bán lẻ tăng 12,5%.")
                for label in labels
            ],
            extractor_version="1",
            run_id="run-1",
        )


def test_open_figures_with_the_same_value_and_different_labels_are_two_rows(engine: Engine) -> None:
    _open_figures(engine, ["retail sales growth", "services growth"])
    _open_figures(engine, ["retail sales growth", "services growth"])
    rows = view(engine, "SELECT indicator_code, label, indicator_key FROM indicator_value ORDER BY label")
    assert rows == [
        (None, "retail sales growth", "label:retail sales growth"),
        (None, "services growth", "label:services growth"),
    ]


def test_reextraction_drops_an_open_label_the_new_rules_no_longer_yield(engine: Engine) -> None:
    _open_figures(engine, ["retail sales growth", "services growth"])
    _open_figures(engine, ["services growth"])
    assert view(engine, "SELECT label FROM indicator_value") == [("services growth",)]


def test_a_figure_with_neither_code_nor_label_is_rejected(engine: Engine) -> None:
    _open_figures(engine, ["retail sales growth"])
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(text("UPDATE indicator_value SET label = NULL"))


def test_views_expose_the_label_of_open_figures(engine: Engine) -> None:
    load_everything(engine, run_id="run-1")
    _open_figures(engine, ["retail sales growth"], document=2)
    sql = "SELECT indicator, label, indicator_name, value FROM {} WHERE label IS NOT NULL"
    assert [view(engine, sql.format(v)) for v in ("v_indicator_values", "v_indicator_latest")] == [
        [(None, "retail sales growth", "retail sales growth", 12.5)]
    ] * 2


def test_upgrade_from_0003_keys_existing_figures_by_their_code(db_url: str) -> None:
    migrate.upgrade(db_url, revision="0003")
    engine = get_engine(db_url)
    now = {"n": datetime(2024, 1, 1, tzinfo=UTC)}
    with engine.begin() as connection:
        for sql in (
            "INSERT INTO entity (name, country, kind) VALUES ('Binh Duong', 'VN', 'province')",
            "INSERT INTO indicator (code, name_en, unit, synonyms) VALUES ('fdi_registered', 'FDI', 'USD', '{}')",
            "INSERT INTO document (url, text, created_at, updated_at) VALUES ('https://vov.vn/a', 't', :n, :n)",
            "INSERT INTO indicator_value (document_id, entity_id, indicator_code, value, unit, period_key, status, "
            'evidence, start, "end", extractor_version, created_at, updated_at) '
            "VALUES (1, 1, 'fdi_registered', 1.5e9, 'USD', '2023', 'actual', 'e', 0, 1, '1', :n, :n)",
        ):
            connection.execute(text(sql), now)
    migrate.upgrade(db_url)
    assert (
        view(engine, "SELECT indicator_code, indicator_key, label FROM indicator_value"),
        view(engine, "SELECT indicator, label, value FROM v_indicator_values"),
    ) == ([("fdi_registered", "fdi_registered", None)], [("fdi_registered", None, 1.5e9)])


def test_v_indicator_latest_keeps_the_most_recent_document_per_status(engine: Engine) -> None:
    load_everything(engine, run_id="run-1")
    with session_scope(engine) as session:
        later = dataset.document(1) | {
            "url": "https://vov.vn/kinh-te/fdi-2023-final.vov",
            "published_at": datetime(2024, 1, 5, tzinfo=UTC),
        }
        doc_id = upsert_document(session, later, run_id="run-1").id
        replace_extraction(
            session,
            document_id=doc_id,
            rankings=[],
            indicators=[dataset.indicator(value=1.9e9)],
            extractor_version="1",
            run_id="run-1",
        )
    rows = view(
        engine, "SELECT entity, indicator, period, value, status, url FROM v_indicator_latest ORDER BY status"
    )
    assert rows == [
        (
            "Binh Duong",
            "fdi_registered",
            "2023",
            1.9e9,
            "actual",
            "https://vov.vn/kinh-te/fdi-2023-final.vov",
        ),
        ("Binh Duong", "fdi_registered", "2023", 2.1e9, "estimate", "https://vov.vn/kinh-te/fdi-2023.vov"),
    ]
