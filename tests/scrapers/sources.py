"""Helpers for the per-source tests: read a source's sample page from the local web's files and parse it."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta, timezone
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

from scrapers.discover import Candidate, parse_feed
from scrapers.parse import ParsedPage, parse_page
from scrapers.registry import Registry, Source, load_registry
from tests.localweb.server import SITES_DIR, resolve_file

ICT = timezone(timedelta(hours=7))  # Vietnam, UTC+7, no daylight saving
FETCHED_AT = datetime(2025, 11, 21, 12, 0, tzinfo=UTC)
# Page furniture (related links, ads, footers, photo captions and credits), never in an article's text.
FURNITURE = (
    "Tin liên quan",
    "Related news",
    "Articles liés",
    "Quảng cáo",
    "Advertisement",
    "Bản quyền",
    "All rights reserved",
    "Tous droits réservés",
    "Sample page written",
    "Ảnh minh họa",
    "Illustrative photo",
    "Photo d'illustration",
    "ẢNH: CHISO",
    "(TTXVN/Vietnam+)",
)


@cache
def registry() -> Registry:
    return load_registry()


def source(code: str) -> Source:
    return registry().get(code)


def fixture_bytes(url: str) -> bytes:
    """The bytes the local web serves for a real URL."""
    parts = urlsplit(url)
    path = resolve_file(SITES_DIR / (parts.hostname or ""), parts.path, parts.query)
    if path is None:
        raise FileNotFoundError(f"no sample page for {url} under {SITES_DIR}")
    return path.read_bytes()


def parse_fixture(code: str, url: str) -> ParsedPage:
    """Parse a source's sample page as if fetched from `url` at FETCHED_AT."""
    return parse_page(
        fixture_bytes(url),
        url=url,
        source=source(code),
        fetched_at=FETCHED_AT,
        content_type="text/html; charset=utf-8",
    )


def feed_entries(code: str, feed_url: str) -> list[Candidate]:
    """The candidates a source's sample feed yields."""
    return parse_feed(fixture_bytes(feed_url), feed_url=feed_url, source_code=code)


def realweb_dir() -> Path | None:
    """Real pages captured by other public projects (../shared/realweb, or CHISO_REALWEB), kept outside the repo."""
    chosen = os.environ.get("CHISO_REALWEB", "").strip()
    if chosen:
        return Path(chosen) if Path(chosen).is_dir() else None
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "shared" / "realweb"
        if candidate.is_dir():
            return candidate
    return None
