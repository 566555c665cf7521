"""Flows under one Prefect test harness, and their stage functions without Prefect, on the local web."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from flows import events
from flows.backfill import chunks
from flows.errors import ChisoError
from flows.extraction import extract_document, pending_documents
from flows.orchestration import transient
from flows.pipeline import Pipeline, day_range, host_map_from_env
from models.db import get_engine, session_scope
from models.store import upsert_document

RECORD_TABLES = ("document", "raw_page", "ranking_mention", "indicator_value", "entity", "source")


@pytest.fixture(scope="module", autouse=True)
def prefect_harness() -> Iterator[None]:
    """One temporary Prefect API for the flow tests of this module."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=60):
        yield


def dump(engine: Engine, tables: tuple[str, ...] = RECORD_TABLES) -> dict[str, list[tuple[Any, ...]]]:
    """The stored records, without the run bookkeeping that differs between runs."""
    skip = {
        "run_id",
        "created_at",
        "updated_at",
        "fetched_at",
        "extracted_at",
        "id",
        "document_id",
        "entity_id",
    }
    out: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as connection:
        for table in tables:
            result = connection.execute(text(f"SELECT * FROM {table}"))
            keep = [i for i, name in enumerate(result.keys()) if name not in skip]
            out[table] = sorted((tuple(row[i] for i in keep) for row in result), key=repr)
    return out


# --- stage functions, no Prefect ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("since", "until", "size", "expected"),
    [
        (
            date(2023, 1, 15),
            date(2023, 3, 2),
            "month",
            [
                ("2023-01", date(2023, 1, 15), date(2023, 1, 31)),
                ("2023-02", date(2023, 2, 1), date(2023, 2, 28)),
                ("2023-03", date(2023, 3, 1), date(2023, 3, 2)),
            ],
        ),
        (
            date(2023, 12, 30),
            date(2024, 1, 1),
            "month",
            [
                ("2023-12", date(2023, 12, 30), date(2023, 12, 31)),
                ("2024-01", date(2024, 1, 1), date(2024, 1, 1)),
            ],
        ),
        (
            date(2024, 1, 3),
            date(2024, 1, 10),
            "week",
            [
                ("2024-W01", date(2024, 1, 3), date(2024, 1, 7)),
                ("2024-W02", date(2024, 1, 8), date(2024, 1, 10)),
            ],
        ),
    ],
)
def test_chunks_cover_the_range_exactly(since: date, until: date, size: Any, expected: list[Any]) -> None:
    assert chunks(since, until, size=size) == expected


def test_chunks_refuse_a_reversed_range() -> None:
    with pytest.raises(ChisoError, match="is after"):
        chunks(date(2024, 2, 1), date(2024, 1, 1), size="month")


def test_day_range_spans_whole_days_in_utc() -> None:
    assert day_range(date(2023, 5, 1), date(2023, 5, 2)) == (
        datetime(2023, 5, 1, tzinfo=UTC),
        datetime(2023, 5, 3, tzinfo=UTC),
    )


def test_host_map_from_env_rejects_a_malformed_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHISO_HOST_MAP", "vov.vn:127.0.0.1")
    with pytest.raises(ChisoError, match="host=address"):
        host_map_from_env()


def test_extract_document_stores_the_records_and_is_then_no_longer_pending(flow_db: str) -> None:
    engine = get_engine(flow_db)
    with session_scope(engine) as session:
        doc = upsert_document(
            session,
            {
                "url": "https://vov.vn/kinh-te/top7.vov",
                "lang": "vi",
                "title": "Top 7",
                "text": "Tỉnh Bình Dương lọt Top 7 cộng đồng thông minh của năm 2023.",
                "published_at": datetime(2023, 6, 21, tzinfo=UTC),
            },
            run_id="t",
        )
    assert pending_documents(engine) == [doc.id]
    result = extract_document(engine, doc.id, run_id="t")
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT entity, program, year FROM v_ranking_evidence WHERE document_id = :d"), {"d": doc.id}
        ).all()
    assert [tuple(r) for r in rows] == [("Binh Duong", "icf_top7", 2023)]
    assert (result.rankings, pending_documents(engine)) == (1, [])


@pytest.mark.parametrize(
    ("error", "retried"),
    [
        (OperationalError("INSERT", {}, Exception("database is locked")), True),
        (ConnectionError("reset by peer"), True),
        (ValueError("a bug"), False),
        (ChisoError("run `chiso db upgrade`"), False),
    ],
)
def test_tasks_retry_only_transient_errors(error: Exception, retried: bool) -> None:
    from prefect.states import Failed

    assert transient(None, None, Failed(data=error)) is retried


@pytest.mark.parametrize(
    ("totals", "fails"),
    [
        ({"stored": 0, "not_modified": 0, "errors": 6}, True),
        ({"stored": 3, "not_modified": 0, "errors": 2}, False),
        ({"stored": 0, "not_modified": 12, "errors": 0}, False),
        ({"stored": 0, "not_modified": 0, "errors": 0}, False),
    ],
)
def test_a_run_that_reached_no_page_is_an_error(totals: dict[str, int], fails: bool) -> None:
    from flows.cli import _summarise

    if fails:
        with pytest.raises(ChisoError, match="reached no page: 6 problems"):
            _summarise("ingest", totals)
    else:
        _summarise("ingest", totals)


# --- flows under the harness ----------------------------------------------------------------------


def test_ingest_stores_and_extracts_the_sample_sites(pipeline: Pipeline, recorded_events: list[Any]) -> None:
    from flows.ingest import ingest

    totals = ingest(since=date(2023, 1, 1), until=date(2025, 12, 31))
    stored = [e for e in recorded_events if e[0] == events.DOCUMENT_STORED]
    detected = [e for e in recorded_events if e[0] == events.RANKING_DETECTED]
    with pipeline.engine.connect() as connection:
        documents = connection.execute(text("SELECT count(*) FROM document")).scalar()
        binh_duong = connection.execute(
            text(
                "SELECT count(*) FROM v_rankings WHERE entity = 'Binh Duong' AND program = 'icf_top7' AND year = 2023"
            )
        ).scalar()
        run = connection.execute(text("SELECT kind, status FROM run")).one()
    assert totals["stored"] == documents == len(stored) > 20
    assert totals["failed"] == 0
    assert binh_duong == 1
    assert len(detected) == totals["new_rankings"] > 0
    assert tuple(run) == ("ingest", "completed")


def test_ingest_twice_changes_no_record_and_fetches_conditionally(
    pipeline: Pipeline, recorded_events: list[Any]
) -> None:
    from flows.ingest import ingest

    ingest(since=date(2023, 1, 1), until=date(2025, 12, 31))
    first = dump(pipeline.engine)
    recorded_events.clear()
    second = ingest(since=date(2023, 1, 1), until=date(2025, 12, 31))
    assert dump(pipeline.engine) == first
    assert (second["stored"], second["new_rankings"], recorded_events) == (0, 0, [])
    assert second["not_modified"] > 20


def test_documents_stored_but_never_extracted_are_extracted_by_the_next_run_that_gets_304(
    pipeline: Pipeline, recorded_events: list[Any]
) -> None:
    from flows.ingest import ingest

    ingest(since=date(2023, 1, 1), until=date(2025, 12, 31), extract=False)  # as if killed before extracting
    second = ingest(since=date(2023, 1, 1), until=date(2025, 12, 31))
    assert (second["stored"], second["not_modified"] > 20, second["rankings"] > 0) == (0, True, True)
    assert pending_documents(pipeline.engine) == []


def test_a_dead_site_is_reported_and_the_other_sources_are_stored(pipeline: Pipeline, web: Any) -> None:
    from flows.ingest import ingest

    web.fault("vov.vn", None, "status", code=503)
    totals = ingest(sources=["vov", "vnexpress"], since=date(2023, 1, 1), until=date(2025, 12, 31))
    with pipeline.engine.connect() as connection:
        per_source = dict(
            connection.execute(text("SELECT source_code, count(*) FROM document GROUP BY source_code")).all()
        )
        errors = connection.execute(text("SELECT errors FROM run")).scalar()
    assert "vov" not in per_source and per_source["vnexpress"] >= 1
    assert totals["errors"] >= 1
    assert any("vov" in line and "503" in line for line in (errors if isinstance(errors, list) else [errors]))


def test_unknown_source_code_is_a_clear_error(pipeline: Pipeline) -> None:
    from flows.ingest import ingest

    with pytest.raises(ChisoError, match="unknown source 'nope'"):
        ingest(sources=["nope"])


def test_sync_icf_stores_official_rankings(pipeline: Pipeline, recorded_events: list[Any]) -> None:
    from flows.sync_icf import sync_icf

    sync_icf(years=[2023])
    with pipeline.engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT entity, official FROM v_rankings WHERE program = 'icf_top7' AND year = 2023 ORDER BY entity"
            )
        ).all()
    assert len(rows) == 7
    assert all(bool(official) for _, official in rows)
    assert "Binh Duong" in [entity for entity, _ in rows]


def test_extract_flow_reextracts_every_document_on_request(
    pipeline: Pipeline, recorded_events: list[Any]
) -> None:
    from flows.extract import extract
    from flows.ingest import ingest

    ingest(sources=["baobinhduong"], since=date(2023, 1, 1), until=date(2025, 12, 31), extract=False)
    first = extract()
    again = extract()
    forced = extract(reextract=True)
    assert first["documents"] >= 1
    assert (again["documents"], forced["documents"]) == (0, first["documents"])
    assert forced["new_rankings"] == 0


def test_backfill_walks_monthly_sitemaps_and_skips_finished_chunks(
    pipeline: Pipeline, web: Any, recorded_events: list[Any]
) -> None:
    from flows.backfill import backfill

    first = backfill(since=date(2023, 1, 1), until=date(2023, 12, 31), sources=["nhandan", "baobinhduong"])
    with pipeline.engine.connect() as connection:
        finished = connection.execute(text("SELECT count(*) FROM backfill_chunk")).scalar()
    requests_before = len(web.log)
    second = backfill(since=date(2023, 1, 1), until=date(2023, 12, 31), sources=["nhandan", "baobinhduong"])
    assert first["stored"] >= 2
    assert finished == 24
    assert second["discovered"] == 0
    assert len(web.log) == requests_before


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("flows.ingest", "ingest"),
        ("flows.backfill", "backfill"),
        ("flows.extract", "extract"),
        ("flows.sync_icf", "sync_icf"),
    ],
)
def test_every_flow_parameter_has_a_description_for_the_ui_form(module: str, name: str) -> None:
    import importlib

    from prefect.utilities.callables import parameter_schema

    flow = getattr(importlib.import_module(module), name)
    properties = parameter_schema(flow.fn).model_dump()["properties"]
    assert properties
    assert {p: bool(v.get("description")) for p, v in properties.items()} == dict.fromkeys(properties, True)
