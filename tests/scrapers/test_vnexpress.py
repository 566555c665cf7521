"""VnExpress (vnexpress.net): its sample pages parse to exact metadata and text lines; its feed lists them."""

from __future__ import annotations

from datetime import datetime

import pytest

from scrapers.discover import canonical_url
from scrapers.parse import ParsedPage
from tests.scrapers.sources import FURNITURE, ICT, feed_entries, parse_fixture

CODE = "vnexpress"
FEED = "https://vnexpress.net/rss/kinh-doanh.rss"
ARTICLE = "https://vnexpress.net/binh-duong-hut-gan-1-9-ty-usd-von-fdi-sau-9-thang-4797123.html"
PAGES = [
    (
        "https://vnexpress.net/binh-duong-hut-gan-1-9-ty-usd-von-fdi-sau-9-thang-4797123.html",
        "Bình Dương hút gần 1,9 tỷ USD vốn FDI sau 9 tháng",
        datetime(2024, 9, 30, 8, 30, tzinfo=ICT),
        "vi",
    ),
]


@pytest.fixture(scope="module")
def page() -> ParsedPage:
    return parse_fixture(CODE, ARTICLE)


@pytest.mark.parametrize(("url", "title", "published", "lang"), PAGES)
def test_metadata(url: str, title: str, published: datetime, lang: str) -> None:
    parsed = parse_fixture(CODE, url)
    assert (parsed.url, parsed.title, parsed.published_at, parsed.lang) == (url, title, published, lang)


def test_published_keeps_the_vietnam_offset(page: ParsedPage) -> None:
    assert page.published_at is not None and page.published_at.utcoffset() == ICT.utcoffset(None)


def test_text_starts_with_the_title(page: ParsedPage) -> None:
    assert page.text.splitlines()[0] == page.title


@pytest.mark.parametrize(
    "line",
    [
        "9 tháng đầu năm 2024, Bình Dương thu hút gần 1,9 tỷ USD vốn đầu tư trực tiếp nước ngoài, tăng 30% so với cùng kỳ.",
        "Tỷ lệ lấp đầy các khu công nghiệp đạt trên 90%.",
    ],
)
def test_key_lines_are_whole_lines_of_the_text(page: ParsedPage, line: str) -> None:
    assert line in page.text.splitlines()


@pytest.mark.parametrize("furniture", FURNITURE)
def test_page_furniture_stays_out_of_the_text(page: ParsedPage, furniture: str) -> None:
    assert furniture not in page.text


def test_feed_lists_the_article() -> None:
    assert canonical_url(ARTICLE) in {canonical_url(c.url) for c in feed_entries(CODE, FEED)}


def test_the_lead_follows_the_title(page: ParsedPage) -> None:
    assert (
        page.text.splitlines()[1]
        == "Vốn ngoại đổ vào Bình Dương tăng mạnh, chủ yếu vào điện tử và logistics."
    )


def test_title_date_lead_and_body_are_found_by_the_site_markup(page: ParsedPage) -> None:
    assert {k: page.found[k] for k in ("title", "lead", "body")} == {
        "title": "selector",
        "lead": "selector",
        "body": "selector",
    }
