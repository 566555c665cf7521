"""The client's per-origin start schedule, conditional discovery reads, the freshness rule, and the layering."""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import responses

from scrapers.crawl import is_fresh
from scrapers.discover import Candidate
from scrapers.state import Cached, MemoryCache, PageState
from tests.scrapers.conftest import FakeClock, no_robots

URL = "https://vov.vn/kinh-te/bai-1.vov"
SITEMAP = "https://vov.vn/sitemap.xml"
SCRAPERS = Path(__file__).resolve().parents[2] / "scrapers"


# --- the start schedule ----------------------------------------------------------------------------


def test_the_delay_counts_from_the_end_of_the_previous_request(
    web: responses.RequestsMock, make_client: Any, clock: FakeClock
) -> None:
    no_robots(web, "vov.vn")

    def slow(_request: Any) -> tuple[int, dict[str, str], str]:
        clock.advance(1.0)  # the response takes a second
        return 200, {"Content-Type": "text/html"}, "<html><body>ok</body></html>"

    web.add_callback(responses.GET, URL, callback=slow)
    client = make_client(default_delay=3.0)
    client.fetch(URL)
    client.fetch(URL)
    # robots.txt at T0, the page at T0+3 (it ends at T0+4), the page again at T0+7: the host never sees a
    # request start less than the delay after the previous one ended.
    assert clock.sleeps == [3.0, 3.0]


def test_each_server_gets_its_own_connection_pool(make_client: Any) -> None:
    client = make_client()
    assert client._session_for("vov.vn") is client._session_for("vov.vn")
    assert client._session_for("vov.vn") is not client._session_for("vovworld.vn")


# --- conditional discovery reads -------------------------------------------------------------------


def test_an_unchanged_sitemap_answers_304_and_its_kept_body_is_used(
    web: responses.RequestsMock, make_client: Any
) -> None:
    no_robots(web, "vov.vn")
    cache = MemoryCache()
    cache.remember(SITEMAP, Cached(etag='"v1"', last_modified=None, body=b"<urlset/>"))
    web.get(SITEMAP, status=304, match=[responses.matchers.header_matcher({"If-None-Match": '"v1"'})])
    result, body = make_client(default_delay=0.0, cache=cache).fetch_cached(SITEMAP)
    assert (result.status, body) == (304, b"<urlset/>")


def test_a_changed_sitemap_replaces_the_kept_body(web: responses.RequestsMock, make_client: Any) -> None:
    no_robots(web, "vov.vn")
    cache = MemoryCache()
    cache.remember(SITEMAP, Cached(etag='"v1"', last_modified=None, body=b"<urlset/>"))
    web.get(SITEMAP, body=b"<urlset><url/></urlset>", headers={"ETag": '"v2"'})
    _, body = make_client(default_delay=0.0, cache=cache).fetch_cached(SITEMAP)
    assert (body, cache.recall(SITEMAP)) == (
        b"<urlset><url/></urlset>",
        Cached(etag='"v2"', last_modified=None, body=b"<urlset><url/></urlset>"),
    )


def test_robots_txt_is_read_conditionally_and_a_304_keeps_its_rules(
    web: responses.RequestsMock, make_client: Any
) -> None:
    cache = MemoryCache()
    robots = "https://vov.vn/robots.txt"
    cache.remember(
        robots, Cached(etag='"r1"', last_modified=None, body=b"User-agent: *\nDisallow: /kinh-te/\n")
    )
    web.get(robots, status=304, match=[responses.matchers.header_matcher({"If-None-Match": '"r1"'})])
    allowed, _ = make_client(default_delay=0.0, cache=cache).robots_allows(URL)
    assert allowed is False


# --- the freshness rule ----------------------------------------------------------------------------

FETCHED = datetime(2025, 1, 10, tzinfo=UTC)
STORED = PageState(url=URL, content_hash="h", last_status=200, last_fetched_at=FETCHED)


@pytest.mark.parametrize(
    ("candidate", "state", "fresh"),
    [
        (Candidate(URL, modified=FETCHED - timedelta(days=1)), STORED, True),
        (Candidate(URL, modified=FETCHED), STORED, True),
        (Candidate(URL, modified=FETCHED + timedelta(seconds=1)), STORED, False),
        # a feed date (no lastmod) counts as the change date
        (Candidate(URL, published=FETCHED - timedelta(days=1)), STORED, True),
        # a lastmod after the publication date wins
        (
            Candidate(URL, published=FETCHED - timedelta(days=3), modified=FETCHED + timedelta(hours=1)),
            STORED,
            False,
        ),
        (Candidate(URL), STORED, False),  # undated: fetch (conditionally)
        (Candidate(URL, modified=FETCHED - timedelta(days=1)), None, False),  # never fetched
        (
            Candidate(URL, modified=FETCHED - timedelta(days=1)),
            PageState(url=URL, content_hash="h", last_status=503, last_fetched_at=FETCHED),
            False,  # the last fetch failed
        ),
        (
            Candidate(URL, modified=FETCHED - timedelta(days=1)),
            PageState(url=URL, last_status=200, last_fetched_at=FETCHED),
            False,  # fetched but nothing stored (not a page)
        ),
        (
            Candidate(URL, modified=FETCHED - timedelta(days=1)),
            PageState(url=URL, content_hash="h", last_status=304, last_fetched_at=FETCHED),
            True,
        ),
    ],
)
def test_a_page_is_fresh_only_when_discovery_dates_it_before_its_last_successful_fetch(
    candidate: Candidate, state: PageState | None, fresh: bool
) -> None:
    assert is_fresh(candidate, state) is fresh


# --- layering --------------------------------------------------------------------------------------


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_no_scraper_module_imports_the_database_layer() -> None:
    offenders = {
        str(path.relative_to(SCRAPERS.parent)): sorted(
            n for n in _imports(path) if n.split(".")[0] in {"models", "flows", "sqlalchemy", "sqlmodel"}
        )
        for path in sorted(SCRAPERS.rglob("*.py"))
    }
    assert {k: v for k, v in offenders.items() if v} == {}
    assert len(offenders) > 10  # the walk saw the package
