"""Tuổi Trẻ (tuoitre.vn): title `h1.detail-title`, lead `h2.detail-sapo`, body `div.detail-content`.

Checked against two real tuoitre.vn pages captured in 2026 (braycolony1y/my-rss-reader, tuoitre.html and
tuoitre_test.html) for the head only: a JSON-LD NewsArticle whose headline is HTML-escaped, and
article:published_time. The body markup (the sapo as an `h2`, captions in `.PhotoCMS_Caption`, related
boxes typed `RelatedNews` / `RelatedOneNews`) follows the same CMS as Thanh Niên's captured page; the
captures' bodies were not read.
"""

from __future__ import annotations

from datetime import datetime

from scrapers.parse import ParsedPage
from scrapers.parsers import photocms
from scrapers.parsers.article import parse_article
from scrapers.registry import Source

LAYOUTS = (
    photocms.layout(
        name="tuoitre",
        title_alt="h1.article-title",
        lead="h2.detail-sapo, .detail-sapo",
        published="div.detail-time",
        drop_extra=".kbwscwl-relatedbox",
    ),
)


def parse(html: str, *, url: str, source: Source, fetched_at: datetime | None) -> ParsedPage:
    """A Tuổi Trẻ article: title, lead and body; date from JSON-LD, else article:published_time."""
    return parse_article(html, url=url, source=source, fetched_at=fetched_at, layouts=LAYOUTS)
