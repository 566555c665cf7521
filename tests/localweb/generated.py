"""Synthetic sites rendered from memory so benchmarks can crawl thousands of pages without files."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from html import escape

VN_TZ = timezone(timedelta(hours=7))
ARTICLE_PREFIX = "/tin-tuc/bai-"


@dataclass(frozen=True)
class Rendered:
    """A response body with its content type and a stable modification time."""

    body: bytes
    content_type: str
    modified: datetime


@dataclass
class GeneratedSite:
    """N articles spread evenly over a date range, with robots.txt, a monthly sitemap index and a feed."""

    host: str
    n_articles: int
    start: datetime = field(default_factory=lambda: datetime(2023, 1, 1, tzinfo=VN_TZ))
    end: datetime = field(default_factory=lambda: datetime(2025, 6, 30, tzinfo=VN_TZ))
    lang: str = "vi"
    feed_size: int = 20
    # Articles revised after publication: their text gains a line and their sitemap lastmod moves.
    revised: dict[int, datetime] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.n_articles < 1:
            raise ValueError("a generated site needs at least one article")
        span = (self.end - self.start).total_seconds()
        self._step = span / max(self.n_articles - 1, 1)

    # -- what the site contains -------------------------------------------------------------
    def published(self, i: int) -> datetime:
        """Publication time of article i (0-based, oldest first)."""
        return self.start + timedelta(seconds=round(i * self._step))

    def revise(self, i: int, *, at: datetime) -> None:
        """Article i was edited at `at`: a new body, Last-Modified and sitemap lastmod from then on."""
        self.revised[i] = at

    def modified(self, i: int) -> datetime:
        """When article i last changed: its revision, else its publication."""
        return self.revised.get(i, self.published(i))

    def article_path(self, i: int) -> str:
        """URL path of article i."""
        return f"{ARTICLE_PREFIX}{i}.html"

    def article_urls(self) -> list[str]:
        """Every article URL under the real (https) hostname."""
        return [f"https://{self.host}{self.article_path(i)}" for i in range(self.n_articles)]

    def months(self) -> list[tuple[int, int]]:
        """(year, month) pairs that hold at least one article."""
        out: list[tuple[int, int]] = []
        y, m = self.start.year, self.start.month
        while (y, m) <= (self.end.year, self.end.month):
            lo, hi = self._month_range(y, m)
            if lo < hi:
                out.append((y, m))
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return out

    def _month_range(self, year: int, month: int) -> tuple[int, int]:
        first = datetime(year, month, 1, tzinfo=VN_TZ)
        nxt = (
            datetime(year + 1, 1, 1, tzinfo=VN_TZ)
            if month == 12
            else datetime(year, month + 1, 1, tzinfo=VN_TZ)
        )
        lo = max(0, math.ceil((first - self.start).total_seconds() / self._step))
        hi = min(self.n_articles, math.ceil((nxt - self.start).total_seconds() / self._step))
        # rounding in published() can move a boundary article by one second; re-check the edges
        while lo < hi and self.published(lo) < first:
            lo += 1
        while hi < self.n_articles and self.published(hi) < nxt:
            hi += 1
        return lo, max(lo, hi)

    # -- rendering ------------------------------------------------------------------------------
    def render(self, path: str) -> Rendered | None:
        """The response for a path, or None for a 404."""
        if path == "/robots.txt":
            text = f"User-agent: *\nDisallow: /tim-kiem\nSitemap: https://{self.host}/sitemap.xml\n"
            return Rendered(text.encode(), "text/plain; charset=utf-8", self.start)
        if path == "/sitemap.xml":
            return self._sitemap_index()
        if path.startswith("/sitemaps/news-") and path.endswith(".xml"):
            try:
                year, month = (int(x) for x in path[len("/sitemaps/news-") : -len(".xml")].split("-"))
            except ValueError:
                return None
            return self._shard(year, month)
        if path == "/rss.xml":
            return self._feed()
        if path.startswith(ARTICLE_PREFIX) and path.endswith(".html"):
            num = path[len(ARTICLE_PREFIX) : -len(".html")]
            if num.isdigit() and int(num) < self.n_articles and str(int(num)) == num:
                return self._article(int(num))
        return None

    def _sitemap_index(self) -> Rendered:
        parts = [
            '<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        ]
        for y, m in self.months():
            lo, hi = self._month_range(y, m)
            last = max(self.modified(i) for i in range(lo, hi)).isoformat()
            parts.append(
                f"<sitemap><loc>https://{self.host}/sitemaps/news-{y}-{m:02d}.xml</loc><lastmod>{last}</lastmod></sitemap>"
            )
        parts.append("</sitemapindex>\n")
        changed = max([self.published(self.n_articles - 1), *self.revised.values()])
        return Rendered("\n".join(parts).encode(), "application/xml", changed)

    def _shard(self, year: int, month: int) -> Rendered | None:
        if not 1 <= month <= 12:
            return None
        lo, hi = self._month_range(year, month)
        if lo >= hi:
            return None
        parts = [
            '<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
            ' xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">'
        ]
        for i in range(lo, hi):
            # A revised article keeps its publication date in a Google News tag; its lastmod moves.
            news = (
                f"<news:news><news:publication_date>{self.published(i).isoformat()}</news:publication_date>"
                "</news:news>"
                if i in self.revised
                else ""
            )
            parts.append(
                f"<url><loc>https://{self.host}{self.article_path(i)}</loc>"
                f"<lastmod>{self.modified(i).isoformat()}</lastmod>{news}</url>"
            )
        parts.append("</urlset>\n")
        changed = max(self.modified(i) for i in range(lo, hi))
        return Rendered("\n".join(parts).encode(), "application/xml", changed)

    def _feed(self) -> Rendered:
        newest = self.n_articles - 1
        items = []
        for i in range(newest, max(-1, newest - self.feed_size), -1):
            items.append(
                f"<item><title>{escape(self._title(i))}</title>"
                f"<link>https://{self.host}{self.article_path(i)}</link>"
                f"<pubDate>{self.published(i).strftime('%a, %d %b %Y %H:%M:%S %z')}</pubDate></item>"
            )
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
            f"<title>{escape(self.host)}</title><link>https://{self.host}/</link>"
            f"<description>Synthetic feed</description>{''.join(items)}</channel></rss>\n"
        )
        return Rendered(body.encode(), "application/rss+xml", self.published(newest))

    def _title(self, i: int) -> str:
        when = self.published(i)
        if self.lang == "en":
            return f"Province {i % 63 + 1} reports investment figures for {when:%B %Y}"
        return f"Tỉnh số {i % 63 + 1} công bố số liệu thu hút đầu tư tháng {when.month}/{when.year}"

    def paragraphs(self, i: int) -> list[str]:
        """The body paragraphs of article i (subclasses state other facts)."""
        when = self.published(i)
        fdi = f"{i % 900 + 100},{i % 10}" if self.lang != "en" else f"{i % 900 + 100}.{i % 10}"
        rate = 80 + i % 20
        if self.lang == "en":
            return [
                f"In {when:%B %Y} the province attracted about {fdi} million USD of foreign direct investment.",
                f"The occupancy rate of its industrial parks reached {rate}%, the planning department said.",
                "Officials expect digital transformation projects to keep investors interested next year.",
            ]
        return [
            f"Trong tháng {when.month}/{when.year}, tỉnh thu hút khoảng {fdi} triệu USD vốn đầu tư trực tiếp nước ngoài.",
            f"Tỷ lệ lấp đầy các khu công nghiệp đạt {rate}%, theo Sở Kế hoạch và Đầu tư.",
            "Lãnh đạo tỉnh kỳ vọng các dự án chuyển đổi số sẽ tiếp tục thu hút nhà đầu tư trong năm tới.",
        ]

    def _article(self, i: int) -> Rendered:
        when = self.published(i)
        paras = self.paragraphs(i)
        if i in self.revised:
            paras.append(f"Revised {self.revised[i].isoformat()}.")
        body_html = "".join(f"<p>{escape(p)}</p>" for p in paras)
        title = escape(self._title(i))
        html = (
            f'<!DOCTYPE html>\n<html lang="{self.lang}"><head><meta charset="utf-8"><title>{title}</title>'
            f'<meta property="og:title" content="{title}">'
            f'<meta property="article:published_time" content="{when.isoformat()}">'
            f'<link rel="canonical" href="https://{self.host}{self.article_path(i)}"></head>'
            f'<body><header><a href="/">{escape(self.host)}</a></header><main><article>'
            f'<h1>{title}</h1><div class="article-content">{body_html}</div></article></main>'
            "<footer>Synthetic page for benchmarks</footer></body></html>\n"
        )
        return Rendered(html.encode("utf-8"), "text/html; charset=utf-8", self.modified(i).astimezone(UTC))
