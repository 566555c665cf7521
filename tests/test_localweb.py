"""Tests of the local web server itself: routing, validators, faults, the request log and sample coverage."""

# Every request here goes to our own server on 127.0.0.1 (tests/localweb), never to the internet.

from __future__ import annotations

import gzip
import subprocess
import sys
import time
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser
import pytest
import requests
import yaml
from bs4 import BeautifulSoup
from lxml import etree

from tests.localweb import REAL_HOSTS, LocalWeb

REPO = Path(__file__).resolve().parents[1]
SOURCES = yaml.safe_load((REPO / "scrapers" / "sources.yaml").read_text(encoding="utf-8"))["sources"]
SM_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


@pytest.fixture(scope="module")
def web() -> Iterator[LocalWeb]:
    with LocalWeb() as server:
        yield server


@pytest.fixture(autouse=True)
def _no_leftover_faults(web: LocalWeb) -> Iterator[None]:
    yield
    web.clear_faults()


def get(web: LocalWeb, url: str, headers: dict[str, str] | None = None, **kw: Any) -> requests.Response:
    """GET a real URL through the local server, keeping its hostname in the Host header."""
    local, host_header = web.local(url)
    kw.setdefault("timeout", 5)
    kw.setdefault("allow_redirects", False)
    return requests.get(local, headers={**host_header, **(headers or {})}, **kw)


def sitemap_locs(web: LocalWeb, url: str) -> list[str]:
    """Article URLs under a sitemap or sitemap index, following shards and gunzipping .gz ones."""
    resp = get(web, url)
    assert resp.status_code == 200, url
    data = gzip.decompress(resp.content) if url.endswith(".gz") else resp.content
    root = etree.fromstring(data)
    locs = [el.text or "" for el in root.iter(f"{SM_NS}loc")]
    if root.tag == f"{SM_NS}sitemapindex":
        return [u for child in locs for u in sitemap_locs(web, child)]
    return locs


def all_article_urls(web: LocalWeb, source: dict[str, Any]) -> list[str]:
    urls = [u for s in source["sitemaps"] for u in sitemap_locs(web, s["url"])]
    return [
        u for u in urls if urlsplit(u).path.rstrip("/") not in {s.rstrip("/") for s in _listing_paths(source)}
    ]


def _listing_paths(source: dict[str, Any]) -> set[str]:
    return {urlsplit(item["url"]).path for item in source["listings"]}


# -- routing -------------------------------------------------------------------------------------------


def test_host_map_points_every_real_hostname_at_the_local_port(web: LocalWeb) -> None:
    mapping = web.host_map()
    assert set(REAL_HOSTS) <= set(mapping)
    assert set(mapping.values()) == {f"127.0.0.1:{web.port}"}


def test_host_header_selects_the_site(web: LocalWeb) -> None:
    vov = get(web, "https://vov.vn/robots.txt").text
    vne = get(web, "https://vnexpress.net/robots.txt").text
    assert "Sitemap: https://vov.vn/sitemap.xml" in vov
    assert "Sitemap: https://vnexpress.net/sitemap.xml" in vne


def test_host_header_port_is_ignored(web: LocalWeb) -> None:
    resp = requests.get(f"{web.base_url}/robots.txt", headers={"Host": f"vov.vn:{web.port}"}, timeout=5)
    assert resp.status_code == 200


def test_missing_file_is_404(web: LocalWeb) -> None:
    assert get(web, "https://vov.vn/khong-co-trang-nay.vov").status_code == 404


def test_unknown_host_is_404(web: LocalWeb) -> None:
    assert get(web, "https://unknown.example.org/robots.txt").status_code == 404


def test_path_traversal_is_404(web: LocalWeb) -> None:
    resp = requests.get(f"{web.base_url}/../vnexpress.net/robots.txt", headers={"Host": "vov.vn"}, timeout=5)
    assert resp.status_code == 404


def test_page_query_selects_the_second_listing_page(web: LocalWeb) -> None:
    first = get(web, "https://vov.vn/kinh-te").text
    second = get(web, "https://vov.vn/kinh-te?page=2").text
    assert "Trang 2" in second and first != second


def test_page_beyond_the_last_is_404(web: LocalWeb) -> None:
    assert get(web, "https://vov.vn/kinh-te?page=9").status_code == 404


def test_tracking_query_is_ignored(web: LocalWeb) -> None:
    plain = get(web, "https://vov.vn/kinh-te")
    tracked = get(web, "https://vov.vn/kinh-te?utm_source=rss")
    assert tracked.status_code == 200 and tracked.content == plain.content


def test_path_style_pagination_is_served(web: LocalWeb) -> None:
    assert get(web, "https://baobinhduong.vn/kinh-te/trang-2/").status_code == 200


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://vov.vn/robots.txt", "text/plain; charset=utf-8"),
        (
            "https://vnexpress.net/binh-duong-hut-gan-1-9-ty-usd-von-fdi-sau-9-thang-4797123.html",
            "text/html; charset=utf-8",
        ),
        ("https://vov.vn/rss/kinh-te.rss", "application/rss+xml"),
        ("https://www.vietnamplus.vn/rss/kinhte-311.rss", "application/rss+xml"),
        ("https://en.vietnamplus.vn/rss/business-311.rss", "application/atom+xml"),
        ("https://www.intelligentcommunity.org/feed", "application/rss+xml"),
        ("https://vov.vn/sitemap.xml", "application/xml"),
        ("https://tuoitre.vn/sitemaps/news-2023-06.xml.gz", "application/gzip"),
        ("https://www.intelligentcommunity.org/top7", "text/html; charset=utf-8"),
    ],
)
def test_content_type_matches_the_kind_of_file(web: LocalWeb, url: str, expected: str) -> None:
    assert get(web, url).headers["Content-Type"] == expected


def test_gzip_sitemap_is_sent_as_is_without_content_encoding(web: LocalWeb) -> None:
    resp = get(web, "https://tuoitre.vn/sitemaps/news-2023-06.xml.gz")
    assert "Content-Encoding" not in resp.headers
    assert b"<urlset" in gzip.decompress(resp.content)


def test_head_sends_headers_without_body(web: LocalWeb) -> None:
    local, host = web.local("https://vov.vn/robots.txt")
    resp = requests.head(local, headers=host, timeout=5)
    assert resp.status_code == 200 and resp.content == b"" and int(resp.headers["Content-Length"]) > 0


# -- conditional GET -----------------------------------------------------------------------------------


def test_matching_etag_gives_304(web: LocalWeb) -> None:
    first = get(web, "https://vov.vn/rss/kinh-te.rss")
    again = get(web, "https://vov.vn/rss/kinh-te.rss", {"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.content == b""


def test_stale_etag_gives_200(web: LocalWeb) -> None:
    resp = get(web, "https://vov.vn/rss/kinh-te.rss", {"If-None-Match": '"stale"'})
    assert resp.status_code == 200


def test_if_modified_since_at_last_modified_gives_304(web: LocalWeb) -> None:
    first = get(web, "https://vov.vn/sitemap.xml")
    again = get(web, "https://vov.vn/sitemap.xml", {"If-Modified-Since": first.headers["Last-Modified"]})
    assert again.status_code == 304


def test_if_modified_since_before_last_modified_gives_200(web: LocalWeb) -> None:
    resp = get(web, "https://vov.vn/sitemap.xml", {"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"})
    assert resp.status_code == 200


# -- request log ---------------------------------------------------------------------------------------


def test_log_records_host_path_headers_and_status(web: LocalWeb) -> None:
    get(web, "https://thanhnien.vn/rss/kinh-te.rss", {"User-Agent": "chiso-test/1", "If-None-Match": '"x"'})
    rec = web.requests_for("thanhnien.vn", "/rss/kinh-te.rss")[-1]
    assert (rec.method, rec.status, rec.user_agent, rec.if_none_match) == ("GET", 200, "chiso-test/1", '"x"')
    assert rec.t <= time.monotonic() and rec.wall <= time.time()


def test_requests_for_filters_by_host_and_path_prefix(web: LocalWeb) -> None:
    get(web, "https://nhandan.vn/sitemaps/index.xml")
    get(web, "https://en.nhandan.vn/sitemaps/index.xml")
    assert all(r.host == "nhandan.vn" for r in web.requests_for("nhandan.vn"))
    assert web.requests_for("nhandan.vn", "/sitemaps/*")
    assert not web.requests_for("nhandan.vn", "/never-asked")


def test_log_timestamps_show_the_gap_between_requests(web: LocalWeb) -> None:
    get(web, "https://fr.vietnamplus.vn/robots.txt")
    time.sleep(0.2)
    get(web, "https://fr.vietnamplus.vn/robots.txt")
    a, b = web.requests_for("fr.vietnamplus.vn", "/robots.txt")[-2:]
    assert b.t - a.t >= 0.2


# -- faults --------------------------------------------------------------------------------------------


def test_unknown_fault_kind_is_refused(web: LocalWeb) -> None:
    with pytest.raises(ValueError):
        web.fault("vov.vn", "/", "meltdown")


def test_slow_delays_the_response(web: LocalWeb) -> None:
    web.fault("vov.vn", "/robots.txt", "slow", delay=0.3)
    start = time.monotonic()
    assert get(web, "https://vov.vn/robots.txt").status_code == 200
    assert time.monotonic() - start >= 0.3


def test_slow_response_trips_a_client_read_timeout(web: LocalWeb) -> None:
    web.fault("vov.vn", "/robots.txt", "slow", delay=0.5)
    with pytest.raises(requests.exceptions.ReadTimeout):
        get(web, "https://vov.vn/robots.txt", timeout=0.2)


def test_status_fault_fails_the_first_n_requests_then_recovers(web: LocalWeb) -> None:
    web.fault("vov.vn", "/sitemap.xml", "status", code=503, times=2)
    codes = [get(web, "https://vov.vn/sitemap.xml").status_code for _ in range(3)]
    assert codes == [503, 503, 200]


def test_fault_on_a_path_prefix_covers_every_path_under_it(web: LocalWeb) -> None:
    web.fault("nhandan.vn", "/sitemaps/*", "status", code=500)
    assert get(web, "https://nhandan.vn/sitemaps/news-2023-11.xml").status_code == 500
    assert get(web, "https://nhandan.vn/robots.txt").status_code == 200


def test_fault_on_one_host_leaves_other_hosts_alone(web: LocalWeb) -> None:
    web.fault("vov.vn", None, "status", code=500)
    assert get(web, "https://vnexpress.net/robots.txt").status_code == 200


def test_retry_after_in_seconds(web: LocalWeb) -> None:
    web.fault("tuoitre.vn", "/rss/kinh-doanh.rss", "retry_after", seconds=7, times=1)
    first = get(web, "https://tuoitre.vn/rss/kinh-doanh.rss")
    assert (first.status_code, first.headers["Retry-After"]) == (429, "7")
    assert get(web, "https://tuoitre.vn/rss/kinh-doanh.rss").status_code == 200


def test_retry_after_as_http_date(web: LocalWeb) -> None:
    web.fault("tuoitre.vn", "/rss/kinh-doanh.rss", "retry_after", seconds=30, http_date=True)
    resp = get(web, "https://tuoitre.vn/rss/kinh-doanh.rss")
    when = parsedate_to_datetime(resp.headers["Retry-After"]).timestamp()
    assert resp.status_code == 429 and 20 < when - time.time() <= 31


def test_reset_drops_the_connection_without_a_response(web: LocalWeb) -> None:
    web.fault("thanhnien.vn", "/sitemap.xml", "reset")
    with pytest.raises(requests.exceptions.ConnectionError):
        get(web, "https://thanhnien.vn/sitemap.xml")
    assert web.requests_for("thanhnien.vn", "/sitemap.xml")[-1].status is None


def test_truncated_body_is_shorter_than_its_content_length(web: LocalWeb) -> None:
    web.fault("thanhnien.vn", "/sitemap.xml", "truncated")
    with pytest.raises((requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError)):
        get(web, "https://thanhnien.vn/sitemap.xml")


def test_wrong_charset_declares_latin1_for_utf8_bytes(web: LocalWeb) -> None:
    url = "https://baobinhduong.vn/binh-duong-huong-toi-top-1-cong-dong-thong-minh-the-gioi-a312845.html"
    web.fault("baobinhduong.vn", urlsplit(url).path, "wrong_charset")
    resp = get(web, url)
    assert resp.headers["Content-Type"] == "text/html; charset=iso-8859-1"
    assert "Bình Dương" in resp.content.decode("utf-8")


def test_huge_streams_a_generated_body_of_the_requested_size(web: LocalWeb) -> None:
    web.fault("vnexpress.net", "/big.html", "huge", size_mb=2)
    resp = get(web, "https://vnexpress.net/big.html")
    assert int(resp.headers["Content-Length"]) == len(resp.content) == 2 * 1024 * 1024


def test_huge_can_stop_reading_early(web: LocalWeb) -> None:
    web.fault("vnexpress.net", "/big.html", "huge", size_mb=50, declare_length=False)
    with get(web, "https://vnexpress.net/big.html", stream=True) as resp:
        first = next(resp.iter_content(1024 * 1024))
    assert "Content-Length" not in resp.headers and len(first) > 0


def test_redirect_loop_bounces_between_two_paths(web: LocalWeb) -> None:
    web.fault("vov.vn", "/kinh-te", "redirect_loop")
    a = get(web, "https://vov.vn/kinh-te")
    b = get(web, urljoin("https://vov.vn/kinh-te", a.headers["Location"]))
    assert a.status_code == b.status_code == 302
    assert b.headers["Location"] == "/kinh-te" and a.headers["Location"] != "/kinh-te"


def test_redirect_loop_exceeds_the_client_redirect_limit(web: LocalWeb) -> None:
    web.fault("vov.vn", "/kinh-te", "redirect_loop")
    session = requests.Session()
    session.max_redirects = 5
    local, host = web.local("https://vov.vn/kinh-te")
    with pytest.raises(requests.exceptions.TooManyRedirects):
        session.get(local, headers=host, timeout=5)


def test_redirect_offlist_points_at_an_undeclared_host(web: LocalWeb) -> None:
    web.fault("en.nhandan.vn", "/rss/business-1186.rss", "redirect_offlist")
    resp = get(web, "https://en.nhandan.vn/rss/business-1186.rss")
    assert resp.status_code == 302 and urlsplit(resp.headers["Location"]).hostname == "evil.example.com"


def test_robots_fault_replaces_the_hosts_robots_txt(web: LocalWeb) -> None:
    web.fault("vov.vn", None, "robots", text="User-agent: *\nDisallow: /kinh-te\nCrawl-delay: 2\n")
    text = get(web, "https://vov.vn/robots.txt").text
    assert "Crawl-delay: 2" in text and "Disallow: /kinh-te" in text
    assert get(web, "https://vov.vn/sitemap.xml").status_code == 200


def test_latency_fault_slows_only_its_host(web: LocalWeb) -> None:
    web.fault("vovworld.vn", None, "latency", seconds=0.25)
    start = time.monotonic()
    get(web, "https://vov.vn/robots.txt")
    fast = time.monotonic() - start
    start = time.monotonic()
    get(web, "https://vovworld.vn/robots.txt")
    assert fast < 0.2 <= time.monotonic() - start


def test_global_latency_slows_every_request() -> None:
    with LocalWeb(latency=0.2) as slow_web:
        start = time.monotonic()
        get(slow_web, "https://vov.vn/robots.txt")
        assert time.monotonic() - start >= 0.2


def test_clear_faults_restores_normal_service(web: LocalWeb) -> None:
    web.fault("vov.vn", None, "status", code=500)
    web.clear_faults()
    assert get(web, "https://vov.vn/robots.txt").status_code == 200


def test_log_names_the_fault_applied(web: LocalWeb) -> None:
    web.fault("vov.vn", "/robots.txt", "status", code=503)
    get(web, "https://vov.vn/robots.txt")
    rec = web.requests_for("vov.vn", "/robots.txt")[-1]
    assert (rec.status, rec.fault) == (503, "status")


# -- generated sites -----------------------------------------------------------------------------------


def test_generated_site_serves_every_article_through_its_monthly_sitemaps(web: LocalWeb) -> None:
    site = web.add_generated_site("bench-a.example", 500)
    assert "bench-a.example" in web.host_map()
    urls = sitemap_locs(web, "https://bench-a.example/sitemap.xml")
    assert sorted(urls) == sorted(site.article_urls())


def test_generated_article_is_html_and_past_the_end_is_404(web: LocalWeb) -> None:
    web.add_generated_site("bench-b.example", 10)
    ok = get(web, "https://bench-b.example/tin-tuc/bai-9.html")
    assert ok.headers["Content-Type"] == "text/html; charset=utf-8" and "article:published_time" in ok.text
    assert get(web, "https://bench-b.example/tin-tuc/bai-10.html").status_code == 404


def test_generated_feed_lists_the_newest_articles(web: LocalWeb) -> None:
    web.add_generated_site("bench-c.example", 100, feed_size=5)
    feed = feedparser.parse(get(web, "https://bench-c.example/rss.xml").content)
    assert next(e.link for e in feed.entries) == "https://bench-c.example/tin-tuc/bai-99.html"
    assert len(feed.entries) == 5


# -- sample content covers the sources registry -------------------------------------------------------


@pytest.mark.parametrize("source", SOURCES, ids=[s["code"] for s in SOURCES])
def test_every_registry_url_of_a_source_is_served(web: LocalWeb, source: dict[str, Any]) -> None:
    host = urlsplit(source["base_url"]).hostname
    urls = [f"https://{host}/robots.txt"] + [
        x["url"] for key in ("feeds", "sitemaps", "listings") for x in source[key]
    ]
    missing = [u for u in urls if get(web, u).status_code != 200]
    assert missing == []


@pytest.mark.parametrize("source", SOURCES, ids=[s["code"] for s in SOURCES])
def test_every_feed_entry_of_a_source_resolves(web: LocalWeb, source: dict[str, Any]) -> None:
    for feed_ref in source["feeds"]:
        parsed = feedparser.parse(get(web, feed_ref["url"]).content)
        assert not parsed.bozo, (feed_ref["url"], parsed.get("bozo_exception"))
        links = [urljoin(feed_ref["url"], e.link) for e in parsed.entries]
        assert links and all(get(web, link).status_code == 200 for link in links)


@pytest.mark.parametrize("source", SOURCES, ids=[s["code"] for s in SOURCES])
def test_every_sitemap_url_of_a_source_is_an_article_page(web: LocalWeb, source: dict[str, Any]) -> None:
    urls = all_article_urls(web, source)
    assert len(urls) >= 2
    for url in urls:
        soup = BeautifulSoup(get(web, url).content, "lxml")
        html = soup.find("html")
        assert html is not None and html.get("lang"), url
        assert soup.select_one("meta[property='og:title']") is not None, url


@pytest.mark.parametrize(
    "source",
    [s for s in SOURCES if s.get("selectors")],
    ids=[s["code"] for s in SOURCES if s.get("selectors")],
)
def test_registry_selectors_match_the_sample_articles(web: LocalWeb, source: dict[str, Any]) -> None:
    for url in all_article_urls(web, source):
        soup = BeautifulSoup(get(web, url).content, "lxml")
        for name, selector in source["selectors"].items():
            assert len(soup.select(selector)) == 1, (url, name, selector)


def test_cli_prints_the_host_map_and_serves() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.localweb", "--port", "0"], cwd=REPO, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        base = first.rsplit(" ", 1)[-1].strip()
        assert first.startswith("localweb serving on http://127.0.0.1:")
        assert (
            requests.get(f"{base}/robots.txt", headers={"Host": "tuoitre.vn"}, timeout=5).status_code == 200
        )
    finally:
        proc.terminate()
        proc.wait(timeout=5)
