"""Stage functions on `responses` and SQLite: discover for recent and backfill runs, fetch_and_store's
outcomes and what each leaves in document, raw_page and fetch_state, and politeness across processes."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
import responses
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from flows.load import fetch_and_store
from flows.state import DbFetchState, DbPoliteness
from models.db import get_engine, session_scope
from models.tables import Document, FetchState, HostState, RawPage
from scrapers.crawl import discover
from scrapers.http import HttpClient
from scrapers.registry import Link, Source
from tests.scrapers.conftest import T0, FakeClock, no_robots

MakeClient = Callable[..., HttpClient]
VOV = Source(
    code="vov",
    name="VOV",
    lang="vi",
    base_url="https://vov.vn/",
    feeds=(Link("https://vov.vn/rss/kinh-te.rss"),),
    sitemaps=(Link("https://vov.vn/sitemap.xml"),),
    listings=(Link("https://vov.vn/kinh-te"),),
    topics=("thông minh", "FDI"),
    selectors={"title": "h1", "body": "div.article-content"},
)
URL = "https://vov.vn/kinh-te/binh-duong-thanh-pho-thong-minh-post100001.vov"


def article(
    title: str = "Bình Dương xây dựng thành phố thông minh", body: str = "Đoạn một.", canonical: str = URL
) -> str:
    return (
        f'<html lang="vi"><head><meta charset="utf-8"><link rel="canonical" href="{canonical}">'
        '<meta property="article:published_time" content="2025-11-20T08:30:00+07:00"></head>'
        f'<body><h1>{title}</h1><div class="article-content"><p>{body}</p><p>Đoạn hai.</p></div></body></html>'
    )


@pytest.fixture
def engine(sqlite_url: str) -> Iterator[Engine]:
    engine = get_engine(sqlite_url)
    SQLModel.metadata.create_all(engine)
    yield engine


@pytest.fixture
def client(make_client: MakeClient) -> HttpClient:
    return make_client(default_delay=0.0)


def _count(engine: Engine, model: type[SQLModel]) -> int:
    with session_scope(engine) as session:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def _state(engine: Engine, url: str = URL) -> FetchState:
    with session_scope(engine) as session:
        state = session.get(FetchState, url)
        assert state is not None
        return state


def _serve(web: responses.RequestsMock, body: str, *, etag: str = '"v1"') -> None:
    web.get(URL, body=body, content_type="text/html; charset=utf-8", headers={"ETag": etag})


# --- fetch_and_store -------------------------------------------------------------------------------


def test_first_fetch_stores_document_raw_page_and_fetch_state(
    web: responses.RequestsMock, client: HttpClient, engine: Engine
) -> None:
    no_robots(web, "vov.vn")
    _serve(web, article())
    outcome = fetch_and_store(URL, source=VOV, client=client, engine=engine, run_id="r1")
    with session_scope(engine) as session:
        doc = session.get(Document, outcome.document_id)
        assert doc is not None
        row = (doc.url, doc.source_code, doc.title, doc.published_at, doc.lang, doc.etag, doc.run_id)
    assert (outcome.status, outcome.changed, outcome.http_status) == ("stored", True, 200)
    assert row == (
        URL,
        "vov",
        "Bình Dương xây dựng thành phố thông minh",
        datetime(2025, 11, 20, 1, 30, tzinfo=UTC),
        "vi",
        '"v1"',
        "r1",
    )
    assert (_count(engine, RawPage), _state(engine).etag, _state(engine).failures) == (1, '"v1"', 0)


def test_document_text_has_one_line_per_paragraph(
    web: responses.RequestsMock, client: HttpClient, engine: Engine
) -> None:
    no_robots(web, "vov.vn")
    _serve(web, article())
    outcome = fetch_and_store(URL, source=VOV, client=client, engine=engine, run_id="r1")
    with session_scope(engine) as session:
        doc = session.get(Document, outcome.document_id)
        assert (
            doc is not None and doc.text == "Bình Dương xây dựng thành phố thông minh\nĐoạn một.\nĐoạn hai."
        )


def test_second_fetch_is_conditional_and_a_304_stores_nothing_new(
    web: responses.RequestsMock, client: HttpClient, engine: Engine
) -> None:
    no_robots(web, "vov.vn")
    _serve(web, article())
    web.get(URL, status=304, match=[responses.matchers.header_matcher({"If-None-Match": '"v1"'})])
    first = fetch_and_store(URL, source=VOV, client=client, engine=engine, run_id="r1")
    second = fetch_and_store(URL, source=VOV, client=client, engine=engine, run_id="r2")
    with session_scope(engine) as session:
        doc = session.get(Document, first.document_id)
        assert doc is not None
        run_id = doc.run_id
    assert (second.status, second.document_id, second.changed) == ("not_modified", first.document_id, False)
    assert (_count(engine, RawPage), _count(engine, Document), run_id) == (1, 1, "r1")


def test_identical_bytes_are_unchanged_without_reparsing(
    web: responses.RequestsMock, client: HttpClient, engine: Engine
) -> None:
    no_robots(web, "vov.vn")
    _serve(web, article())
    _serve(web, article())
    first = fetch_and_store(URL, source=VOV, client=client, engine=engine, run_id="r1")
    second = fetch_and_store(URL, source=VOV, client=client, engine=engine, run_id="r2")
    assert (second.status, second.reason, second.document_id) == (
        "unchanged",
        "same bytes as last fetch",
        first.document_id,
    )


def test_changed_text_is_stored_as_changed(
    web: responses.RequestsMock, client: HttpClient, engine: Engine
) -> None:
    no_robots(web, "vov.vn")
    _serve(web, article(body="Đoạn một."))
    _serve(web, article(body="Đoạn một, đã sửa."), etag='"v2"')
    fetch_and_store(URL, source=VOV, client=client, engine=engine, run_id="r1")
    second = fetch_and_store(URL, source=VOV, client=client, engine=engine, run_id="r2")
    assert (second.status, second.changed, _count(engine, RawPage), _count(engine, Document)) == (
        "stored",
        True,
        2,
        1,
    )


def test_same_host_canonical_link_names_the_document(
    web: responses.RequestsMock, client: HttpClient, engine: Engine
) -> None:
    no_robots(web, "vov.vn")
    _serve(web, article(canonical="https://vov.vn/bai-goc-post100001.vov"))
    outcome = fetch_and_store(URL + "?utm_source=rss", source=VOV, client=client, engine=engine, run_id="r1")
    assert outcome.document_url == "https://vov.vn/bai-goc-post100001.vov"


def test_off_host_canonical_link_is_ignored(
    web: responses.RequestsMock, client: HttpClient, engine: Engine
) -> None:
    no_robots(web, "vov.vn")
    _serve(web, article(canonical="https://aggregator.example.com/copy-1"))
    outcome = fetch_and_store(URL, source=VOV, client=client, engine=engine, run_id="r1")
    assert outcome.document_url == URL


def test_failure_is_recorded_with_a_one_line_reason(
    web: responses.RequestsMock, client: HttpClient, engine: Engine
) -> None:
    no_robots(web, "vov.vn")
    web.get(URL, status=404)
    outcome = fetch_and_store(URL, source=VOV, client=client, engine=engine, run_id="r1")
    state = _state(engine)
    assert (outcome.status, outcome.reason, state.last_status, state.failures, _count(engine, Document)) == (
        "failed",
        "HTTP 404 Not Found",
        404,
        1,
        0,
    )


def test_retry_after_beyond_the_cap_defers_the_url(
    web: responses.RequestsMock, make_client: MakeClient, engine: Engine
) -> None:
    no_robots(web, "vov.vn")
    web.get(URL, status=429, headers={"Retry-After": "86400"})
    client = make_client(default_delay=0.0, retry_after_cap=300.0)
    first = fetch_and_store(URL, source=VOV, client=client, engine=engine, run_id="r1")
    second = fetch_and_store(URL, source=VOV, client=client, engine=engine, run_id="r1")
    assert (first.status, first.fetch_kind, _state(engine).next_allowed_at) == (
        "failed",
        "retry_later",
        datetime.fromtimestamp(T0 + 86400, UTC),
    )
    assert (second.status, second.reason, len(web.calls)) == (
        "skipped",
        "retry not before 2025-11-22T04:40:00+00:00",
        2,
    )


def test_non_html_response_is_skipped(
    web: responses.RequestsMock, client: HttpClient, engine: Engine
) -> None:
    no_robots(web, "vov.vn")
    web.get(URL, body=b"%PDF-1.7", content_type="application/pdf")
    outcome = fetch_and_store(URL, source=VOV, client=client, engine=engine, run_id="r1")
    assert (outcome.status, outcome.reason, _count(engine, Document)) == (
        "skipped",
        "not an HTML page (application/pdf)",
        0,
    )


# --- discovery -------------------------------------------------------------------------------------

FEED = """<rss version="2.0"><channel><title>VOV</title>
<item><title>Thành phố thông minh Bình Dương</title><link>https://vov.vn/kinh-te/tp-thong-minh-post1.vov</link>
<pubDate>Thu, 20 Nov 2025 08:30:00 +0700</pubDate></item>
<item><title>Giá vàng hôm nay</title><link>https://vov.vn/kinh-te/gia-vang-post2.vov</link>
<pubDate>Thu, 20 Nov 2025 09:00:00 +0700</pubDate></item>
<item><title>FDI tăng mạnh</title><link>https://vov.vn/kinh-te/fdi-tang-post3.vov?utm_source=rss</link>
<pubDate>Mon, 10 Nov 2025 09:00:00 +0700</pubDate></item>
<item><title>FDI ở đối tác</title><link>https://partner.example.com/fdi-post4</link></item>
</channel></rss>"""
LISTING = (
    "<html><body><a href='/kinh-te/fdi-tang-post3.vov'>FDI tăng mạnh</a>"
    "<a href='/kinh-te/khu-cong-nghiep-thong-minh-post5.vov'>Khu công nghiệp thông minh</a></body></html>"
)


def test_recent_discovery_reads_feeds_and_listings_filters_topics_and_dedupes(
    web: responses.RequestsMock, client: HttpClient
) -> None:
    no_robots(web, "vov.vn")
    web.get("https://vov.vn/rss/kinh-te.rss", body=FEED, content_type="application/rss+xml")
    web.get("https://vov.vn/kinh-te", body=LISTING, content_type="text/html")
    result = discover(VOV, client)
    assert ([c.url for c in result.candidates], result.problems) == (
        [
            "https://vov.vn/kinh-te/tp-thong-minh-post1.vov",
            "https://vov.vn/kinh-te/fdi-tang-post3.vov?utm_source=rss",
            "https://vov.vn/kinh-te/khu-cong-nghiep-thong-minh-post5.vov",
        ],
        (),
    )


def test_recent_discovery_drops_candidates_outside_the_date_range(
    web: responses.RequestsMock, client: HttpClient
) -> None:
    no_robots(web, "vov.vn")
    web.get("https://vov.vn/rss/kinh-te.rss", body=FEED, content_type="application/rss+xml")
    web.get("https://vov.vn/kinh-te", status=404)
    since = datetime(2025, 11, 15, tzinfo=UTC)
    result = discover(VOV, client, since=since, until=since + timedelta(days=10))
    assert [c.url for c in result.candidates] == ["https://vov.vn/kinh-te/tp-thong-minh-post1.vov"]


def test_unreadable_inputs_are_reported_not_raised(web: responses.RequestsMock, client: HttpClient) -> None:
    no_robots(web, "vov.vn")
    web.get("https://vov.vn/rss/kinh-te.rss", status=500)
    web.get("https://vov.vn/kinh-te", status=404)
    result = discover(VOV, client)
    assert result.problems == (
        "feed https://vov.vn/rss/kinh-te.rss: HTTP 500 Internal Server Error (after 4 attempts)",
        "listing https://vov.vn/kinh-te: HTTP 404 Not Found",
    )


def test_discovery_fetches_leave_their_outcome_and_reason_in_fetch_state(
    web: responses.RequestsMock, client: HttpClient, engine: Engine
) -> None:
    no_robots(web, "vov.vn")
    web.get("https://vov.vn/rss/kinh-te.rss", status=500)
    web.get("https://vov.vn/kinh-te", body="<html><body></body></html>", content_type="text/html")
    discover(VOV, client, record=functools.partial(DbFetchState(engine).record, run_id="r1"))
    feed, listing = _state(engine, "https://vov.vn/rss/kinh-te.rss"), _state(engine, "https://vov.vn/kinh-te")
    assert (feed.failures, feed.last_status, feed.last_reason, feed.run_id) == (
        1,
        500,
        "HTTP 500 Internal Server Error (after 4 attempts)",
        "r1",
    )
    assert (listing.failures, listing.last_status, listing.last_reason) == (0, 200, "HTTP 200 OK")


def test_a_discovery_fetch_that_succeeds_again_clears_its_failures(
    web: responses.RequestsMock, client: HttpClient, engine: Engine
) -> None:
    no_robots(web, "vov.vn")
    web.get("https://vov.vn/rss/kinh-te.rss", status=500)
    web.get("https://vov.vn/kinh-te", status=404)
    discover(VOV, client, record=functools.partial(DbFetchState(engine).record, run_id="r1"))
    web.replace(responses.GET, "https://vov.vn/rss/kinh-te.rss", body="<rss></rss>")
    discover(VOV, client, record=functools.partial(DbFetchState(engine).record, run_id="r2"))
    feed = _state(engine, "https://vov.vn/rss/kinh-te.rss")
    assert (feed.failures, feed.last_status) == (0, 200)


def test_backfill_discovery_walks_the_sitemap_shards_of_the_range(
    web: responses.RequestsMock, client: HttpClient
) -> None:
    ns = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
    no_robots(web, "vov.vn")
    web.get(
        "https://vov.vn/sitemap.xml",
        body=f"<sitemapindex {ns}><sitemap><loc>https://vov.vn/sitemaps/news-2023-6.xml</loc></sitemap>"
        f"<sitemap><loc>https://vov.vn/sitemaps/news-2024-1.xml</loc></sitemap></sitemapindex>",
    )
    web.get(
        "https://vov.vn/sitemaps/news-2023-6.xml",
        body=f"<urlset {ns}><url><loc>https://vov.vn/kinh-te/top-7-thong-minh-post9.vov</loc>"
        "<lastmod>2023-06-22T09:30:00+07:00</lastmod></url></urlset>",
    )
    result = discover(
        VOV,
        client,
        mode="backfill",
        since=datetime(2023, 6, 1, tzinfo=UTC),
        until=datetime(2023, 6, 30, tzinfo=UTC),
    )
    assert [c.url for c in result.candidates] == ["https://vov.vn/kinh-te/top-7-thong-minh-post9.vov"]
    assert "https://vov.vn/sitemaps/news-2024-1.xml" not in [c.request.url for c in web.calls]


# --- politeness across processes -------------------------------------------------------------------


def test_a_second_process_keeps_the_hosts_delay(
    web: responses.RequestsMock, make_client: MakeClient, engine: Engine, clock: FakeClock
) -> None:
    no_robots(web, "vov.vn")
    _serve(web, article())
    make_client(default_delay=3.0, politeness=DbPoliteness(engine)).fetch(URL)
    clock.sleeps.clear()
    clock.advance(1.0)
    make_client(default_delay=3.0, politeness=DbPoliteness(engine)).fetch(URL)
    # robots.txt is fetched again by the new process: it waits the 2 s left, then 3 s before the page
    assert clock.sleeps == [2.0, 3.0]


def test_host_state_records_the_next_allowed_time(
    web: responses.RequestsMock, make_client: MakeClient, engine: Engine
) -> None:
    no_robots(web, "vov.vn")
    _serve(web, article())
    make_client(default_delay=3.0, politeness=DbPoliteness(engine)).fetch(URL)
    with session_scope(engine) as session:
        state = session.get(HostState, "vov.vn")
        assert state is not None and state.next_allowed_at == datetime.fromtimestamp(T0 + 6.0, UTC)
