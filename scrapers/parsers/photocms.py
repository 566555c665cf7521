"""The article CMS Thanh Niên and Tuổi Trẻ share: `detail-*` classes, `PhotoCMS_*` captions, typed embeds.

Its parts are named once here; each publisher's module keeps only where its markup differs (the lead is a
`div` on Thanh Niên's captured page, an `h2` on Tuổi Trẻ's) and what it was checked against.
"""

from __future__ import annotations

from datetime import date

from scrapers.parsers.article import Layout

TITLE = "h1.detail-title"
BODY = "div.detail-content"
# Captions, photo credits, embedded videos, related-article boxes, the author block and script-filled ad zones.
DROP = (
    "figure, figcaption, .PhotoCMS_Caption, .PhotoCMS_Author, .VideoCMS_Caption, "
    "[type='VideoStream'], [type='RelatedNews'], [type='RelatedOneNews'], .detail-author, "
    "div.author-info, zone, [id^='zone']"
)


def layout(
    *, name: str, title_alt: str, lead: str, published: str, drop_extra: str, since: date | None = None
) -> Layout:
    """The CMS's layout with one publisher's alternative title selector, lead, visible date and extra drops."""
    return Layout(
        name=name,
        since=since,
        title=f"{TITLE}, {title_alt}",
        lead=lead,
        body=BODY,
        published=published,
        drop=f"{DROP}, {drop_extra}",
    )
