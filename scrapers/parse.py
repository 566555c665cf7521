"""Page bytes -> a document: title, publication date, language, main text and canonical URL."""

from __future__ import annotations

import importlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import ModuleType
from typing import Any, Protocol, cast
from urllib.parse import urljoin, urlsplit

from scrapers.discover import canonical_url, html_tree, same_host
from scrapers.encoding import decode_body
from scrapers.registry import Source

_HTML_TYPES = ("text/html", "application/xhtml+xml")


@dataclass(frozen=True)
class ParsedPage:
    """What a page says about itself, ready to become a document row."""

    url: str
    title: str | None
    published_at: datetime | None
    lang: str | None
    text: str
    # What found each field ("selector", "jsonld", "meta", "fallback", "missing") and the layout used.
    found: Mapping[str, str] = field(default_factory=dict)
    body_chars: int = 0


class PageParser(Protocol):
    """A source-specific parser module (scrapers/parsers/<name>.py) exposes this function."""

    def __call__(
        self, html: str, *, url: str, source: Source, fetched_at: datetime | None
    ) -> ParsedPage:  # pragma: no cover - protocol
        ...


def is_html(content_type: str | None, body: bytes) -> bool:
    """Whether a response is an HTML page (by type, or by its first bytes when the type is missing)."""
    if content_type:
        return content_type.split(";", 1)[0].strip().lower() in _HTML_TYPES
    head = body[:1024].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<html" in head


def canonical_link(html: str, *, page_url: str, tree: Any | None = None) -> str:
    """The page's canonical URL: its <link rel=canonical> when on the same host, else the page URL, normalised.

    `tree` is the page's `html_tree`, when the caller has parsed it already.
    """
    tree = html_tree(html) if tree is None else tree
    if tree is not None:
        for link in tree.xpath("//link[@href]"):
            rel = (link.get("rel") or "").lower().split()
            if "canonical" not in rel:
                continue
            href = urljoin(page_url, link.get("href").strip())
            if urlsplit(href).scheme in ("http", "https") and same_host(href, page_url):
                return canonical_url(href)
            break
    return canonical_url(page_url)


def load_parser(name: str) -> PageParser:
    """The `parse` function of scrapers/parsers/<name>.py."""
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise ValueError(f"invalid parser name {name!r}")
    module: ModuleType = importlib.import_module(f"scrapers.parsers.{name}")
    return cast(PageParser, module.parse)


def parse_page(
    body: bytes | str,
    *,
    url: str,
    source: Source,
    fetched_at: datetime | None = None,
    content_type: str | None = None,
) -> ParsedPage:
    """Parse a fetched page with the source's parser module, else as an article by its selectors, else generically."""
    from scrapers.parsers.article import layout_from_selectors, parse_article

    html = body if isinstance(body, str) else decode_body(body, content_type=content_type)[0]
    if source.parser:
        return load_parser(source.parser)(html, url=url, source=source, fetched_at=fetched_at)
    layout = layout_from_selectors(source.selectors)
    if layout is not None:
        return parse_article(html, url=url, source=source, fetched_at=fetched_at, layouts=(layout,))
    return parse_html(html, url=url, source=source, fetched_at=fetched_at)


def parse_html(
    html: str,
    *,
    url: str,
    source: Source,
    fetched_at: datetime | None = None,
    selectors: dict[str, str] | None = None,
) -> ParsedPage:
    """The generic path: the extractors' document-text function with the source's (or given) selectors."""
    from extractors.document import document_from_html

    chosen = dict(source.selectors) if selectors is None else selectors
    doc = document_from_html(html, url=url, fetched_at=fetched_at, selectors=chosen or None)
    published = doc.published
    if published is not None and published.tzinfo is None:
        published = published.replace(tzinfo=UTC)
    if published is not None and fetched_at is not None and published > fetched_at:
        published = None
    return ParsedPage(
        url=canonical_link(html, page_url=url),
        title=doc.title,
        published_at=published,
        lang=doc.lang or source.lang,
        text=doc.text,
    )
