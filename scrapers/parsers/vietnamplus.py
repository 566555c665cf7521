"""VietnamPlus (www., en., fr.vietnamplus.vn): title `h1.article__title`, lead `div.article__sapo`, body
`div.article__body`, the CMS Nhân Dân also runs on.

Checked against a real www.vietnamplus.vn article captured in 2026 (braycolony1y/my-rss-reader,
scratch_vietnamplus.html): the body's first paragraph repeats the lead (kept once), the agency credit
"(TTXVN/Vietnam+)" is `div.article__source`, ads are `div.sda_middle` / `div.rennab`, tags `div.article__tag`.
The English and French editions are assumed to share the CMS (not checked).
"""

from __future__ import annotations

from datetime import date, datetime

from scrapers.parse import ParsedPage
from scrapers.parsers.article import Layout, parse_article
from scrapers.registry import Source

LAYOUTS = (
    Layout(
        name="vietnamplus 2026",
        since=date(2026, 7, 21),
        title="h1.article__title",
        lead="div.article__sapo",
        body="div.article__body",
        published="div.article__meta time[datetime]",
        drop=(
            "figure, figcaption, div.sda_middle, div.rennab, div.article__source, div.article__author, "
            "div.related-news, div.article__tag"
        ),
    ),
)


def parse(html: str, *, url: str, source: Source, fetched_at: datetime | None) -> ParsedPage:
    """A VietnamPlus article: title, lead and body; date from JSON-LD, else article:published_time."""
    return parse_article(html, url=url, source=source, fetched_at=fetched_at, layouts=LAYOUTS)
