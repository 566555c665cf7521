"""Discovery as pure functions of bytes: feeds, sitemaps, listing pages, the topic filter, canonical URLs."""

from __future__ import annotations

import contextlib
import re
import unicodedata
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urljoin, urlsplit, urlunsplit

import feedparser
from lxml import etree
from lxml import html as lxml_html

from scrapers.encoding import decode_body, utf16_or_32

DEFAULT_MAX_SITEMAP_BYTES = 50 * 1024 * 1024  # the sitemaps.org limit for one uncompressed file
DEFAULT_MAX_XML_BYTES = DEFAULT_MAX_SITEMAP_BYTES
DEFAULT_MAX_SITEMAP_DEPTH = 3
DEFAULT_MAX_SITEMAPS = 500


class DiscoveryError(ValueError):
    """A discovery input that must not be processed (a compressed bomb, unparsable XML)."""


@dataclass(frozen=True)
class Candidate:
    """A URL that may be an article worth fetching, with what discovery learned about it."""

    url: str
    title: str | None = None
    published: datetime | None = None
    source_code: str | None = None
    summary: str = ""
    # When the discovery input says the page last changed (sitemap lastmod, feed <updated>), if it says.
    modified: datetime | None = None

    @property
    def changed_at(self) -> datetime | None:
        """The page's last change as discovery knows it: its modification date, else its publication date."""
        return self.modified or self.published


# --- canonical URLs --------------------------------------------------------------------------------

_TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "_ga",
        "_gl",
        "mkt_tok",
        "spm",
        # Zalo, the Vietnamese messenger, appends these to every shared link.
        "gidzl",
        "zarsrc",
        "zacc",
        "utm",
    }
)
_TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hsa_")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_INDEX_RE = re.compile(r"/(?:index|default)\.(?:html?|php|aspx?)$", re.IGNORECASE)
_SAFE_PATH = "/:@!$&'()*+,;=-._~%"


def canonical_url(url: str, *, base: str | None = None) -> str:
    """One spelling per page: lower-case scheme and host, no default port, fragment, tracking parameters
    or trailing index file; remaining query parameters sorted; path percent-encoding normalised."""
    if base is not None:
        url = urljoin(base, url.strip())
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    if host and not host.isascii():
        with contextlib.suppress(UnicodeError):
            host = host.encode("idna").decode("ascii")
    netloc = host
    if parts.port is not None and parts.port != _DEFAULT_PORTS.get(scheme):
        netloc = f"{host}:{parts.port}"
    path = quote(unquote(parts.path), safe=_SAFE_PATH) or "/"
    path = _INDEX_RE.sub("/", path)
    query_pairs = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k.lower() not in _TRACKING_PARAMS and not k.lower().startswith(_TRACKING_PREFIXES)
    ]
    query = urlencode(sorted(query_pairs), doseq=True)
    return urlunsplit((scheme, netloc, path, query, ""))


def same_host(url: str, other: str) -> bool:
    """Whether two URLs are on the same host (case-insensitive)."""
    return (urlsplit(url).hostname or "").lower() == (urlsplit(other).hostname or "").lower()


# --- dates -----------------------------------------------------------------------------------------


def parse_date(value: str | None) -> datetime | None:
    """A tz-aware datetime from RFC 822 or ISO 8601 (W3C) text, keeping the original offset.

    A date without a time zone is taken as UTC; a bare date (2025-11) is its first instant.
    """
    if not value or not value.strip():
        return None
    value = value.strip()
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        match = re.fullmatch(r"(\d{4})-(\d{2})(?:-(\d{2}))?", value)
        if match:
            parsed = datetime(int(match[1]), int(match[2]), int(match[3] or 1))
        else:
            try:
                parsed = parsedate_to_datetime(value)
            except (TypeError, ValueError, IndexError):
                return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def in_range(when: datetime | None, *, since: datetime | None, until: datetime | None) -> bool:
    """Whether a date falls in [since, until]; unknown dates are kept (the page decides later)."""
    if when is None:
        return True
    if since is not None and when < _aware(since):
        return False
    return not (until is not None and when > _aware(until))


def _aware(when: datetime) -> datetime:
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


# --- feeds -----------------------------------------------------------------------------------------


def parse_feed(
    data: bytes | str,
    *,
    feed_url: str,
    source_code: str | None = None,
    max_bytes: int = DEFAULT_MAX_XML_BYTES,
) -> list[Candidate]:
    """Entries of an RSS or Atom feed, tolerant of missing XML declarations, BOMs, UTF-16 and minified XML.

    Relative links resolve against the feed URL; published dates keep the feed's own UTC offset
    (feedparser's *_parsed fields are converted to UTC, so the original strings are read instead).
    XML that is not well-formed, declares entities or exceeds max_bytes is a DiscoveryError (checked_xml).
    """
    xml = _feed_bytes(data)
    checked_xml(xml, url=feed_url, what="feed", max_bytes=max_bytes)
    parsed: Any = feedparser.parse(
        xml,
        response_headers={"content-location": feed_url},
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    candidates: list[Candidate] = []
    for entry in parsed.entries:
        link = _entry_link(entry)
        if not link:
            continue
        url = urljoin(feed_url, link.strip())
        if urlsplit(url).scheme not in ("http", "https"):
            continue
        published = parse_date(entry.get("published") or entry.get("updated") or entry.get("created"))
        if published is None:
            stamp = entry.get("published_parsed") or entry.get("updated_parsed")
            if stamp:
                year, month, day, hour, minute, second = stamp[:6]
                published = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
        summary = _plain(entry.get("summary") or "")
        title = _plain(entry.get("title") or "") or None
        # No `modified` from feeds: feedparser maps a missing <updated> onto the publication date.
        candidates.append(
            Candidate(url=url, title=title, published=published, source_code=source_code, summary=summary)
        )
    return candidates


_XML_ENCODING_RE = re.compile(r"""^(\s*<\?xml[^>]*?\bencoding\s*=\s*)["'][^"']*["']""", re.IGNORECASE)


def _feed_bytes(data: bytes | str) -> bytes:
    # feedparser reads UTF-16 only with an XML declaration; BOM-only UTF-16 feeds come back empty,
    # so those (and str input) are handed over as UTF-8 with the declaration rewritten to match.
    if isinstance(data, bytes) and not utf16_or_32(data):
        return data
    text = data if isinstance(data, str) else decode_body(data, content_type=None)[0]
    return _XML_ENCODING_RE.sub(r'\1"utf-8"', text.lstrip("\ufeff"), count=1).encode("utf-8")


def _entry_link(entry: Any) -> str | None:
    link = entry.get("link")
    if link:
        return str(link)
    for item in entry.get("links") or []:
        if item.get("href") and item.get("rel", "alternate") == "alternate":
            return str(item["href"])
    guid = entry.get("id") or ""
    return guid if guid.startswith(("http://", "https://", "/")) else None


def _plain(markup: str) -> str:
    if "<" not in markup:
        return " ".join(markup.split())
    try:
        text = lxml_html.fromstring(f"<div>{markup}</div>").text_content()
    except (etree.ParserError, ValueError):
        text = re.sub(r"<[^>]+>", " ", markup)
    return " ".join(text.split())


# --- sitemaps --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SitemapEntry:
    """One <url> or <sitemap> entry."""

    url: str
    lastmod: datetime | None = None
    title: str | None = None
    published: datetime | None = None


@dataclass(frozen=True)
class Sitemap:
    """A parsed sitemap: either a urlset (pages) or an index (more sitemaps)."""

    is_index: bool
    entries: tuple[SitemapEntry, ...]


def decompress(data: bytes, *, max_bytes: int = DEFAULT_MAX_SITEMAP_BYTES) -> bytes:
    """Gunzip if gzip-compressed, refusing to expand beyond max_bytes (a compressed bomb)."""
    if not data.startswith(b"\x1f\x8b"):
        if len(data) > max_bytes:
            raise DiscoveryError(f"sitemap of {len(data)} bytes exceeds the {max_bytes}-byte cap")
        return data
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, max_bytes + 1)
    except zlib.error as exc:
        raise DiscoveryError(f"corrupt gzip sitemap: {exc}") from None
    if len(out) > max_bytes or inflater.unconsumed_tail:
        raise DiscoveryError(f"gzip sitemap expands beyond the {max_bytes}-byte cap")
    return out


# Strict on purpose: a truncated file or bytes unlike their declared encoding are refused, not half-read
# (recovering would store the part before the damage as if it were the whole). Entities are never
# resolved, nothing is loaded from the network and huge_tree keeps libxml2's depth and size limits.
_XML_PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    huge_tree=False,
    recover=False,
    remove_comments=True,
)


def checked_xml(data: bytes, *, url: str, what: str, max_bytes: int = DEFAULT_MAX_XML_BYTES) -> Any:
    """The parsed root of a feed or sitemap, or a DiscoveryError: one line naming the URL and the reason.

    Refused: more than max_bytes, not well-formed (truncated, wrong declared encoding), and any entity
    declaration (entity expansion, "billion laughs", or external entities reading files or URLs).
    """
    if len(data) > max_bytes:
        raise DiscoveryError(f"{what} {url}: refused: {len(data)} bytes exceed the {max_bytes}-byte cap")
    declared = _declared_entities(data)
    if declared:
        raise DiscoveryError(_entities_refused(what, url, declared))
    try:
        root = etree.fromstring(data, parser=_XML_PARSER)
    except etree.XMLSyntaxError as exc:
        detail = " ".join(str(exc).split("(<string>")[0].split()).rstrip(",")
        if "encoding" in detail.lower():
            raise DiscoveryError(
                f"{what} {url}: refused: bytes do not match the declared encoding ({detail})"
            ) from None
        raise DiscoveryError(f"{what} {url}: refused: not well-formed XML ({detail})") from None
    if root is None:
        raise DiscoveryError(f"{what} {url}: refused: no root element")
    # The byte scan above misses declarations in UTF-16 documents; the parsed DTD does not.
    dtd = root.getroottree().docinfo.internalDTD
    entities = [str(entity.name) for entity in dtd.iterentities()] if dtd is not None else []
    if entities:
        raise DiscoveryError(_entities_refused(what, url, entities))
    return root


_DOCTYPE_SUBSET_RE = re.compile(rb"<!DOCTYPE[^>\[]*\[(.*?)\]\s*>", re.DOTALL)
_ENTITY_NAME_RE = re.compile(rb"<!ENTITY\s+(?:%\s+)?([^\s\"'>]+)")


def _declared_entities(data: bytes) -> list[str]:
    """Entity names declared in the internal DTD subset (ASCII-compatible encodings), before any parsing:
    libxml2 would otherwise stop a "billion laughs" with a message that does not say why."""
    subset = _DOCTYPE_SUBSET_RE.search(data)
    if subset is None:
        return []
    return [name.decode("ascii", "replace") for name in _ENTITY_NAME_RE.findall(subset.group(1))]


def _entities_refused(what: str, url: str, names: Sequence[str]) -> str:
    return (
        f"{what} {url}: refused: declares XML entities ({', '.join(names[:3])}): "
        "entity expansion and external entities are not read"
    )


def parse_sitemap(data: bytes, *, url: str, max_bytes: int = DEFAULT_MAX_SITEMAP_BYTES) -> Sitemap:
    """A sitemap or sitemap index (plain or gzip), with lastmod and Google News title/date where present."""
    try:
        xml = decompress(data, max_bytes=max_bytes).lstrip()
    except DiscoveryError as exc:
        raise DiscoveryError(f"sitemap {url}: refused: {exc}") from None
    if not xml:
        return Sitemap(is_index=False, entries=())
    root = checked_xml(xml, url=url, what="sitemap", max_bytes=max_bytes)
    is_index = etree.QName(root).localname == "sitemapindex"
    wanted = "sitemap" if is_index else "url"
    entries: list[SitemapEntry] = []
    for node in root:
        if not isinstance(node.tag, str) or etree.QName(node).localname != wanted:
            continue
        fields = _children_text(node)
        loc = fields.get("loc")
        if not loc:
            continue
        entries.append(
            SitemapEntry(
                url=urljoin(url, loc),
                lastmod=parse_date(fields.get("lastmod")),
                title=fields.get("title") or None,
                published=parse_date(fields.get("publication_date")),
            )
        )
    return Sitemap(is_index=is_index, entries=tuple(entries))


def _children_text(node: Any) -> dict[str, str]:
    found: dict[str, str] = {}
    for child in node.iter():
        if child is node or not isinstance(child.tag, str):
            continue
        name = etree.QName(child).localname
        text = (child.text or "").strip()
        if text and name not in found:
            found[name] = text
    return found


_SHARD_RE = re.compile(r"(?<!\d)(20\d{2}|19\d{2})[-_/](\d{1,2})(?:[-_/](\d{1,2}))?(?!\d)")


def shard_month(url: str) -> tuple[int, int] | None:
    """The (year, month) a sitemap shard URL covers, e.g. /sitemaps/news-2023-7.xml or -2023-07, else None."""
    path = urlsplit(url).path
    for match in _SHARD_RE.finditer(path):
        year, month = int(match[1]), int(match[2])
        if 1 <= month <= 12:
            return year, month
    return None


def shard_in_range(url: str, *, since: datetime | None, until: datetime | None) -> bool:
    """Whether a monthly shard can hold pages of [since, until] (shards without a month always can)."""
    month = shard_month(url)
    if month is None:
        return True
    first = date(month[0], month[1], 1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    # widened by a day each side: shard months are in the site's time zone, the range in UTC
    if since is not None and last < _aware(since).date() - timedelta(days=1):
        return False
    return not (until is not None and first > _aware(until).date() + timedelta(days=1))


@dataclass(frozen=True)
class SitemapWalk:
    """What walking sitemaps found, and what it skipped or could not read."""

    candidates: tuple[Candidate, ...]
    visited: tuple[str, ...]
    problems: tuple[str, ...]


def walk_sitemaps(
    roots: Iterable[str],
    fetch: Callable[[str], bytes | None],
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    source_code: str | None = None,
    max_depth: int = DEFAULT_MAX_SITEMAP_DEPTH,
    max_sitemaps: int = DEFAULT_MAX_SITEMAPS,
    max_bytes: int = DEFAULT_MAX_SITEMAP_BYTES,
) -> SitemapWalk:
    """Walk sitemap indexes down to page entries within [since, until].

    `fetch` returns a sitemap's bytes or None when unavailable. Shards whose month or lastmod put them
    outside the range are not fetched; a seen-set, a depth cap and a count cap stop looping or endless indexes.
    """
    seen: set[str] = set()
    visited: list[str] = []
    problems: list[str] = []
    found: dict[str, Candidate] = {}
    queue: list[tuple[str, int]] = [(u, 0) for u in roots]
    while queue:
        url, depth = queue.pop(0)
        key = canonical_url(url)
        if key in seen:
            continue
        seen.add(key)
        if len(visited) >= max_sitemaps:
            problems.append(f"stopped after {max_sitemaps} sitemaps (cap); {url} and later not read")
            break
        visited.append(url)
        data = fetch(url)
        if data is None:
            problems.append(f"sitemap {url} unavailable")
            continue
        try:
            sitemap = parse_sitemap(data, url=url, max_bytes=max_bytes)
        except DiscoveryError as exc:
            problems.append(str(exc))
            continue
        if sitemap.is_index:
            if depth + 1 > max_depth:
                problems.append(f"sitemap index {url} nested deeper than {max_depth}; not followed")
                continue
            for entry in sitemap.entries:
                if not shard_in_range(entry.url, since=since, until=until):
                    continue
                if since is not None and entry.lastmod is not None and entry.lastmod < _aware(since):
                    continue
                queue.append((entry.url, depth + 1))
            continue
        for entry in sitemap.entries:
            when = entry.published or entry.lastmod
            if not in_range(when, since=since, until=until):
                continue
            candidate = Candidate(
                url=entry.url,
                title=entry.title,
                published=when,
                source_code=source_code,
                modified=entry.lastmod,
            )
            found.setdefault(canonical_url(entry.url), candidate)
    return SitemapWalk(candidates=tuple(found.values()), visited=tuple(visited), problems=tuple(problems))


# --- listing pages ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Listing:
    """Article links on a listing page and the next page, if any."""

    links: tuple[Candidate, ...]
    next_url: str | None


_ARTICLE_SUFFIX_RE = re.compile(r"\.(?:html?|vov|vnp|ldo|aspx?|php)$", re.IGNORECASE)
_ID_RE = re.compile(r"\d{5,}")
_NEXT_TEXTS = frozenset(
    {"next", "next page", "sau", "trang sau", "tiếp", "xem tiếp", "suivant", "»", "›", ">"}
)
_NON_ARTICLE_RE = re.compile(
    r"/(?:tag|tags|topic|chu-de|author|tac-gia|search|tim-kiem|video|login|rss|page|trang)(?:/|-|$)",
    re.IGNORECASE,
)


def looks_like_article(url: str) -> bool:
    """A path shaped like an article: a numeric id, an article file suffix, or a long hyphenated slug."""
    path = urlsplit(url).path
    if path in ("", "/") or _NON_ARTICLE_RE.search(path):
        return False
    last = path.rstrip("/").rsplit("/", 1)[-1]
    if _ARTICLE_SUFFIX_RE.search(last) or _ID_RE.search(last):
        return True
    return len(re.split(r"[-_]", last)) >= 4


def parse_listing(
    html: bytes | str,
    *,
    page_url: str,
    source_code: str | None = None,
    is_article: Callable[[str], bool] = looks_like_article,
) -> Listing:
    """Links to articles on the page's own host (in page order, once each) and the next-page link."""
    doc = html_tree(html)
    if doc is None:
        return Listing(links=(), next_url=None)
    base = page_url
    base_href = doc.xpath("//base/@href")
    if base_href:
        base = urljoin(page_url, str(base_href[0]))
    page_key = canonical_url(page_url)
    links: dict[str, Candidate] = {}
    next_url: str | None = None
    for href in doc.xpath("//link[@rel='next']/@href"):
        next_url = urljoin(base, str(href))
        break
    for anchor in doc.iter("a"):
        href = (anchor.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:", "tel:")):
            continue
        url = urljoin(base, href)
        if urlsplit(url).scheme not in ("http", "https") or not same_host(url, page_url):
            continue
        text = " ".join(anchor.text_content().split())
        if next_url is None and _is_next_link(anchor, text):
            next_url = url
            continue
        key = canonical_url(url)
        if key == page_key or key in links or not is_article(url):
            continue
        title = text or anchor.get("title") or None
        links[key] = Candidate(url=url, title=title, source_code=source_code)
    if next_url is not None and canonical_url(next_url) == page_key:
        next_url = None
    return Listing(links=tuple(links.values()), next_url=next_url)


def html_tree(html: bytes | str) -> Any | None:
    """An lxml HTML tree, with bytes decoded by our rules (lxml alone would read undeclared UTF-8 as latin-1)."""
    text = decode_body(html, content_type=None)[0] if isinstance(html, bytes) else html
    if not text.strip():
        return None
    try:
        return lxml_html.document_fromstring(text.encode("utf-8"), parser=_HTML_PARSER)
    except (etree.ParserError, ValueError):
        return None


_HTML_PARSER = lxml_html.HTMLParser(encoding="utf-8")


def _is_next_link(anchor: Any, text: str) -> bool:
    rel = (anchor.get("rel") or "").lower().split()
    if "next" in rel:
        return True
    classes = (anchor.get("class") or "").lower().split()
    if any(c in ("next", "next-page", "pagination-next", "page-next") for c in classes):
        return True
    label = (anchor.get("aria-label") or text).strip().lower()
    return label in _NEXT_TEXTS


def walk_listings(
    start_urls: Iterable[str],
    fetch: Callable[[str], bytes | str | None],
    *,
    source_code: str | None = None,
    max_pages: int = 5,
) -> tuple[list[Candidate], list[str]]:
    """Follow each listing's next-page links up to max_pages pages per start URL; (candidates, problems)."""
    found: dict[str, Candidate] = {}
    problems: list[str] = []
    for start in start_urls:
        seen: set[str] = set()
        url: str | None = start
        pages = 0
        while url is not None and pages < max_pages:
            key = canonical_url(url)
            if key in seen:
                break
            seen.add(key)
            pages += 1
            data = fetch(url)
            if data is None:
                problems.append(f"listing {url} unavailable")
                break
            listing = parse_listing(data, page_url=url, source_code=source_code)
            for candidate in listing.links:
                found.setdefault(canonical_url(candidate.url), candidate)
            url = listing.next_url
    return list(found.values()), problems


# --- topics ----------------------------------------------------------------------------------------


def fold(text: str) -> str:
    """Lower-case ASCII without accents ("Bình Dương" -> "binh duong"), for matching."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _topic_pattern(topic: str) -> re.Pattern[str]:
    words = re.findall(r"[a-z0-9]+", fold(topic))
    # an optional plural ending lets "communauté intelligente" match "communautes-intelligentes" in a slug
    joined = r"[\s\-_./]*".join(rf"{re.escape(w)}(?:e?s)?" if w.isalpha() else re.escape(w) for w in words)
    return re.compile(rf"(?<![a-z0-9]){joined}(?![a-z0-9])")


def matches_topics(candidate: Candidate, topics: Sequence[str]) -> bool:
    """Whether any keyword occurs in the title, summary or URL slug, ignoring accents, case and separators.

    An empty topic list keeps everything.
    """
    patterns = [_topic_pattern(t) for t in topics if re.search(r"\w", t)]
    if not patterns:
        return True
    slug = unquote(urlsplit(candidate.url).path).replace("-", " ").replace("_", " ")
    haystack = fold(" ".join(filter(None, (candidate.title, candidate.summary, slug))))
    return any(p.search(haystack) for p in patterns)


def filter_topics(candidates: Iterable[Candidate], topics: Sequence[str]) -> list[Candidate]:
    """The candidates matching the topics (all of them when topics is empty)."""
    return [c for c in candidates if matches_topics(c, topics)]


def dedupe(candidates: Iterable[Candidate]) -> list[Candidate]:
    """One candidate per canonical URL, keeping the first and filling its gaps from later duplicates."""
    merged: dict[str, Candidate] = {}
    for candidate in candidates:
        key = canonical_url(candidate.url)
        known = merged.get(key)
        if known is None:
            merged[key] = candidate
            continue
        merged[key] = Candidate(
            url=known.url,
            title=known.title or candidate.title,
            published=known.published or candidate.published,
            source_code=known.source_code or candidate.source_code,
            summary=known.summary or candidate.summary,
            modified=_latest(known.modified, candidate.modified),
        )
    return list(merged.values())


def _latest(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None or b is None:
        return a or b
    return max(_aware(a), _aware(b))
