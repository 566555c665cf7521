"""Analyst-surface fixtures: a small database about Bình Dương with rankings, evidence and conflicting figures."""

from __future__ import annotations

from typing import Any

import pytest

from models import migrate
from models.db import get_engine, session_scope
from models.store import replace_extraction, upsert_document
from tests.models import dataset


def load_analyst_data(url: str) -> str:
    """Bình Dương: Top7 2023 candidate in the press, achieved on ICF's page; FDI 2023 from two documents."""
    migrate.upgrade(url)
    engine = get_engine(url)
    with session_scope(engine) as session:
        dataset.store_reference(session, run_id="t")
        ids = [upsert_document(session, dataset.document(n), run_id="t").id for n in range(3)]
        extractions: list[tuple[list[dict[str, Any]], list[dict[str, Any]]]] = [
            ([dataset.ranking()], [dataset.indicator(value=1.5e9)]),
            ([], [dataset.indicator(value=2.1e9, evidence="Vốn FDI năm 2023 đạt 2,1 tỷ USD.")]),
            (
                [
                    dataset.ranking(
                        status="achieved", evidence="The Top7 Intelligent Communities of 2023 are:"
                    )
                ],
                [],
            ),
        ]
        for document_id, (rankings, indicators) in zip(ids, extractions, strict=True):
            replace_extraction(
                session,
                document_id=document_id,
                rankings=rankings,
                indicators=indicators,
                extractor_version="1",
                run_id="t",
            )
    return url


@pytest.fixture
def analyst_db(sqlite_url: str) -> str:
    """The analyst data in SQLite (what `chiso browse` and the browser tests read)."""
    return load_analyst_data(sqlite_url)


@pytest.fixture
def analyst_db_any(db_url: str) -> str:
    """The analyst data on each backend, SQLite and PostgreSQL."""
    return load_analyst_data(db_url)
