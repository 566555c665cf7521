"""Intelligent Community Forum: press releases, program pages and winners table parse with one line per
community; listing pages yield the press releases and year pages that sync_icf walks."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from scrapers.parse import ParsedPage
from scrapers.parsers.icf import IcfLink, listing_candidates, listing_links, program_of
from tests.scrapers.sources import FURNITURE, feed_entries, fixture_bytes, parse_fixture

CODE = "icf"
SITE = "https://www.intelligentcommunity.org"
TOP7_2023 = f"{SITE}/icf_announces_the_top7_intelligent_communities_of_2023"
SMART21_2023 = f"{SITE}/icf_names_the_smart21_communities_of_2023"
ICOTY_2011 = f"{SITE}/eindhoven_named_intelligent_community_of_the_year_2011"
NEW_YORK_SUMMER = timezone(timedelta(hours=-4))
NEW_YORK_WINTER = timezone(timedelta(hours=-5))
TOP7_OF_2023 = [
    "Binh Duong Province, Vietnam",
    "Coral Springs, Florida, USA",
    "Dublin, Ohio, USA",
    "Fredericton, New Brunswick, Canada",
    "Hudson, Ohio, USA",
    "Sunshine Coast, Queensland, Australia",
    "Tainan City, Taiwan",
]


@pytest.fixture(scope="module")
def top7_release() -> ParsedPage:
    return parse_fixture(CODE, TOP7_2023)


@pytest.mark.parametrize(
    ("url", "title", "published"),
    [
        (
            TOP7_2023,
            "ICF Announces the Top7 Intelligent Communities of 2023",
            datetime(2023, 6, 21, 9, 0, tzinfo=NEW_YORK_SUMMER),
        ),
        (
            SMART21_2023,
            "ICF Names the Smart21 Communities of 2023",
            datetime(2023, 1, 24, 10, 0, tzinfo=NEW_YORK_WINTER),
        ),
        (
            ICOTY_2011,
            "Eindhoven Named Intelligent Community of the Year 2011",
            datetime(2011, 6, 10, 18, 0, tzinfo=NEW_YORK_SUMMER),
        ),
    ],
)
def test_press_release_metadata(url: str, title: str, published: datetime) -> None:
    page = parse_fixture(CODE, url)
    assert (page.url, page.title, page.published_at, page.lang) == (url, title, published, "en")


def test_top7_release_lists_one_community_per_line_after_the_intro(top7_release: ParsedPage) -> None:
    lines = top7_release.text.splitlines()
    start = lines.index("In alphabetical order, the Top7 Intelligent Communities of 2023 are:")
    assert lines[start + 1 : start + 8] == TOP7_OF_2023


def test_smart21_release_lists_twenty_one_lines() -> None:
    lines = parse_fixture(CODE, SMART21_2023).text.splitlines()
    start = lines.index("The Smart21 Communities of 2023 are:")
    assert (lines[start + 1], lines[start + 21], len(lines[start + 1 : start + 22])) == (
        "Binh Duong Province, Vietnam",
        "Yilan County, Taiwan",
        21,
    )


@pytest.mark.parametrize("furniture", FURNITURE)
def test_page_furniture_stays_out_of_the_text(top7_release: ParsedPage, furniture: str) -> None:
    assert furniture not in top7_release.text


@pytest.mark.parametrize(
    ("url", "heading"),
    [
        (f"{SITE}/top7", "The Top7 Intelligent Communities of 2023"),
        (f"{SITE}/smart21", "The Smart21 Communities of 2023"),
    ],
)
def test_program_page_lists_the_year_heading_then_communities(url: str, heading: str) -> None:
    lines = parse_fixture(CODE, url).text.splitlines()
    assert lines[lines.index(heading) + 1] == "Binh Duong Province, Vietnam"


@pytest.mark.parametrize("path", ["top7", "smart21", "intelligent_community_of_the_year"])
def test_program_pages_have_no_publication_date(path: str) -> None:
    assert parse_fixture(CODE, f"{SITE}/{path}").published_at is None


def test_winners_table_rows_become_year_and_community_lines() -> None:
    lines = parse_fixture(CODE, f"{SITE}/intelligent_community_of_the_year").text.splitlines()
    assert lines[1:4] == ["Year – Community", "2010 – Suwon, South Korea", "2011 – Eindhoven, Netherlands"]


def test_feed_lists_the_press_releases() -> None:
    urls = [c.url for c in feed_entries(CODE, f"{SITE}/feed")]
    assert urls == [TOP7_2023, SMART21_2023, ICOTY_2011]


@pytest.mark.parametrize(
    ("page", "expected"),
    [
        ("top7", [IcfLink(TOP7_2023, "Read the announcement", "press_release", "top7", 2023)]),
        ("smart21", [IcfLink(SMART21_2023, "Read the announcement", "press_release", "smart21", 2023)]),
        (
            "intelligent_community_of_the_year",
            [
                IcfLink(
                    ICOTY_2011,
                    "Eindhoven named Intelligent Community of the Year 2011",
                    "press_release",
                    "icoty",
                    2011,
                )
            ],
        ),
    ],
)
def test_listing_links_skip_the_site_navigation(page: str, expected: list[IcfLink]) -> None:
    url = f"{SITE}/{page}"
    assert listing_links(fixture_bytes(url), page_url=url) == expected


def test_listing_links_filter_by_year() -> None:
    url = f"{SITE}/intelligent_community_of_the_year"
    assert listing_links(fixture_bytes(url), page_url=url, years={2023}) == []


def test_listing_links_classify_year_pages_and_profiles() -> None:
    html = (
        "<main><a href='/smart21_2019'>Smart21 2019</a>"
        "<a href='/binh_duong_community_profile'>Binh Duong community profile</a>"
        "<a href='https://other.example.org/top7_2019'>elsewhere</a><a href='/about'>About</a></main>"
    )
    assert listing_links(html, page_url=f"{SITE}/smart21") == [
        IcfLink(f"{SITE}/smart21_2019", "Smart21 2019", "year_page", "smart21", 2019),
        IcfLink(
            f"{SITE}/binh_duong_community_profile", "Binh Duong community profile", "profile", None, None
        ),
    ]


def test_listing_candidates_include_the_program_page_itself() -> None:
    url = f"{SITE}/top7"
    assert [c.url for c in listing_candidates(fixture_bytes(url), page_url=url, source_code=CODE)] == [
        url,
        TOP7_2023,
    ]


@pytest.mark.parametrize(
    ("text", "program"),
    [
        ("ICF Names the Smart21 Communities of 2023", "smart21"),
        ("icf_announces_the_top7_intelligent_communities_of_2023", "top7"),
        ("the Top 7 of 2021", "top7"),
        ("Eindhoven Named Intelligent Community of the Year 2011", "icoty"),
        ("ICF Foundation news", None),
    ],
)
def test_program_of(text: str, program: str | None) -> None:
    assert program_of(text) == program
