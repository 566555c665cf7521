"""News articles by layout: dated CSS layouts per publisher, metadata (JSON-LD, meta tags) before visible dates.

A publisher module (scrapers/parsers/vnexpress.py...) names its layouts, each with the date from which
pages are known to use it; `parse_article` picks the layout for the page's publication date (so a backfill
over old pages uses the old markup), falls back to the other layouts when the chosen one matches nothing,
and only then to the generic extractor. The article text is title, lead and body, one block per line.
What each field was found by is kept in `ParsedPage.found`, for `chiso sources check`.
"""

from __future__ import annotations

import functools
import html as html_lib
import json
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from lxml.cssselect import CSSSelector
from lxml.html import HtmlElement

from scrapers.discover import html_tree
from scrapers.parse import ParsedPage, canonical_link, parse_html
from scrapers.registry import Source

VN_TZ = timezone(timedelta(hours=7))
ARTICLE_TYPES = frozenset(
    {"NewsArticle", "Article", "ReportageNewsArticle", "AnalysisNewsArticle", "BlogPosting"}
)
# Published-time meta tags, most specific first (Open Graph article, schema.org microdata, VnExpress's pubdate).
DATE_META = (
    "meta[property='article:published_time']",
    "meta[itemprop='datePublished']",
    "meta[name='pubdate']",
)
# Never text: scripts, styles, embedded frames and forms.
ALWAYS_DROP = "script, style, noscript, template, iframe, form, button, svg, video, audio"
BLOCKS = frozenset(
    {"p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "td", "th", "dt", "dd", "tr"}
    | {"div", "section", "article", "ul", "ol", "table", "figure", "header", "footer", "main", "aside"}
)
_VISIBLE_DATE = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?:\D{1,4}(\d{1,2})[:hg](\d{2}))?")
_VISIBLE_TIME_FIRST = re.compile(r"(\d{1,2}):(\d{2})\D{1,6}(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")


@dataclass(frozen=True)
class Layout:
    """One version of a publisher's article markup.

    `since` is the earliest publication date the layout is known to apply from (None: no date known);
    selectors are CSS, comma-separated alternatives allowed. `drop` removes captions, author lines,
    related-article boxes and ads from inside the lead and body.
    """

    title: str
    body: str
    lead: str | None = None
    published: str | None = None
    drop: str | None = None
    since: date | None = None
    name: str = "layout"


def layout_from_selectors(selectors: dict[str, str] | Any) -> Layout | None:
    """The single layout a sources.yaml `selectors` mapping describes, or None without a body selector."""
    if not selectors or not selectors.get("body"):
        return None
    return Layout(
        title=selectors.get("title") or "h1",
        body=selectors["body"],
        lead=selectors.get("lead"),
        published=selectors.get("published"),
        drop=selectors.get("drop"),
        name="sources.yaml selectors",
    )


def choose_layouts(layouts: Sequence[Layout], published: datetime | None) -> list[Layout]:
    """The layouts to try, best first: the newest one in use at the publication date, then the others.

    Without a date the newest layout comes first; a page older than every `since` gets the oldest one.
    """
    dated = sorted(layouts, key=lambda layout: layout.since or date.min, reverse=True)
    if published is None or not dated:
        return dated
    day = published.date()
    in_use = [layout for layout in dated if (layout.since or date.min) <= day]
    first = in_use[0] if in_use else dated[-1]
    return [first, *(layout for layout in dated if layout is not first)]


def parse_article(
    html: str, *, url: str, source: Source, fetched_at: datetime | None, layouts: Sequence[Layout]
) -> ParsedPage:
    """A news article: title, lead and body by the page's layout; dates from metadata first."""
    # One lxml tree for the layout's selectors, the metadata dates, the language and the canonical link.
    tree = html_tree(html)
    if tree is None:
        return _fallback(html, url=url, source=source, fetched_at=fetched_at, why="not HTML")
    article = _jsonld_article(tree)
    published, date_by = _metadata_date(tree, article)
    for layout in choose_layouts(layouts, published):
        body_nodes = _select(tree, layout.body)
        if not body_nodes:
            continue
        if published is None:
            published = _visible_date(tree, layout.published)
            date_by = "selector" if published is not None else "missing"
        title, title_by = _title(tree, layout.title, article)
        lead_nodes = _select(tree, layout.lead) if layout.lead else []
        lead = _lines(lead_nodes, layout.drop)
        body = _lines(body_nodes, layout.drop)
        if lead and body and body[0] == " ".join(lead):
            body = body[1:]
        page = ParsedPage(
            url=canonical_link(html, page_url=url, tree=tree),
            title=title,
            published_at=_not_after(published, fetched_at),
            lang=_lang(tree) or source.lang,
            text="\n".join(_unique([*([title] if title else []), *lead, *body])),
            found={
                "layout": layout.name,
                "title": title_by,
                "date": date_by,
                "lead": "selector" if lead else "missing",
                "body": "selector" if body else "missing",
            },
            body_chars=sum(len(line) for line in body),
        )
        if published is None:
            generic = parse_html(html, url=url, source=source, fetched_at=fetched_at, selectors={})
            if generic.published_at is not None:
                page = replace(
                    page, published_at=generic.published_at, found={**page.found, "date": "fallback"}
                )
        return page
    page = _fallback(html, url=url, source=source, fetched_at=fetched_at, why="no layout matched")
    if published is not None:
        page = replace(
            page, published_at=_not_after(published, fetched_at), found={**page.found, "date": date_by}
        )
    return page


def _fallback(html: str, *, url: str, source: Source, fetched_at: datetime | None, why: str) -> ParsedPage:
    page = parse_html(html, url=url, source=source, fetched_at=fetched_at, selectors={})
    body_chars = max(0, len(page.text) - len(page.title or ""))
    found = {
        "layout": f"fallback ({why})",
        "title": "fallback" if page.title else "missing",
        "date": "fallback" if page.published_at else "missing",
        "lead": "missing",
        "body": "fallback" if body_chars else "missing",
    }
    return replace(page, found=found, body_chars=body_chars)


@functools.cache
def _selector(css: str) -> CSSSelector:
    """A CSS selector compiled once to XPath (matches come back in document order)."""
    return CSSSelector(css, translator="html")


def _select(tree: HtmlElement, selector: str | None) -> list[HtmlElement]:
    return list(_selector(selector)(tree)) if selector else []


def _is_element(node: Any) -> bool:
    # Comments and processing instructions are nodes too in lxml; their text is never page text.
    return isinstance(node.tag, str)


def _strings(node: HtmlElement) -> Iterator[str]:
    """The text pieces under a node, in order, without comments (what get_text joins)."""
    if node.text and _is_element(node):
        yield node.text
    for child in node:
        if _is_element(child):
            yield from _strings(child)
        if child.tail:
            yield child.tail


def _text(node: HtmlElement, separator: str = " ") -> str:
    return separator.join(_strings(node))


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFC", text).replace("\u00a0", " ").replace("\u200b", "")
    return " ".join(text.split())


def _jsonld_article(tree: HtmlElement) -> dict[str, Any]:
    """The page's JSON-LD NewsArticle (or Article) object, or {}."""
    for script in _select(tree, "script[type='application/ld+json']"):
        try:
            data = json.loads(_script_string(script), strict=False)
        except ValueError:
            continue
        for node in _walk(data):
            kind = node.get("@type")
            kinds = set(kind) if isinstance(kind, list) else {kind}
            if kinds & ARTICLE_TYPES:
                return node
    return {}


def _script_string(script: HtmlElement) -> str:
    # A script's one text node; a script holding comments or several pieces has no single string.
    if len(script) == 0:
        return script.text or ""
    return ""


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _jsonld_text(value: Any) -> str | None:
    # Some sites HTML-escape inside JSON-LD ("ph&#250;t"): unescape once.
    if not isinstance(value, str):
        return None
    text = _clean(html_lib.unescape(value))
    return text or None


def _parse_iso(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(html_lib.unescape(value).strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=VN_TZ)


def _metadata_date(tree: HtmlElement, article: dict[str, Any]) -> tuple[datetime | None, str]:
    """The publication time from JSON-LD NewsArticle, else article:published_time and kin."""
    parsed = _parse_iso(_jsonld_text(article.get("datePublished")))
    if parsed is not None:
        return parsed, "jsonld"
    for selector in DATE_META:
        for meta in _select(tree, selector):
            parsed = _parse_iso(str(meta.get("content") or ""))
            if parsed is not None:
                return parsed, "meta"
    return None, "missing"


def _visible_date(tree: HtmlElement, selector: str | None) -> datetime | None:
    """A date as printed on the page ("Thứ tư, 22/10/2025, 19:25 (GMT+7)"), Vietnam time."""
    for node in _select(tree, selector):
        attribute = node.get("datetime") or node.get("content")
        parsed = _parse_iso(str(attribute)) if attribute else None
        if parsed is not None:
            return parsed
        text = _clean(_text(node))
        found = _day_month_year(text)
        if found is not None:
            return found
    return None


def _day_month_year(text: str) -> datetime | None:
    time_first = _VISIBLE_TIME_FIRST.search(text)
    if time_first:
        hour, minute, day, month, year = (int(g) for g in time_first.groups())
    else:
        match = _VISIBLE_DATE.search(text)
        if not match:
            return None
        day, month, year = int(match[1]), int(match[2]), int(match[3])
        hour, minute = int(match[4] or 0), int(match[5] or 0)
    try:
        return datetime(year, month, day, hour, minute, tzinfo=VN_TZ)
    except ValueError:
        return None


def _title(tree: HtmlElement, selector: str, article: dict[str, Any]) -> tuple[str | None, str]:
    for node in _select(tree, selector):
        text = _clean(_text(node))
        if text:
            return text, "selector"
    headline = _jsonld_text(article.get("headline"))
    if headline:
        return headline, "jsonld"
    for meta in _select(tree, "meta[property='og:title']"):
        if _clean(str(meta.get("content") or "")):
            return _clean(str(meta.get("content"))), "meta"
    return None, "missing"


def _lines(nodes: Iterable[HtmlElement], drop: str | None) -> list[str]:
    """The visible text of the nodes, one line per block, without dropped parts (captions, ads...)."""
    lines: list[str] = []
    remove = f"{ALWAYS_DROP}, {drop}" if drop else ALWAYS_DROP
    dropped: set[HtmlElement] | None = None
    for node in nodes:
        if dropped is None:
            # Matched once over the whole page; a dropped element is skipped with what it holds.
            dropped = set(_selector(remove)(node.getroottree().getroot()))
        if node in dropped:
            continue
        lines.extend(_block_lines(node, dropped))
    return [line for line in lines if line]


def _block_lines(root: HtmlElement, dropped: set[HtmlElement]) -> list[str]:
    parts: list[str] = []

    def walk(node: HtmlElement) -> None:
        if node.text and _is_element(node):
            parts.append(node.text)
        for child in node:
            if _is_element(child) and child not in dropped:
                block = child.tag in BLOCKS
                if child.tag == "br" or block:
                    parts.append("\n")
                walk(child)
                if block:
                    parts.append("\n")
            if child.tail:
                parts.append(child.tail)

    walk(root)
    return [_clean(line) for line in "".join(parts).split("\n") if _clean(line)]


def _unique(lines: Iterable[str]) -> list[str]:
    """Lines in order, a line equal to the one before it dropped (a sapo repeated as first paragraph)."""
    out: list[str] = []
    for line in lines:
        if not out or out[-1] != line:
            out.append(line)
    return out


def _lang(tree: HtmlElement) -> str | None:
    root = tree if tree.tag == "html" else tree.find(".//html")
    value = str(root.get("lang") or "") if root is not None else ""
    return value.strip()[:2].lower() if re.match(r"^[a-zA-Z]{2}", value.strip()) else None


def _not_after(published: datetime | None, fetched_at: datetime | None) -> datetime | None:
    if published is None or fetched_at is None:
        return published
    limit = fetched_at if fetched_at.tzinfo else fetched_at.replace(tzinfo=UTC)
    return None if published > limit else published
