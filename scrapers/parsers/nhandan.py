"""Nhân Dân (nhandan.vn, en.nhandan.vn): title `h1.article__title`, lead `div.article__sapo`, body
`div.article__body`.

Checked against a real nhandan.vn article captured in 2026 (braycolony1y/my-rss-reader, nhandan_test.html):
the lead sits in `div.article__header` after the title, the date in `div.article__meta time[datetime]`, the
cover photo and its `figcaption` in `figure.article__avatar` outside the body; inside the body, ads are
`div.sda_middle` / `div.rennab` and the author line is `div.article__author`; related articles follow in
`div.article-footer div.related-news`. The English edition is assumed to share the CMS (not checked).
"""

from __future__ import annotations

from datetime import date, datetime

from scrapers.parse import ParsedPage
from scrapers.parsers.article import Layout, parse_article
from scrapers.registry import Source

LAYOUTS = (
    Layout(
        name="nhandan 2026",
        since=date(2026, 7, 20),
        title="h1.article__title",
        lead="div.article__sapo",
        body="div.article__body",
        published="div.article__meta time[datetime]",
        drop=(
            "figure, figcaption, div.sda_middle, div.rennab, div.article__author, div.article__source, "
            "div.related-news, div.box-related, div.article__tag"
        ),
    ),
)


def parse(html: str, *, url: str, source: Source, fetched_at: datetime | None) -> ParsedPage:
    """A Nhân Dân article: title, lead and body; date from JSON-LD, else article:published_time."""
    return parse_article(html, url=url, source=source, fetched_at=fetched_at, layouts=LAYOUTS)
