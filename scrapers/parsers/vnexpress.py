"""VnExpress (vnexpress.net): title `h1.title-detail`, lead `p.description`, body `article.fck_detail`.

Checked against real pages captured on 2023-11-02 and 2025-10-22 (the second is fundus's VnExpress
fixture): both use the one layout below. Captions sit in `figure.tplCaption` (older pages: tables of the
same class), the author's name in a right-aligned last paragraph or `p.author_mail`, and related links in
components marked `data-component-type` after `#article-end`.
"""

from __future__ import annotations

from datetime import date, datetime

from scrapers.parse import ParsedPage
from scrapers.parsers.article import Layout, parse_article
from scrapers.registry import Source

LAYOUTS = (
    Layout(
        name="vnexpress 2023",
        since=date(2023, 11, 2),
        title="h1.title-detail",
        lead="p.description",
        body="article.fck_detail",
        published="span.date",
        drop=(
            "figure, figcaption, table.tplCaption, p.author_mail, p[style*='text-align:right'], "
            "[data-component-type], #article-end ~ *, .box-tinlienquanv2, .banner-ads"
        ),
    ),
)


def parse(html: str, *, url: str, source: Source, fetched_at: datetime | None) -> ParsedPage:
    """A VnExpress article: title, lead and body; date from JSON-LD, else the pubdate meta, else `span.date`."""
    return parse_article(html, url=url, source=source, fetched_at=fetched_at, layouts=LAYOUTS)
