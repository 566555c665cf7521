"""The Intelligent Community Forum's pages: press releases, Smart21 / Top7 / ICOTY pages, community profiles."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal
from urllib.parse import urljoin, urlsplit

from lxml import etree
from lxml import html as lxml_html

from scrapers.discover import Candidate, canonical_url, fold, html_tree, same_host
from scrapers.parse import ParsedPage, parse_html
from scrapers.registry import Source

# ICF's site is WordPress: the post title, body and date carry the theme's entry-* classes.
DEFAULT_SELECTORS = {
    "title": "h1.entry-title",
    "body": "div.entry-content",
    "published": "time.entry-date",
}
PROGRAM_PAGES = {
    "smart21": "smart21",
    "top7": "top7",
    "intelligent_community_of_the_year": "icoty",
}
LinkKind = Literal["program_page", "press_release", "year_page", "profile"]
_YEAR_RE = re.compile(r"(?<!\d)(19[89]\d|20\d\d)(?!\d)")
_PROGRAM_RE = re.compile(r"smart\s*21|top\s*7|intelligent community of the year|icoty")


@dataclass(frozen=True)
class IcfLink:
    """A link worth following from an ICF listing: what it is, its program and award year when stated."""

    url: str
    title: str
    kind: LinkKind
    program: str | None
    year: int | None


def parse(html: str, *, url: str, source: Source, fetched_at: datetime | None) -> ParsedPage:
    """An ICF page as a document; list items and table rows come through as one line each."""
    selectors = dict(source.selectors) or dict(DEFAULT_SELECTORS)
    page = parse_html(
        _rows_as_lines(html), url=url, source=source, fetched_at=fetched_at, selectors=selectors
    )
    if page.published_at is not None and not _has_date_metadata(html):
        # Program pages (Smart21, Top7, winners) carry no date; a year guessed from their tables
        # ("2016") is not a publication date and would skew relative years.
        page = replace(page, published_at=None)
    return page


def _has_date_metadata(html: str) -> bool:
    tree = html_tree(html)
    if tree is None:
        return False
    return bool(
        tree.xpath(
            "//meta[@property='article:published_time' or @itemprop='datePublished']"
            "|//time[@datetime]|//script[@type='application/ld+json'][contains(., 'datePublished')]"
        )
    )


def listing_candidates(html: str | bytes, *, page_url: str, source_code: str | None) -> list[Candidate]:
    """Discovery on an ICF listing: the program page itself (it states official lists) plus its links."""
    links = listing_links(html, page_url=page_url)
    return [
        Candidate(url=page_url, title=None, source_code=source_code),
        *(Candidate(url=link.url, title=link.title, source_code=source_code) for link in links),
    ]


def _rows_as_lines(html: str) -> str:
    # Winner tables ("Year | Community") would otherwise become one cell per line, separating a year
    # from its community; a row becomes one paragraph "2011 – Eindhoven, Netherlands".
    if "<table" not in html.lower():
        return html
    tree = html_tree(html)
    if tree is None:
        return html
    for row in tree.xpath("//table//tr"):
        cells = [" ".join(c.text_content().split()) for c in row.xpath("./th|./td")]
        paragraph = lxml_html.Element("p")
        paragraph.text = " – ".join(c for c in cells if c)
        row.addprevious(paragraph)
        row.getparent().remove(row)
    for table in tree.xpath("//table"):
        div = lxml_html.Element("div")
        div.extend(list(table.iter("p")))
        table.addprevious(div)
        table.getparent().remove(table)
    return etree.tostring(tree, encoding="unicode", method="html")


def program_of(text: str) -> str | None:
    """The ICF program a title or URL names: smart21, top7 or icoty."""
    folded = fold(text).replace("_", " ").replace("-", " ")
    match = _PROGRAM_RE.search(folded)
    if not match:
        return None
    found = match.group(0).replace(" ", "")
    if found.startswith("smart"):
        return "smart21"
    if found.startswith("top"):
        return "top7"
    return "icoty"


def listing_links(html: str | bytes, *, page_url: str, years: set[int] | None = None) -> list[IcfLink]:
    """Links in the content of an ICF listing or program page (not the site navigation) to press releases,
    year pages and community profiles, optionally only those stating one of `years`."""
    tree = html_tree(html)
    if tree is None:
        return []
    content = tree.xpath("//main|//article|//div[contains(@class,'entry-content')]")
    scope = content[0] if content else tree
    found: dict[str, IcfLink] = {}
    for anchor in scope.iter("a"):
        if anchor.xpath("ancestor::nav|ancestor::header|ancestor::footer"):
            continue
        href = (anchor.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:")):
            continue
        url = urljoin(page_url, href)
        if urlsplit(url).scheme not in ("http", "https") or not same_host(url, page_url):
            continue
        key = canonical_url(url)
        if key == canonical_url(page_url) or key in found:
            continue
        title = " ".join(anchor.text_content().split())
        path = urlsplit(url).path.strip("/")
        label = f"{title} {path}"
        year_match = _YEAR_RE.search(label)
        year = int(year_match.group(1)) if year_match else None
        program = program_of(label)
        kind: LinkKind
        if path in PROGRAM_PAGES:
            kind, program = "program_page", PROGRAM_PAGES[path]
        elif program is not None and re.search(r"announc|name|award|release|select", fold(label)):
            kind = "press_release"
        elif program is not None and year is not None:
            kind = "year_page"
        elif program is None and "communit" in fold(label):
            kind = "profile"
        else:
            continue
        if years is not None and year is not None and year not in years:
            continue
        found[key] = IcfLink(url=url, title=title, kind=kind, program=program, year=year)
    return list(found.values())
