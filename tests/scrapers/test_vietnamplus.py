"""VietnamPlus (www.vietnamplus.vn): its sample pages parse to exact metadata and text lines; its feed lists them."""

from __future__ import annotations

from datetime import datetime

import pytest

from scrapers.discover import canonical_url
from scrapers.parse import ParsedPage
from tests.scrapers.sources import FURNITURE, ICT, feed_entries, parse_fixture

CODE = "vietnamplus"
FEED = "https://www.vietnamplus.vn/rss/kinhte-311.rss"
ARTICLE = "https://www.vietnamplus.vn/binh-duong-day-manh-chuyen-doi-so-phan-dau-vao-nhom-dan-dau-dti-post912345.vnp"
PAGES = [
    (
        "https://www.vietnamplus.vn/binh-duong-day-manh-chuyen-doi-so-phan-dau-vao-nhom-dan-dau-dti-post912345.vnp",
        "Bình Dương đẩy mạnh chuyển đổi số, phấn đấu vào nhóm dẫn đầu DTI",
        datetime(2023, 11, 14, 10, 5, tzinfo=ICT),
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
        "Năm 2022, Bình Dương xếp thứ 4/63 tỉnh, thành phố về Chỉ số chuyển đổi số cấp tỉnh (DTI).",
        "Tỉnh phấn đấu đến năm 2025 nằm trong Top 3 DTI cả nước.",
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
        page.text.splitlines()[1] == "Chính quyền số, kinh tế số và xã hội số được tỉnh triển khai đồng bộ."
    )


def test_title_date_lead_and_body_are_found_by_the_site_markup(page: ParsedPage) -> None:
    assert {k: page.found[k] for k in ("title", "lead", "body")} == {
        "title": "selector",
        "lead": "selector",
        "body": "selector",
    }
