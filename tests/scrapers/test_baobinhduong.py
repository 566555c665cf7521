"""Báo Bình Dương (baobinhduong.vn): its sample pages parse to exact metadata and text lines; its feed lists them."""

from __future__ import annotations

from datetime import datetime

import pytest

from scrapers.discover import canonical_url
from scrapers.parse import ParsedPage
from tests.scrapers.sources import FURNITURE, ICT, feed_entries, parse_fixture

CODE = "baobinhduong"
FEED = "https://baobinhduong.vn/rss/kinh-te.rss"
ARTICLE = "https://baobinhduong.vn/binh-duong-huong-toi-top-1-cong-dong-thong-minh-the-gioi-a312845.html"
PAGES = [
    (
        "https://baobinhduong.vn/binh-duong-huong-toi-top-1-cong-dong-thong-minh-the-gioi-a312845.html",
        "Bình Dương hướng tới TOP 1 cộng đồng thông minh thế giới",
        datetime(2024, 2, 15, 8, 0, tzinfo=ICT),
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
        "Sau 3 năm liên tiếp có tên trong Top 7 của ICF (2021-2023), Bình Dương hướng tới TOP 1 – danh hiệu Cộng đồng thông minh của năm.",
        "Năm 2023, GRDP của tỉnh tăng 5,03%; GRDP bình quân đầu người đạt khoảng 172 triệu đồng.",
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
        page.text.splitlines()[1] == "Sau ba năm liền có mặt trong Top 7 của ICF, tỉnh đặt mục tiêu cao hơn."
    )


def test_title_date_lead_and_body_are_found_by_the_site_markup(page: ParsedPage) -> None:
    assert {k: page.found[k] for k in ("title", "lead", "body")} == {
        "title": "selector",
        "lead": "selector",
        "body": "selector",
    }
