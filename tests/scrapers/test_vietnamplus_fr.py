"""VietnamPlus French (fr.vietnamplus.vn): its sample pages parse to exact metadata and text lines; its feed lists them."""

from __future__ import annotations

from datetime import datetime

import pytest

from scrapers.discover import canonical_url
from scrapers.parse import ParsedPage
from tests.scrapers.sources import FURNITURE, ICT, feed_entries, parse_fixture

CODE = "vietnamplus_fr"
FEED = "https://fr.vietnamplus.vn/rss/economie-311.rss"
ARTICLE = (
    "https://fr.vietnamplus.vn/binh-duong-parmi-les-sept-communautes-intelligentes-de-2023-post201234.vnp"
)
PAGES = [
    (
        "https://fr.vietnamplus.vn/binh-duong-parmi-les-sept-communautes-intelligentes-de-2023-post201234.vnp",
        "Binh Duong parmi les sept communautés intelligentes de l'année 2023",
        datetime(2023, 6, 24, 8, 30, tzinfo=ICT),
        "fr",
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
        "La province de Binh Duong figure dans le Top 7 des communautés intelligentes de 2023 désigné par l'Intelligent Community Forum (ICF).",
        "Au premier semestre 2023, Binh Duong a attiré 1,05 milliard de dollars d'investissements directs étrangers (IDE).",
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
        == "La province du Sud figure à nouveau dans le Top 7 de l'Intelligent Community Forum."
    )


def test_title_date_lead_and_body_are_found_by_the_site_markup(page: ParsedPage) -> None:
    assert {k: page.found[k] for k in ("title", "lead", "body")} == {
        "title": "selector",
        "lead": "selector",
        "body": "selector",
    }
