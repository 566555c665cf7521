"""`chiso sources check`: is each source's feed and sitemap reachable, and do its selectors still find things?

For each source: fetch its feeds, sitemaps and listings once (politely, through the client), take a few
article URLs from what they list, fetch and parse those, and report per article whether title, date, lead
and body were found by the site's own markup or only by the generic fallback. A source is degraded when it
yields no article, when none of its articles can be fetched, or when its markup matched nothing on a page:
the sign of a site that changed under us.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from scrapers.crawl import FEED_ACCEPT, SITEMAP_ACCEPT, client_allows_host, discover_listings, parse_fetched
from scrapers.discover import (
    Candidate,
    DiscoveryError,
    canonical_url,
    dedupe,
    parse_feed,
    parse_sitemap,
)
from scrapers.http import HttpClient
from scrapers.parse import is_html
from scrapers.registry import Source

FIELDS = ("title", "date", "lead", "body")
SITE_FOUND = frozenset({"selector", "jsonld", "meta"})


@dataclass(frozen=True)
class LinkCheck:
    """One feed, sitemap or listing: reachable or not, and what it listed or why it failed."""

    kind: str
    url: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class ArticleCheck:
    """One article page: fetched or not, and what found each field."""

    url: str
    ok: bool
    reason: str = ""
    found: dict[str, str] = field(default_factory=dict)
    body_chars: int = 0

    @property
    def markup_matched(self) -> bool:
        """Whether the site's layout (not the generic fallback) read this page."""
        return self.ok and not self.found.get("layout", "").startswith("fallback")


@dataclass(frozen=True)
class SourceCheck:
    """A source's health: its links, how many article URLs they listed, and the articles checked."""

    code: str
    links: tuple[LinkCheck, ...]
    articles_found: int
    articles: tuple[ArticleCheck, ...]

    @property
    def problems(self) -> list[str]:
        """Why the source is degraded (empty when healthy)."""
        found: list[str] = []
        if self.articles_found == 0:
            found.append("no article found in its feeds, sitemaps or listings")
        elif not any(a.ok for a in self.articles):
            found.append("no article could be fetched")
        unmatched = [a for a in self.articles if a.ok and not a.markup_matched]
        broken = [a for a in self.articles if a.reason.startswith("parse failed")]
        if broken:
            found.append(f"parser failed on {len(broken)} of {len(self.articles)} articles")
        if unmatched:
            found.append(f"site markup matched nothing on {len(unmatched)} of {len(self.articles)} articles")
        return found

    @property
    def degraded(self) -> bool:
        """True when the source needs an operator's look."""
        return bool(self.problems)


def check_source(source: Source, client: HttpClient, *, articles: int = 3) -> SourceCheck:
    """Check one source: every feed, sitemap and listing once, then up to `articles` article pages."""
    links: list[LinkCheck] = []
    candidates: list[Candidate] = []
    for feed in source.feeds:
        link, found = _check_feed(feed.url, source, client)
        links.append(link)
        candidates.extend(found)
    for sitemap in source.sitemaps:
        link, found = _check_sitemap(sitemap.url, source, client)
        links.append(link)
        candidates.extend(found)
    for listing in source.listings:
        problems: list[str] = []
        listed = discover_listings(replace(source, listings=(listing,)), client, problems, max_pages=1)
        detail = "; ".join(problems) or f"{len(listed)} links"
        links.append(LinkCheck("listing", listing.url, not problems and bool(listed), detail))
        candidates.extend(listed)
    pages = _article_urls(candidates, source, client)
    checked = tuple(_check_article(url, source, client) for url in pages[:articles])
    return SourceCheck(code=source.code, links=tuple(links), articles_found=len(pages), articles=checked)


def check_sources(sources: Iterable[Source], client: HttpClient, *, articles: int = 3) -> list[SourceCheck]:
    """Check each source in turn; one unreachable site never stops the others."""
    return [check_source(source, client, articles=articles) for source in sources]


def _check_feed(url: str, source: Source, client: HttpClient) -> tuple[LinkCheck, list[Candidate]]:
    result = client.fetch(url, accept=FEED_ACCEPT)
    if not result.ok:
        return LinkCheck("feed", url, False, result.reason), []
    entries = parse_feed(result.body, feed_url=url, source_code=source.code)
    if not entries:
        return LinkCheck("feed", url, False, "reachable, but no entries"), []
    return LinkCheck("feed", url, True, f"{len(entries)} entries"), entries


def _check_sitemap(url: str, source: Source, client: HttpClient) -> tuple[LinkCheck, list[Candidate]]:
    result = client.fetch(url, accept=SITEMAP_ACCEPT)
    if not result.ok:
        return LinkCheck("sitemap", url, False, result.reason), []
    try:
        sitemap = parse_sitemap(result.body, url=url)
    except DiscoveryError as exc:
        return LinkCheck("sitemap", url, False, str(exc)), []
    if not sitemap.entries:
        return LinkCheck("sitemap", url, False, "reachable, but empty"), []
    if not sitemap.is_index:
        pages = [
            Candidate(url=e.url, title=e.title, published=e.published, source_code=source.code)
            for e in sitemap.entries
        ]
        return LinkCheck("sitemap", url, True, f"{len(pages)} pages"), pages
    # An index: its newest shard stands for the rest (one more request, not the whole archive).
    newest = max(sitemap.entries, key=lambda e: (e.lastmod is not None, e.lastmod or 0, e.url))
    detail = f"index of {len(sitemap.entries)} sitemaps"
    shard = client.fetch(newest.url, accept=SITEMAP_ACCEPT)
    if not shard.ok:
        return LinkCheck("sitemap", url, True, f"{detail}; newest {newest.url}: {shard.reason}"), []
    try:
        entries = parse_sitemap(shard.body, url=newest.url).entries
    except DiscoveryError as exc:
        return LinkCheck("sitemap", url, True, f"{detail}; {exc}"), []
    pages = [
        Candidate(url=e.url, title=e.title, published=e.published, source_code=source.code) for e in entries
    ]
    return LinkCheck("sitemap", url, True, f"{detail}; newest has {len(pages)} pages"), pages


def _article_urls(candidates: Sequence[Candidate], source: Source, client: HttpClient) -> list[str]:
    """Article URLs on the source's servers, newest first where dates are known, each once."""
    unique = [c for c in dedupe(candidates) if client_allows_host(client, c.url)]
    dated = sorted(
        unique, key=lambda c: c.published.timestamp() if c.published else float("-inf"), reverse=True
    )
    seen: set[str] = set()
    urls: list[str] = []
    for candidate in dated:
        key = canonical_url(candidate.url)
        if key not in seen:
            seen.add(key)
            urls.append(candidate.url)
    return urls


def _check_article(url: str, source: Source, client: HttpClient) -> ArticleCheck:
    result = client.fetch(url)
    if not result.ok:
        return ArticleCheck(url=url, ok=False, reason=result.reason)
    if not is_html(result.content_type, result.body):
        return ArticleCheck(url=url, ok=False, reason=f"not an HTML page ({result.content_type})")
    try:
        page = parse_fetched(result, source=source)
    except Exception as exc:  # a parser bug on one page is reported, never stops the check
        return ArticleCheck(url=url, ok=False, reason=f"parse failed: {type(exc).__name__}: {exc}")
    # Parsers of non-article pages (ICF's programme pages) report no per-field provenance.
    found = dict(page.found) or {
        "layout": f"{source.parser or 'generic'} parser",
        **dict.fromkeys(FIELDS, "n/a"),
    }
    return ArticleCheck(url=url, ok=True, found=found, body_chars=page.body_chars or len(page.text))


def format_report(checks: Sequence[SourceCheck]) -> str:
    """The report as plain text: one block per source, its verdict first."""
    lines: list[str] = []
    for check in checks:
        verdict = "DEGRADED" if check.degraded else "ok"
        lines.append(f"{check.code}: {verdict}")
        for link in check.links:
            state = "ok" if link.ok else "FAILED"
            lines.append(f"  {link.kind} {link.url}: {state}, {link.detail}")
        lines.append(f"  articles: {check.articles_found} found, {len(check.articles)} checked")
        for article in check.articles:
            if not article.ok:
                lines.append(f"  - {article.url}: FAILED, {article.reason}")
                continue
            fields = " ".join(f"{name}={article.found.get(name, 'missing')}" for name in FIELDS)
            lines.append(
                f"  - {article.url}: {fields}, body {article.body_chars} chars ({article.found.get('layout', '?')})"
            )
        lines.extend(f"  problem: {problem}" for problem in check.problems)
    degraded = [c.code for c in checks if c.degraded]
    summary = f"{len(checks) - len(degraded)} of {len(checks)} sources ok"
    lines.append(summary + (f"; degraded: {', '.join(degraded)}" if degraded else ""))
    return "\n".join(lines)
