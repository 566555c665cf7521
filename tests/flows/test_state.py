"""The database-backed scraper state on SQLite and PostgreSQL: start-slot bookings, page states, discovery cache."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import Engine

from flows.state import DbFetchState
from models import migrate
from models.db import get_engine, session_scope
from models.store import upsert
from models.tables import FetchState
from scrapers.state import Cached, PageState

SITEMAP = "https://vov.vn/sitemap.xml"
ARTICLE = "https://vov.vn/kinh-te/bai-1.vov"
FETCHED = datetime(2025, 1, 10, 8, 30, tzinfo=UTC)


@pytest.fixture
def engine(db_url: str) -> Engine:
    migrate.upgrade(db_url)
    return get_engine(db_url)


def test_page_states_are_read_in_bulk_with_aware_timestamps(engine: Engine) -> None:
    row = {
        "url": ARTICLE,
        "host": "vov.vn",
        "last_status": 304,
        "etag": '"e1"',
        "content_hash": "h1",
        "last_fetched_at": FETCHED,
        "failures": 0,
    }
    with session_scope(engine) as session:
        upsert(session, FetchState, [row], run_id="r1")
    states = DbFetchState(engine).states([ARTICLE, "https://vov.vn/never-fetched.vov"])
    assert states == {
        ARTICLE: PageState(
            url=ARTICLE, etag='"e1"', content_hash="h1", last_status=304, last_fetched_at=FETCHED, failures=0
        )
    }


def test_a_remembered_discovery_body_is_recalled_with_its_validators(engine: Engine) -> None:
    cache = DbFetchState(engine)
    kept = Cached(etag='"s1"', last_modified="Tue, 10 Dec 2024 08:00:00 GMT", body=b"<urlset></urlset>")
    cache.remember(SITEMAP, kept)
    assert (DbFetchState(engine).recall(SITEMAP), cache.recall("https://vov.vn/other.xml")) == (kept, None)
