"""Document text from HTML or plain text: main text, title, language, publication date, sentence spans."""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from bs4 import BeautifulSoup, Tag

VN_TZ = timezone(timedelta(hours=7))
BLOCK_TAGS = {
    "p",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "figcaption",
    "td",
    "th",
    "dt",
    "dd",
    "pre",
    "caption",
}
SKIP_TAGS = {
    "script",
    "style",
    "noscript",
    "nav",
    "footer",
    "header",
    "aside",
    "form",
    "button",
    "svg",
    "iframe",
    "template",
}
DATE_META = (
    ("property", "article:published_time"),
    ("property", "og:published_time"),
    ("name", "pubdate"),
    ("name", "publishdate"),
    ("itemprop", "datePublished"),
    ("name", "date"),
    ("name", "dc.date"),
    ("name", "DC.date.issued"),
    ("name", "article:published_time"),
    ("property", "published_time"),
)
# Abbreviations that end in a dot without ending the sentence (Vietnamese titles and degrees, English, French).
ABBREVIATIONS = frozenset(
    {
        "tp",
        "ts",
        "ths",
        "pgs",
        "gs",
        "bs",
        "ks",
        "cn",
        "ls",
        "th.s",
        "pgs.ts",
        "gs.ts",
        "tt",
        "q",
        "p",
        "tx",
        "tr",
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "st",
        "no",
        "nos",
        "vs",
        "etc",
        "inc",
        "ltd",
        "co",
        "corp",
        "jr",
        "sr",
        "u.s",
        "u.k",
        "e.g",
        "i.e",
        "approx",
        "est",
        "m",
        "mme",
        "mlle",
        "dept",
        "gen",
        "gov",
        "sen",
        "rep",
        "fig",
        "vol",
    }
)
VI_MARKS = set("ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ")
FR_WORDS = frozenset(
    {
        "le",
        "la",
        "les",
        "des",
        "est",
        "dans",
        "une",
        "du",
        "pour",
        "qui",
        "avec",
        "au",
        "aux",
        "sur",
        "et",
        "a",
        "été",
        "par",
    }
)
EN_WORDS = frozenset(
    {"the", "and", "of", "to", "in", "is", "for", "with", "that", "was", "on", "by", "as", "has"}
)
_SENT_END = re.compile(r"[.!?…]+[\"'”’)]*(?=\s+[\"'“‘(\[]?[A-ZĐÀ-ỸÁ-Ý0-9])")


@dataclass(frozen=True)
class DocumentText:
    url: str | None
    title: str | None
    published: datetime | None
    lang: str | None
    text: str


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFC", text).replace("\u00a0", " ").replace("\u200b", "")
    lines = [re.sub(r"[ \t\r\f\v]+", " ", ln).strip() for ln in text.split("\n")]
    return "\n".join(ln for ln in lines if ln)


def guess_lang(text: str) -> str | None:
    """Cheap language guess: Vietnamese diacritics, else French vs English stopwords."""
    sample = text[:20000].lower()
    letters = sum(c.isalpha() for c in sample)
    if not letters:
        return None
    if sum(c in VI_MARKS for c in sample) / letters > 0.01:
        return "vi"
    words = re.findall(r"[a-zàâçéèêëîïôûùüÿœ']+", sample)
    fr = sum(w in FR_WORDS for w in words)
    en = sum(w in EN_WORDS for w in words)
    if fr + en < 3:
        return None
    return "fr" if fr > en else "en"


def _parse_datetime(value: str, *, lang: str | None) -> datetime | None:
    value = value.strip()
    if not value:
        return None
    dt: datetime | None = None
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        m = re.search(r"(\d{1,2})[/-](\d{1,2})[/-](\d{4})(?:\D+(\d{1,2}):(\d{2}))?", value)
        if m:
            try:
                dt = datetime(int(m[3]), int(m[2]), int(m[1]), int(m[4] or 0), int(m[5] or 0))
            except ValueError:
                dt = None
        else:
            import dateparser  # slow import, only needed for unusual date strings

            dt = dateparser.parse(value, languages=[lang] if lang in ("vi", "en", "fr") else None)
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=VN_TZ if lang == "vi" else UTC)
    return dt


def _jsonld_dates(soup: BeautifulSoup) -> list[str]:
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("datePublished"), str):
                out.append(node["datePublished"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    for script in soup.find_all("script", type="application/ld+json"):
        try:
            walk(json.loads(script.string or ""))
        except ValueError:
            continue
    return out


def _block_lines(root: Tag) -> str:
    """Visible text of `root`, one line per block element (paragraphs, list items, headings)."""
    parts: list[str] = []

    def walk(node: Any) -> None:
        for child in node.children:
            if isinstance(child, Tag):
                if child.name in SKIP_TAGS:
                    continue
                if child.name == "br":
                    parts.append("\n")
                    continue
                if child.name == "tr":
                    parts.append("\n" + _table_row(child) + "\n")
                    continue
                block = child.name in BLOCK_TAGS or child.name in (
                    "div",
                    "section",
                    "article",
                    "ul",
                    "ol",
                    "tr",
                )
                if block:
                    parts.append("\n")
                walk(child)
                if block:
                    parts.append("\n")
            elif isinstance(child, str) and type(child).__name__ == "NavigableString":
                parts.append(str(child))

    walk(root)
    return _clean("".join(parts))


def _table_row(tr: Tag) -> str:
    """One table row as one line, its cells in order ("| 1 | Quảng Ninh | 71,25 |", as trafilatura writes
    tables), so that a row's rank, place and score are read together."""
    cells = [" ".join(c.get_text(" ").split()) for c in tr.find_all(["td", "th"], recursive=False)]
    return "| " + " | ".join(cells) + " |" if cells else ""


def _trafilatura_text(html: str) -> str | None:
    import trafilatura  # heavy import, only for pages without site selectors

    text = trafilatura.extract(
        html, include_comments=False, include_tables=True, favor_recall=True, output_format="txt"
    )
    if not text:
        return None
    lines = [re.sub(r"^[-*•]\s+", "", ln) for ln in text.split("\n")]
    return _clean("\n".join(lines))


def _find_published(
    soup: BeautifulSoup, html: str, *, selector: str | None, lang: str | None, fetched_at: datetime | None
) -> datetime | None:
    candidates: list[str] = []
    if selector:
        for el in soup.select(selector):
            candidates.append(str(el.get("datetime") or el.get("content") or el.get_text(" ")))
    # One pass over the page for its <meta> tags (a find_all per DATE_META entry walked the tree ten times).
    metas = soup.find_all("meta")
    for attr, name in DATE_META:
        for el in metas:
            if el.get(attr) == name:
                candidates.append(str(el.get("content") or ""))
    candidates.extend(_jsonld_dates(soup))
    for el in soup.find_all("time"):
        if el.get("datetime"):
            candidates.append(str(el["datetime"]))
    limit = fetched_at if fetched_at is None or fetched_at.tzinfo else fetched_at.replace(tzinfo=UTC)
    for cand in candidates:
        dt = _parse_datetime(cand, lang=lang)
        if dt is not None and (limit is None or dt <= limit):
            return dt
    from htmldate import find_date  # metadata above wins; htmldate looks at the page itself

    kwargs: dict[str, Any] = {"extensive_search": True, "outputformat": "%Y-%m-%d"}
    if limit is not None:
        kwargs["max_date"] = limit.strftime("%Y-%m-%d")
    try:
        found = find_date(html, **kwargs)
    except (ValueError, TypeError):
        found = None
    if found:
        dt = _parse_datetime(found, lang=lang)
        if dt is not None and (limit is None or dt <= limit):
            return dt
    return None


def _lang_from_html(soup: BeautifulSoup) -> str | None:
    html_el = soup.find("html")
    values = [html_el.get("lang") if isinstance(html_el, Tag) else None]
    attr_sets: list[dict[str, Any]] = [
        {"http-equiv": re.compile("content-language", re.I)},
        {"property": "og:locale"},
        {"name": "language"},
    ]
    for attrs in attr_sets:
        el = soup.find("meta", attrs=attrs)
        if isinstance(el, Tag):
            values.append(el.get("content"))
    for v in values:
        if isinstance(v, str) and re.match(r"^[a-zA-Z]{2}", v.strip()):
            return v.strip()[:2].lower()
    return None


def _join_title(title: str | None, body: str) -> str:
    if title and title not in body[: len(title) + 300]:
        return f"{title}\n{body}" if body else title
    return body


def document_from_html(
    html: str | bytes,
    *,
    url: str | None = None,
    fetched_at: datetime | None = None,
    lang: str | None = None,
    selectors: dict[str, str] | None = None,
) -> DocumentText:
    """Main text (site selectors, else trafilatura, else all blocks), title, language and publication date."""
    if isinstance(html, bytes):
        html = html.decode("utf-8", errors="replace")
    selectors = selectors or {}
    soup = BeautifulSoup(html, "lxml")
    title: str | None = None
    if selectors.get("title"):
        el = soup.select_one(selectors["title"])
        title = el.get_text(" ", strip=True) if el else None
    if not title:
        og = soup.find("meta", attrs={"property": "og:title"})
        if isinstance(og, Tag) and og.get("content"):
            title = str(og["content"])
    if not title:
        h1 = soup.find("h1")
        title = h1.get_text(" ", strip=True) if isinstance(h1, Tag) else None
    if not title and soup.title and soup.title.string:
        title = soup.title.string
    title = _clean(title).replace("\n", " ") if title else None
    body: str | None = None
    if selectors.get("body"):
        nodes = soup.select(selectors["body"])
        body = "\n".join(_block_lines(n) for n in nodes) if nodes else None
    if not body:
        body = _trafilatura_text(html)
    if not body:
        root = soup.find("article") or soup.find("main") or soup.body or soup
        body = _block_lines(root) if isinstance(root, Tag) else ""
    text = _join_title(title, body or "")
    doc_lang = lang or _lang_from_html(soup) or guess_lang(text)
    published = _find_published(
        soup, html, selector=selectors.get("published"), lang=doc_lang, fetched_at=fetched_at
    )
    return DocumentText(url=url, title=title, published=published, lang=doc_lang, text=text)


def document_from_text(
    text: str,
    *,
    url: str | None = None,
    published: datetime | None = None,
    lang: str | None = None,
    title: str | None = None,
) -> DocumentText:
    """Plain text as is (normalised to NFC, blank lines dropped)."""
    text = _clean(text)
    if published is not None and published.tzinfo is None:
        published = published.replace(tzinfo=VN_TZ if (lang or guess_lang(text)) == "vi" else UTC)
    return DocumentText(url=url, title=title, published=published, lang=lang or guess_lang(text), text=text)


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans (start, end) into `text`; lines are always boundaries; abbreviations and decimals are not."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for line in text.split("\n"):
        line_start = pos
        pos += len(line) + 1
        cut = 0
        for m in _SENT_END.finditer(line):
            before = line[cut : m.start()]
            word = re.search(r"([\w.]+)$", before)
            if m.group().startswith(".") and len(m.group()) == 1 and word:
                w = word.group(1).lower()
                if w in ABBREVIATIONS or w.split(".")[-1] in ABBREVIATIONS or (len(w) == 1 and w.isalpha()):
                    continue
            _add_span(spans, line, line_start, cut, m.end())
            cut = m.end()
        _add_span(spans, line, line_start, cut, len(line))
    return spans


def _add_span(spans: list[tuple[int, int]], line: str, offset: int, start: int, end: int) -> None:
    seg = line[start:end]
    lead = len(seg) - len(seg.lstrip())
    trail = len(seg.rstrip())
    if trail > lead:
        spans.append((offset + start + lead, offset + start + trail))
