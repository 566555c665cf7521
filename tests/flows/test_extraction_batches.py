"""The extract stage in batches: one call for many stored documents, the same outcome as one call each."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine

from flows.database import upgrade_and_seed
from flows.extraction import DocumentExtraction, extract_document, extract_documents, pending_documents
from models.db import get_engine, session_scope
from models.store import RankingFact, upsert_documents

TEXTS = (
    "Tỉnh Bình Dương lọt Top 7 cộng đồng thông minh của năm 2023.",
    "Năm 2023, Bình Dương lọt Top 7 cộng đồng thông minh thế giới.",
    "Giá lúa tuần này ổn định.",
)
TOP7_2023 = RankingFact(entity="Binh Duong", country="VN", program="icf_top7", year=2023, status="achieved")


def store(engine: Engine) -> list[int]:
    rows = [
        {
            "url": f"https://vov.vn/kinh-te/bai-{n}.vov",
            "lang": "vi",
            "title": f"Bài {n}",
            "text": body,
            "published_at": datetime(2023, 6, 21, tzinfo=UTC),
        }
        for n, body in enumerate(TEXTS)
    ]
    with session_scope(engine) as session:
        return [doc.id for doc in upsert_documents(session, rows, run_id="t")]


def records(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as connection:
        query = "SELECT document_id, entity, program, year, status FROM v_ranking_evidence ORDER BY 1"
        return [tuple(r) for r in connection.execute(text(query))]


def test_extract_documents_reports_each_document_and_skips_a_missing_id(flow_db: str) -> None:
    engine = get_engine(flow_db)
    a, b, c = store(engine)
    results = extract_documents(engine, [a, b, c, 999], run_id="t")
    assert (results, pending_documents(engine)) == (
        [
            DocumentExtraction(document_id=a, rankings=1, indicators=0, new_rankings=[TOP7_2023]),
            DocumentExtraction(document_id=b, rankings=1, indicators=0, new_rankings=[]),
            DocumentExtraction(document_id=c, rankings=0, indicators=0, new_rankings=[]),
            DocumentExtraction(document_id=999, skipped=True),
        ],
        [],
    )


def test_extract_documents_stores_what_one_call_per_document_stores(flow_db: str, tmp_path: Path) -> None:
    batched = get_engine(flow_db)
    extract_documents(batched, store(batched), run_id="t")
    single_url = f"sqlite:///{tmp_path / 'single.db'}"
    upgrade_and_seed(single_url)
    single = get_engine(single_url)
    for document_id in store(single):
        extract_document(single, document_id, run_id="t")
    assert records(batched) == records(single)
