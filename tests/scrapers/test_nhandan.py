"""Nhân Dân (nhandan.vn): its sample pages parse to exact metadata and text lines; its feed lists them."""

from __future__ import annotations

from datetime import datetime

import pytest

from scrapers.discover import canonical_url
from scrapers.parse import ParsedPage
from tests.scrapers.sources import FURNITURE, ICT, feed_entries, parse_fixture

CODE = "nhandan"
FEED = "https://nhandan.vn/rss/kinhte-1185.rss"
ARTICLE = "https://nhandan.vn/hai-phong-vuot-binh-duong-ve-grdp-binh-quan-dau-nguoi-nam-2022-post737654.html"
PAGES = [
    (
        "https://nhandan.vn/hai-phong-vuot-binh-duong-ve-grdp-binh-quan-dau-nguoi-nam-2022-post737654.html",
        "Hải Phòng vượt Bình Dương về GRDP bình quân đầu người năm 2022",
        datetime(2023, 2, 8, 7, 0, tzinfo=ICT),
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
        "Năm 2022, Hải Phòng vượt qua Bình Dương để đứng thứ 4 cả nước về GRDP bình quân đầu người.",
        "Bình Dương lùi xuống vị trí thứ 5 dù quy mô kinh tế vẫn tăng.",
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
        == "Bảng xếp hạng GRDP bình quân đầu người của các địa phương có sự thay đổi đáng chú ý."
    )


def test_title_date_lead_and_body_are_found_by_the_site_markup(page: ParsedPage) -> None:
    assert {k: page.found[k] for k in ("title", "lead", "body")} == {
        "title": "selector",
        "lead": "selector",
        "body": "selector",
    }
