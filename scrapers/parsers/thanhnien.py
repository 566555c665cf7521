"""Thanh Niên (thanhnien.vn): title `h1.detail-title`, lead `.detail-sapo`, body `div.detail-content`.

Checked against a real thanhnien.vn article captured in 2026 (braycolony1y/my-rss-reader, tn_test.html):
the lead is `div.detail-sapo[data-role=sapo]` (an `h2` on Tuổi Trẻ), the body
`div.detail-content.afcbc-body[data-role=content]` inside `div.detail-cmain`; photos are
`figure.VCSortableInPreviewMode[type=Photo]` with `figcaption.PhotoCMS_Caption` and `div.PhotoCMS_Author`,
videos `[type=VideoStream]` with `.VideoCMS_Caption`; ads are injected by scripts into `zone` elements.
The title is `h1.detail-title` (its text in `span[data-role=title]`), the author block `div.detail-author`
and the visible date `div.detail-time time[datetime]` sit between title and lead; metadata has
article:published_time and `meta[itemprop=datePublished]`.
"""

from __future__ import annotations

from datetime import date, datetime

from scrapers.parse import ParsedPage
from scrapers.parsers import photocms
from scrapers.parsers.article import parse_article
from scrapers.registry import Source

# `since`: the publication date of the captured page, the earliest day this markup is known to apply from.
LAYOUTS = (
    photocms.layout(
        name="thanhnien 2026",
        since=date(2026, 7, 17),
        title_alt="h1.details__headline",
        lead="div.detail-sapo, h2.detail-sapo",
        published="div.detail-time time[datetime], div.detail-time",
        drop_extra="[data-check-position]",
    ),
)


def parse(html: str, *, url: str, source: Source, fetched_at: datetime | None) -> ParsedPage:
    """A Thanh Niên article: title, lead and body; date from article:published_time, else the page."""
    return parse_article(html, url=url, source=source, fetched_at=fetched_at, layouts=LAYOUTS)
