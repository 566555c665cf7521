"""Dated layouts: the layout in use at a page's publication date reads it, the others are tried next, the
generic extractor last; metadata dates come before visible ones; captions and ads stay out."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from scrapers.parse import ParsedPage
from scrapers.parsers.article import Layout, choose_layouts, parse_article
from tests.scrapers.sources import FETCHED_AT, ICT, source

OLD = Layout(name="old", since=date(2020, 1, 1), title="h1.head", lead="div.intro", body="div.story")
NEW = Layout(
    name="new",
    since=date(2024, 6, 1),
    title="h1.title",
    lead="p.sapo",
    body="div.content",
    drop="figure, .ad",
)
URL = "https://vnexpress.net/mot-bai-viet-1234567.html"


def _page(body: str, head: str = "") -> str:
    return f"<html lang='vi'><head>{head}</head><body>{body}</body></html>"


def _parse(html: str, layouts: tuple[Layout, ...] = (OLD, NEW)) -> ParsedPage:
    return parse_article(html, url=URL, source=source("vnexpress"), fetched_at=FETCHED_AT, layouts=layouts)


def _published(day: str) -> str:
    return f"<meta property='article:published_time' content='{day}T08:00:00+07:00'>"


OLD_MARKUP = (
    "<h1 class='head'>Tiêu đề cũ</h1><div class='intro'>Dẫn cũ.</div><div class='story'><p>Thân cũ.</p></div>"
)
NEW_MARKUP = (
    "<h1 class='title'>Tiêu đề mới</h1><p class='sapo'>Dẫn mới.</p><div class='content'><p>Thân một.</p>"
    "<figure><img alt=''><figcaption>Chú thích ảnh</figcaption></figure><div class='ad'>Quảng cáo</div>"
    "<p>Thân hai.</p></div>"
)


@pytest.mark.parametrize(
    ("published", "first"),
    [
        (datetime(2023, 5, 1, tzinfo=ICT), "old"),
        (datetime(2024, 6, 1, tzinfo=ICT), "new"),
        (datetime(2025, 1, 1, tzinfo=ICT), "new"),
        (datetime(2019, 1, 1, tzinfo=ICT), "old"),
        (None, "new"),
    ],
)
def test_the_layout_in_use_at_the_publication_date_comes_first(
    published: datetime | None, first: str
) -> None:
    assert choose_layouts((NEW, OLD), published)[0].name == first


def test_an_old_page_is_read_by_the_old_layout() -> None:
    page = _parse(_page(OLD_MARKUP, _published("2023-03-01")))
    assert (page.found["layout"], page.text) == ("old", "Tiêu đề cũ\nDẫn cũ.\nThân cũ.")


def test_a_new_page_is_read_by_the_new_layout_without_caption_or_ad() -> None:
    page = _parse(_page(NEW_MARKUP, _published("2025-03-01")))
    assert (page.found["layout"], page.text) == ("new", "Tiêu đề mới\nDẫn mới.\nThân một.\nThân hai.")


def test_a_page_in_the_other_layouts_markup_falls_back_to_that_layout() -> None:
    page = _parse(_page(OLD_MARKUP, _published("2025-03-01")))
    assert page.found["layout"] == "old"


def test_a_page_no_layout_matches_goes_to_the_generic_extractor() -> None:
    page = _parse(
        _page("<h1>Khác hẳn</h1><main><p>Một đoạn văn đủ dài để trích xuất được nội dung chính.</p></main>")
    )
    assert (page.found["layout"], page.found["body"], page.found["lead"]) == (
        "fallback (no layout matched)",
        "fallback",
        "missing",
    )


def test_a_lead_repeated_as_the_first_paragraph_is_kept_once() -> None:
    html = _page(
        "<h1 class='title'>T</h1><p class='sapo'>Dẫn.</p><div class='content'><p>Dẫn.</p><p>Thân.</p></div>"
    )
    assert _parse(html).text == "T\nDẫn.\nThân."


@pytest.mark.parametrize(
    ("head", "visible", "expected", "found_by"),
    [
        (
            '<script type=\'application/ld+json\'>{"@type": "NewsArticle", "datePublished": "2024-07-01T09:00:00+07:00"}</script>'
            + _published("2024-07-02"),
            "3/7/2024 10:00",
            datetime(2024, 7, 1, 9, 0, tzinfo=ICT),
            "jsonld",
        ),
        (_published("2024-07-02"), "3/7/2024 10:00", datetime(2024, 7, 2, 8, 0, tzinfo=ICT), "meta"),
        ("", "Thứ tư, 3/7/2024, 10:05 (GMT+7)", datetime(2024, 7, 3, 10, 5, tzinfo=ICT), "selector"),
    ],
)
def test_metadata_dates_come_before_visible_dates(
    head: str, visible: str, expected: datetime, found_by: str
) -> None:
    layout = Layout(name="dated", title="h1", body="div.content", published="span.date")
    html = _page(
        f"<h1>T</h1><span class='date'>{visible}</span><div class='content'><p>Thân.</p></div>", head
    )
    page = _parse(html, (layout,))
    assert (page.published_at, page.found["date"]) == (expected, found_by)


def test_an_html_escaped_json_ld_headline_is_unescaped() -> None:
    ld = '<script type=\'application/ld+json\'>{"@type": "NewsArticle", "headline": "Ph&#250;t cu&#7889;i"}</script>'
    page = _parse(_page("<div class='content'><p>Thân.</p></div>", ld), (NEW,))
    assert (page.title, page.found["title"]) == ("Phút cuối", "jsonld")


def test_text_after_a_dropped_element_is_kept() -> None:
    html = _page(
        "<h1 class='title'>T</h1><div class='content'><p>Trước <span class='ad'>QC</span>sau.</p></div>"
    )
    assert _parse(html, (NEW,)).text == "T\nTrước sau."
