"""Discovery on bytes we write: feeds with each quirk, sitemaps and their guards, listings, topics, URLs."""

from __future__ import annotations

import codecs
import gzip
from datetime import UTC, datetime, timedelta, timezone

import pytest

from scrapers.discover import (
    Candidate,
    DiscoveryError,
    canonical_url,
    decompress,
    dedupe,
    filter_topics,
    fold,
    looks_like_article,
    matches_topics,
    parse_date,
    parse_feed,
    parse_listing,
    parse_sitemap,
    shard_in_range,
    shard_month,
    walk_listings,
    walk_sitemaps,
)

ICT = timezone(timedelta(hours=7))
FEED_URL = "https://vov.vn/rss/kinh-te.rss"
ITEM = (
    "<item><title>Bình Dương lọt Top 7 cộng đồng thông minh</title>"
    "<link>/kinh-te/binh-duong-lot-top-7-123456.vov</link>"
    "<pubDate>Thu, 20 Nov 2025 08:30:00 +0700</pubDate>"
    "<description>&lt;p&gt;Tỉnh &lt;b&gt;Bình Dương&lt;/b&gt; được vinh danh.&lt;/p&gt;</description></item>"
)
RSS = f'<rss version="2.0"><channel><title>VOV Kinh tế</title>{ITEM}</channel></rss>'
EXPECTED = Candidate(
    url="https://vov.vn/kinh-te/binh-duong-lot-top-7-123456.vov",
    title="Bình Dương lọt Top 7 cộng đồng thông minh",
    published=datetime(2025, 11, 20, 8, 30, tzinfo=ICT),
    source_code="vov",
    summary="Tỉnh Bình Dương được vinh danh.",
)


# --- feeds -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        RSS.encode(),
        ('<?xml version="1.0" encoding="UTF-8"?>\n' + RSS).encode(),
        codecs.BOM_UTF8 + RSS.encode(),
        codecs.BOM_UTF16_LE + RSS.encode("utf-16-le"),
        codecs.BOM_UTF16_BE + RSS.encode("utf-16-be"),
        ('<?xml version="1.0" encoding="utf-16"?>' + RSS).encode("utf-16-le"),
        RSS,
        ("\n\n   " + RSS.replace("><", ">\n  <")).encode(),
    ],
    ids=[
        "minified-no-declaration",
        "declared",
        "utf8-bom",
        "utf16le-bom",
        "utf16be-bom",
        "utf16-declared-no-bom",
        "str",
        "indented-leading-space",
    ],
)
def test_rss_feed_quirks_yield_the_same_entry(data: bytes | str) -> None:
    assert parse_feed(data, feed_url=FEED_URL, source_code="vov") == [EXPECTED]


def test_feed_published_keeps_the_original_offset() -> None:
    (entry,) = parse_feed(RSS.encode(), feed_url=FEED_URL)
    assert (entry.published, entry.published.utcoffset() if entry.published else None) == (
        datetime(2025, 11, 20, 1, 30, tzinfo=UTC),
        timedelta(hours=7),
    )


def test_atom_feed_with_relative_link_resolves_against_the_feed_url() -> None:
    atom = (
        '<feed xmlns="http://www.w3.org/2005/Atom"><title>ICF</title>'
        '<entry><title>ICF names the Top7 of 2023</title><link rel="alternate" href="../news/top7-2023"/>'
        "<id>tag:icf,2023:1</id><published>2023-02-09T10:00:00-05:00</published>"
        "<summary>The Top7 Intelligent Communities</summary></entry></feed>"
    )
    assert parse_feed(atom.encode(), feed_url="https://www.intelligentcommunity.org/feed/atom") == [
        Candidate(
            url="https://www.intelligentcommunity.org/news/top7-2023",
            title="ICF names the Top7 of 2023",
            published=datetime(2023, 2, 9, 10, 0, tzinfo=timezone(timedelta(hours=-5))),
            summary="The Top7 Intelligent Communities",
        )
    ]


def test_feed_entry_without_a_date_has_none() -> None:
    rss = RSS.replace("<pubDate>Thu, 20 Nov 2025 08:30:00 +0700</pubDate>", "")
    assert parse_feed(rss.encode(), feed_url=FEED_URL)[0].published is None


def test_feed_entries_without_links_are_skipped() -> None:
    rss = RSS.replace("<link>/kinh-te/binh-duong-lot-top-7-123456.vov</link>", "")
    assert parse_feed(rss.encode(), feed_url=FEED_URL) == []


def test_garbage_is_refused_as_not_xml() -> None:
    with pytest.raises(DiscoveryError, match=f"^feed {FEED_URL}: refused: not well-formed XML"):
        parse_feed(b"\x00\x01 not a feed", feed_url=FEED_URL)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Thu, 20 Nov 2025 08:30:00 +0700", datetime(2025, 11, 20, 8, 30, tzinfo=ICT)),
        ("2025-11-20T08:30:00+07:00", datetime(2025, 11, 20, 8, 30, tzinfo=ICT)),
        ("2025-11-20T01:30:00Z", datetime(2025, 11, 20, 1, 30, tzinfo=UTC)),
        ("2025-11-20", datetime(2025, 11, 20, tzinfo=UTC)),
        ("2025-11", datetime(2025, 11, 1, tzinfo=UTC)),
        ("not a date", None),
        ("", None),
    ],
)
def test_parse_date(text: str, expected: datetime | None) -> None:
    assert parse_date(text) == expected


# --- sitemaps --------------------------------------------------------------------------------------

SM_NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
NEWS_NS = 'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"'


def urlset(*entries: tuple[str, str | None]) -> bytes:
    body = "".join(
        f"<url><loc>{loc}</loc>{f'<lastmod>{mod}</lastmod>' if mod else ''}</url>" for loc, mod in entries
    )
    return f'<?xml version="1.0" encoding="UTF-8"?><urlset {SM_NS}>{body}</urlset>'.encode()


def index(*entries: tuple[str, str | None]) -> bytes:
    body = "".join(
        f"<sitemap><loc>{loc}</loc>{f'<lastmod>{mod}</lastmod>' if mod else ''}</sitemap>"
        for loc, mod in entries
    )
    return f"<sitemapindex {SM_NS}>{body}</sitemapindex>".encode()


def test_urlset_entries_with_lastmod() -> None:
    sitemap = parse_sitemap(
        urlset(("https://vov.vn/a-1.vov", "2025-11-20T08:00:00+07:00"), ("https://vov.vn/b-2.vov", None)),
        url="https://vov.vn/sitemap.xml",
    )
    assert (sitemap.is_index, [(e.url, e.lastmod) for e in sitemap.entries]) == (
        False,
        [("https://vov.vn/a-1.vov", datetime(2025, 11, 20, 8, tzinfo=ICT)), ("https://vov.vn/b-2.vov", None)],
    )


def test_news_sitemap_title_and_publication_date() -> None:
    xml = (
        f"<urlset {SM_NS} {NEWS_NS}><url><loc>https://vov.vn/top7-1.vov</loc><news:news>"
        "<news:publication><news:name>VOV</news:name><news:language>vi</news:language></news:publication>"
        "<news:publication_date>2023-02-10T09:00:00+07:00</news:publication_date>"
        "<news:title>Bình Dương vào Top 7</news:title></news:news></url></urlset>"
    ).encode()
    (entry,) = parse_sitemap(xml, url="https://vov.vn/sitemap-news.xml").entries
    assert (entry.title, entry.published) == ("Bình Dương vào Top 7", datetime(2023, 2, 10, 9, tzinfo=ICT))


def test_gzip_sitemap_is_decompressed() -> None:
    data = gzip.compress(urlset(("https://vov.vn/a-1.vov", None)))
    assert [e.url for e in parse_sitemap(data, url="https://vov.vn/s.xml.gz").entries] == [
        "https://vov.vn/a-1.vov"
    ]


def test_compressed_bomb_is_refused() -> None:
    bomb = gzip.compress(b" " * 5_000_000)
    with pytest.raises(DiscoveryError, match="expands beyond the 1000000-byte cap"):
        decompress(bomb, max_bytes=1_000_000)


def test_uncompressed_sitemap_over_the_cap_is_refused() -> None:
    with pytest.raises(DiscoveryError, match="exceeds the 100-byte cap"):
        decompress(b"x" * 101, max_bytes=100)


def test_external_entities_are_refused() -> None:
    xml = (
        b'<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY x SYSTEM "file:///etc/hostname">]>'
        b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>https://vov.vn/&x;</loc></url></urlset>'
    )
    with pytest.raises(DiscoveryError, match="refused: declares XML entities"):
        parse_sitemap(xml, url="https://vov.vn/s.xml")


@pytest.mark.parametrize(
    ("url", "month"),
    [
        ("https://nhandan.vn/sitemaps/news-2023-7.xml", (2023, 7)),
        ("https://nhandan.vn/sitemaps/news-2023-07.xml", (2023, 7)),
        ("https://vov.vn/sitemap/2021/12/articles.xml", (2021, 12)),
        ("https://vov.vn/sitemap_2022_01.xml.gz", (2022, 1)),
        ("https://vov.vn/sitemap-2023-13.xml", None),
        ("https://vov.vn/sitemap-news.xml", None),
        ("https://vov.vn/sitemap-123456.xml", None),
    ],
)
def test_shard_month(url: str, month: tuple[int, int] | None) -> None:
    assert shard_month(url) == month


@pytest.mark.parametrize(
    ("url", "keep"),
    [
        ("https://nhandan.vn/sitemaps/news-2023-5.xml", False),
        ("https://nhandan.vn/sitemaps/news-2023-6.xml", True),
        ("https://nhandan.vn/sitemaps/news-2023-8.xml", True),
        ("https://nhandan.vn/sitemaps/news-2023-9.xml", False),
        ("https://nhandan.vn/sitemaps/categories.xml", True),
    ],
)
def test_shard_in_range(url: str, keep: bool) -> None:
    since, until = datetime(2023, 6, 15, tzinfo=UTC), datetime(2023, 8, 10, tzinfo=UTC)
    assert shard_in_range(url, since=since, until=until) is keep


def _fetcher(pages: dict[str, bytes], log: list[str]):  # type: ignore[no-untyped-def]
    def fetch(url: str) -> bytes | None:
        log.append(url)
        return pages.get(url)

    return fetch


def test_walk_sitemaps_reads_only_the_shards_of_the_date_range() -> None:
    root = "https://nhandan.vn/sitemaps/index.xml"
    pages = {
        root: index(
            ("https://nhandan.vn/sitemaps/news-2023-1.xml", None),
            ("https://nhandan.vn/sitemaps/news-2023-2.xml.gz", None),
            ("https://nhandan.vn/sitemaps/news-2023-3.xml", None),
        ),
        "https://nhandan.vn/sitemaps/news-2023-2.xml.gz": gzip.compress(
            urlset(
                ("https://nhandan.vn/top7-binh-duong-1.html", "2023-02-10T09:00:00+07:00"),
                ("https://nhandan.vn/old-2.html", "2023-02-01T23:00:00+07:00"),
            )
        ),
    }
    log: list[str] = []
    walk = walk_sitemaps(
        [root],
        _fetcher(pages, log),
        since=datetime(2023, 2, 5, tzinfo=ICT),
        until=datetime(2023, 2, 20, tzinfo=ICT),
        source_code="nhandan",
    )
    assert (log, [c.url for c in walk.candidates], walk.problems) == (
        [root, "https://nhandan.vn/sitemaps/news-2023-2.xml.gz"],
        ["https://nhandan.vn/top7-binh-duong-1.html"],
        (),
    )


def test_walk_sitemaps_skips_shards_unchanged_since_the_range_start() -> None:
    root = "https://vov.vn/sitemap.xml"
    pages = {
        root: index(
            ("https://vov.vn/sitemap-old.xml", "2020-01-01"), ("https://vov.vn/sitemap-new.xml", None)
        )
    }
    log: list[str] = []
    walk_sitemaps([root], _fetcher(pages, log), since=datetime(2023, 1, 1, tzinfo=UTC))
    assert log == [root, "https://vov.vn/sitemap-new.xml"]


def test_walk_sitemaps_stops_a_loop() -> None:
    a, b = "https://vov.vn/sitemap-a.xml", "https://vov.vn/sitemap-b.xml"
    pages = {a: index((b, None)), b: index((a, None), ("https://vov.vn/sitemap-a.xml#again", None))}
    log: list[str] = []
    walk = walk_sitemaps([a], _fetcher(pages, log))
    assert (log, walk.candidates) == ([a, b], ())


def test_walk_sitemaps_caps_the_nesting_depth() -> None:
    pages = {f"https://vov.vn/s{i}.xml": index((f"https://vov.vn/s{i + 1}.xml", None)) for i in range(10)}
    log: list[str] = []
    walk = walk_sitemaps(["https://vov.vn/s0.xml"], _fetcher(pages, log), max_depth=3)
    assert (len(log), walk.problems) == (
        4,
        ("sitemap index https://vov.vn/s3.xml nested deeper than 3; not followed",),
    )


def test_walk_sitemaps_caps_the_number_of_sitemaps() -> None:
    root = "https://vov.vn/sitemap.xml"
    pages = {root: index(*[(f"https://vov.vn/s-{i}.xml", None) for i in range(50)])}
    log: list[str] = []
    walk = walk_sitemaps([root], _fetcher(pages, log), max_sitemaps=10)
    assert (len(log), walk.problems[-1].startswith("stopped after 10 sitemaps")) == (10, True)


def test_walk_sitemaps_reports_a_bomb_and_continues() -> None:
    root = "https://vov.vn/sitemap.xml"
    pages = {
        root: index(("https://vov.vn/bomb.xml.gz", None), ("https://vov.vn/ok.xml", None)),
        "https://vov.vn/bomb.xml.gz": gzip.compress(b" " * 300_000),
        "https://vov.vn/ok.xml": urlset(("https://vov.vn/a-1.vov", None)),
    }
    walk = walk_sitemaps([root], _fetcher(pages, []), max_bytes=100_000)
    assert ([c.url for c in walk.candidates], walk.problems) == (
        ["https://vov.vn/a-1.vov"],
        ("sitemap https://vov.vn/bomb.xml.gz: refused: gzip sitemap expands beyond the 100000-byte cap",),
    )


def test_walk_sitemaps_reports_an_unavailable_sitemap() -> None:
    walk = walk_sitemaps(["https://vov.vn/sitemap.xml"], _fetcher({}, []))
    assert walk.problems == ("sitemap https://vov.vn/sitemap.xml unavailable",)


# --- listings --------------------------------------------------------------------------------------

LISTING = """<html><head><title>Kinh tế</title></head><body>
<nav><a href="/">Trang chủ</a> <a href="/kinh-te">Kinh tế</a> <a href="/tag/fdi">FDI</a></nav>
<div class="list">
  <h3><a href="/kinh-te/binh-duong-thu-hut-fdi-post1012345.vov">Bình Dương thu hút FDI</a></h3>
  <h3><a href="https://vov.vn/kinh-te/thanh-pho-thong-minh-post1012346.vov?utm_source=home">Thành phố thông minh</a></h3>
  <h3><a href="/kinh-te/binh-duong-thu-hut-fdi-post1012345.vov#comments">12 bình luận</a></h3>
  <a href="https://facebook.com/sharer?u=x-1234567">Share</a>
  <a href="javascript:void(0)">menu</a>
</div>
<div class="pagination"><a href="/kinh-te?page=1">1</a> <a href="/kinh-te?page=2" class="next">Trang sau</a></div>
</body></html>"""


def test_listing_links_are_same_host_articles_in_page_order() -> None:
    listing = parse_listing(LISTING, page_url="https://vov.vn/kinh-te", source_code="vov")
    assert [(c.url, c.title) for c in listing.links] == [
        ("https://vov.vn/kinh-te/binh-duong-thu-hut-fdi-post1012345.vov", "Bình Dương thu hút FDI"),
        (
            "https://vov.vn/kinh-te/thanh-pho-thong-minh-post1012346.vov?utm_source=home",
            "Thành phố thông minh",
        ),
    ]


def test_listing_next_page_link() -> None:
    assert (
        parse_listing(LISTING, page_url="https://vov.vn/kinh-te").next_url == "https://vov.vn/kinh-te?page=2"
    )


@pytest.mark.parametrize(
    "anchor",
    [
        '<a rel="next" href="/p/2">2</a>',
        '<a href="/p/2">»</a>',
        '<a href="/p/2">Next</a>',
        '<a href="/p/2">Suivant</a>',
        '<a href="/p/2" aria-label="Next page">›</a>',
    ],
)
def test_listing_next_page_forms(anchor: str) -> None:
    html = f"<html><body><a href='/a/bai-viet-so-mot-12345.html'>x</a>{anchor}</body></html>"
    assert parse_listing(html, page_url="https://vov.vn/p/1").next_url == "https://vov.vn/p/2"


def test_listing_link_rel_next_in_head() -> None:
    html = '<html><head><link rel="next" href="https://vov.vn/p/3"></head><body></body></html>'
    assert parse_listing(html, page_url="https://vov.vn/p/2").next_url == "https://vov.vn/p/3"


def test_walk_listings_follows_pagination_up_to_the_page_cap() -> None:
    pages = {
        f"https://vov.vn/kinh-te?page={n}": (
            f"<a href='/kinh-te/bai-so-{n}-post10000{n}.vov'>Bài {n}</a><a class='next' href='/kinh-te?page={n + 1}'>Sau</a>"
        ).encode()
        for n in range(1, 10)
    }
    log: list[str] = []
    found, problems = walk_listings(["https://vov.vn/kinh-te?page=1"], _fetcher(pages, log), max_pages=3)
    assert ([c.title for c in found], len(log), problems) == (["Bài 1", "Bài 2", "Bài 3"], 3, [])


def test_walk_listings_stops_at_a_pagination_loop() -> None:
    pages = {
        "https://vov.vn/l?page=1": b"<a href='/a/x-post100001.vov'>A</a><a rel='next' href='/l?page=2'>2</a>",
        "https://vov.vn/l?page=2": b"<a href='/a/y-post100002.vov'>B</a><a rel='next' href='/l?page=1'>1</a>",
    }
    log: list[str] = []
    found, _ = walk_listings(["https://vov.vn/l?page=1"], _fetcher(pages, log), max_pages=10)
    assert (len(found), len(log)) == (2, 2)


@pytest.mark.parametrize(
    ("url", "article"),
    [
        ("https://vov.vn/kinh-te/binh-duong-thu-hut-fdi-post1012345.vov", True),
        ("https://baobinhduong.vn/binh-duong-top-7-a123456.html", True),
        ("https://vnexpress.net/binh-duong-dung-dau-4812345.html", True),
        ("https://www.intelligentcommunity.org/binh_duong_named_to_top7", True),
        ("https://www.intelligentcommunity.org/about_us", False),
        ("https://www.intelligentcommunity.org/icf-announces-the-top7-of-2023", True),
        ("https://vov.vn/kinh-te", False),
        ("https://vov.vn/", False),
        ("https://vov.vn/tag/thanh-pho-thong-minh-12345", False),
        ("https://vov.vn/kinh-te/trang-2", False),
    ],
)
def test_looks_like_article(url: str, article: bool) -> None:
    assert looks_like_article(url) is article


# --- topics ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "url", "topics", "keep"),
    [
        ("Bình Dương lọt TOP 7 thế giới", "https://vov.vn/a-1.vov", ["top 7"], True),
        ("Binh Duong in the Top7", "https://vov.vn/a-1.vov", ["Top 7"], True),
        ("Phát triển THÀNH PHỐ THÔNG MINH", "https://vov.vn/a-1.vov", ["thành phố thông minh"], True),
        ("Phat trien thanh pho thong minh", "https://vov.vn/a-1.vov", ["thành phố thông minh"], True),
        ("Giá vàng hôm nay", "https://vov.vn/binh-duong-chuyen-doi-so-1.vov", ["chuyển đổi số"], True),
        ("Giá vàng hôm nay", "https://vov.vn/gia-vang-1.vov", ["chuyển đổi số", "FDI"], False),
        ("Chỉ số PCI 2023", "https://vov.vn/a-1.vov", ["PCI"], True),
        ("Epicentre of trade", "https://vov.vn/a-1.vov", ["PCI"], False),
        ("Đường sắt", "https://vov.vn/a-1.vov", ["duong"], True),
        ("Anything at all", "https://vov.vn/a-1.vov", [], True),
    ],
)
def test_topic_filter(title: str, url: str, topics: list[str], keep: bool) -> None:
    assert matches_topics(Candidate(url=url, title=title), topics) is keep


def test_topic_filter_reads_the_summary() -> None:
    candidate = Candidate(
        url="https://vov.vn/a-1.vov", title="Tin tổng hợp", summary="Smart21 communities named"
    )
    assert filter_topics([candidate], ["smart21"]) == [candidate]


def test_fold_strips_vietnamese_accents_and_case() -> None:
    assert fold("Đà Nẵng, BÌNH DƯƠNG, Thủ Dầu Một") == "da nang, binh duong, thu dau mot"


# --- canonical URLs --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("HTTPS://VOV.VN/Kinh-Te/Bai-1.vov", "https://vov.vn/Kinh-Te/Bai-1.vov"),
        ("https://vov.vn:443/a-1.vov", "https://vov.vn/a-1.vov"),
        ("http://vov.vn:80/a-1.vov", "http://vov.vn/a-1.vov"),
        ("https://vov.vn:8443/a-1.vov", "https://vov.vn:8443/a-1.vov"),
        ("https://vov.vn/a-1.vov#binh-luan", "https://vov.vn/a-1.vov"),
        ("https://vov.vn/a-1.vov?utm_source=fb&utm_medium=social", "https://vov.vn/a-1.vov"),
        ("https://vov.vn/a-1.vov?fbclid=IwAR0x&gclid=abc&msclkid=1", "https://vov.vn/a-1.vov"),
        ("https://vov.vn/a-1.vov?gidzl=xyz&zarsrc=30", "https://vov.vn/a-1.vov"),
        ("https://vov.vn/list?page=2&cat=5&utm_campaign=x", "https://vov.vn/list?cat=5&page=2"),
        ("https://vov.vn/tin/index.html", "https://vov.vn/tin/"),
        ("https://vov.vn/default.aspx", "https://vov.vn/"),
        ("https://vov.vn", "https://vov.vn/"),
        ("https://vov.vn/b%C3%ACnh-d%C6%B0%C6%A1ng", "https://vov.vn/b%C3%ACnh-d%C6%B0%C6%A1ng"),
        ("https://vov.vn/bình-dương", "https://vov.vn/b%C3%ACnh-d%C6%B0%C6%A1ng"),
        ("https://vov.vn/%7Euser/a", "https://vov.vn/~user/a"),
        ("https://VOV.vn./a", "https://vov.vn/a"),
    ],
)
def test_canonical_url(url: str, canonical: str) -> None:
    assert canonical_url(url) == canonical


def test_canonical_url_resolves_against_a_base() -> None:
    assert canonical_url("../b-2.vov#x", base="https://vov.vn/kinh-te/a-1.vov") == "https://vov.vn/b-2.vov"


def test_canonical_url_is_idempotent() -> None:
    url = "HTTPS://Vov.vn:443/x/index.html?b=2&a=1&utm_source=z#f"
    assert canonical_url(canonical_url(url)) == canonical_url(url)


def test_dedupe_keeps_one_candidate_per_canonical_url_and_fills_gaps() -> None:
    a = Candidate(url="https://vov.vn/a-1.vov?utm_source=rss", title=None, source_code="vov")
    b = Candidate(
        url="https://vov.vn/a-1.vov#top", title="Tiêu đề", published=datetime(2025, 1, 1, tzinfo=UTC)
    )
    assert dedupe([a, b]) == [
        Candidate(
            url="https://vov.vn/a-1.vov?utm_source=rss",
            title="Tiêu đề",
            published=datetime(2025, 1, 1, tzinfo=UTC),
            source_code="vov",
        )
    ]
