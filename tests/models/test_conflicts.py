"""v_indicator_conflicts on SQLite and PostgreSQL: figures that disagree beyond rounding, and those that do not."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from models import migrate
from models.db import get_engine, session_scope
from models.store import replace_extraction, upsert_document
from tests.models import dataset

# (period, first document's figure, second document's figure, second's qualifier, second's status, disagree)
CASES = [
    ("2010", 3.5e9, 3.54e9, None, "actual", False),  # 3,54 rounds to 3,5
    ("2011", 3.5e9, 3.6e9, None, "actual", True),
    ("2012", 95.0, 96.0, None, "actual", True),
    ("2013", 95.5, 96.0, None, "actual", False),  # 95,5 rounds to 96
    ("2014", 3e9, 3.2e9, None, "actual", True),  # "3 tỷ" is read as 3,0 tỷ
    ("2015", 3.5e9, 3.6e9, "over", "actual", False),  # "hơn 3,5 tỷ" bounds, does not state
    ("2016", 1.5e9, 2.0e9, None, "target", False),  # a target is not the actual figure
    ("2017", 1.5e9, 1.5e9, None, "actual", False),
    ("2018", 1234.0, 1240.0, None, "actual", True),
]


def _figure(period: str, value: float, *, qualifier: str | None, status: str) -> dict[str, Any]:
    evidence = f"Vốn FDI năm {period} đạt {value:g} USD."
    return dataset.indicator(value=value, period=period, status=status, evidence=evidence) | {
        "qualifier": qualifier
    }


@pytest.fixture
def engine(db_url: str) -> Engine:
    migrate.upgrade(db_url)
    engine = get_engine(db_url)
    with session_scope(engine) as session:
        dataset.store_reference(session, run_id="t")
        first, second = (
            upsert_document(
                session,
                {
                    "url": f"https://vov.vn/kinh-te/fdi-{n}.vov",
                    "source_code": "vov",
                    "lang": "vi",
                    "title": f"FDI {n}",
                    "text": "Vốn FDI.",
                    "published_at": datetime(2024, 1, n, tzinfo=UTC),
                    "fetch_status": 200,
                },
                run_id="t",
            ).id
            for n in (1, 2)
        )
        replace_extraction(
            session,
            document_id=first,
            rankings=[],
            indicators=[_figure(p, a, qualifier=None, status="actual") for p, a, *_ in CASES],
            extractor_version="1",
            run_id="t",
        )
        replace_extraction(
            session,
            document_id=second,
            rankings=[],
            indicators=[_figure(p, b, qualifier=q, status=s) for p, _, b, q, s, _ in CASES],
            extractor_version="1",
            run_id="t",
        )
    return engine


def test_conflicts_are_the_periods_whose_figures_disagree_beyond_rounding(engine: Engine) -> None:
    with engine.connect() as connection:
        flagged = set(connection.execute(text("SELECT DISTINCT period FROM v_indicator_conflicts")).scalars())
    assert flagged == {period for period, *_, disagree in CASES if disagree}


def test_a_conflict_lists_each_value_with_its_source_and_url(engine: Engine) -> None:
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT entity, indicator, period, status, value, low, high, figures, source, url "
                "FROM v_indicator_conflicts WHERE period = '2011' ORDER BY value"
            )
        ).all()
    assert [tuple(r) for r in rows] == [
        (
            "Binh Duong",
            "fdi_registered",
            "2011",
            "actual",
            3.5e9,
            3.5e9,
            3.6e9,
            2,
            "vov",
            "https://vov.vn/kinh-te/fdi-1.vov",
        ),
        (
            "Binh Duong",
            "fdi_registered",
            "2011",
            "actual",
            3.6e9,
            3.5e9,
            3.6e9,
            2,
            "vov",
            "https://vov.vn/kinh-te/fdi-2.vov",
        ),
    ]
