"""VOV (vov.vn): its sample pages parse to exact metadata and text lines; its feed lists them."""

from __future__ import annotations

from datetime import datetime

import pytest

from scrapers.discover import canonical_url
from scrapers.parse import ParsedPage
from tests.scrapers.sources import FURNITURE, ICT, feed_entries, parse_fixture

CODE = "vov"
FEED = "https://vov.vn/rss/kinh-te.rss"
ARTICLE = "https://vov.vn/kinh-te/binh-duong-lan-thu-3-lien-tiep-vao-top-7-cong-dong-thong-minh-the-gioi-post1028341.vov"
PAGES = [
    (
        "https://vov.vn/kinh-te/binh-duong-lan-thu-3-lien-tiep-vao-top-7-cong-dong-thong-minh-the-gioi-post1028341.vov",
        "Bình Dương lần thứ 3 liên tiếp vào Top 7 cộng đồng thông minh thế giới",
        datetime(2023, 6, 22, 9, 30, tzinfo=ICT),
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
        "Đây là lần thứ 3 liên tiếp tỉnh được xướng tên trong nhóm 7 cộng đồng tiêu biểu, sau hai năm 2021 và 2022.",
        "Trước đó, Bình Dương đã có 5 năm liên tiếp (2019-2023) nằm trong danh sách Smart21 của tổ chức này.",
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
        == "Diễn đàn Cộng đồng thông minh (ICF) vừa công bố Top 7 cộng đồng thông minh tiêu biểu của năm 2023, trong đó có tỉnh Bình Dương."
    )


def test_title_date_lead_and_body_are_found_by_the_site_markup(page: ParsedPage) -> None:
    assert {k: page.found[k] for k in ("title", "lead", "body")} == {
        "title": "selector",
        "lead": "selector",
        "body": "selector",
    }
