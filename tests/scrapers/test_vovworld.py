"""VOV World / VOV5 (vovworld.vn), English and Vietnamese editions: its sample pages parse to exact metadata and text lines; its feed lists them."""

from __future__ import annotations

from datetime import datetime

import pytest

from scrapers.discover import canonical_url
from scrapers.parse import ParsedPage
from tests.scrapers.sources import FURNITURE, ICT, feed_entries, parse_fixture

CODE = "vovworld"
FEED = "https://vovworld.vn/en-US/rss/business-64.rss"
ARTICLE = "https://vovworld.vn/en-US/business/binh-duong-named-among-worlds-top7-intelligent-communities-1210987.vov"
PAGES = [
    (
        "https://vovworld.vn/en-US/business/binh-duong-named-among-worlds-top7-intelligent-communities-1210987.vov",
        "Binh Duong named among world's Top7 Intelligent Communities for third year running",
        datetime(2023, 6, 28, 14, 0, tzinfo=ICT),
        "en",
    ),
    (
        "https://vovworld.vn/vi-VN/kinh-te/binh-duong-tren-hanh-trinh-xay-dung-thanh-pho-thong-minh-1210456.vov",
        "Bình Dương trên hành trình xây dựng thành phố thông minh",
        datetime(2023, 6, 26, 10, 0, tzinfo=ICT),
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
        "The province was also listed in the Smart21 for five consecutive years, from 2019 to 2023.",
        "In the first five months of 2023 Binh Duong attracted 1,052.3 million USD of foreign direct investment, according to local statistics.",
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
        == "(VOV5) - The southern province reached the Intelligent Community Forum's final group again in 2023."
    )


def test_title_date_lead_and_body_are_found_by_the_site_markup(page: ParsedPage) -> None:
    assert {k: page.found[k] for k in ("title", "lead", "body")} == {
        "title": "selector",
        "lead": "selector",
        "body": "selector",
    }
