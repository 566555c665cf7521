"""Malformed feeds and sitemaps are refused in one line naming the URL and the reason; other sources go on."""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select
from sqlmodel import col

from scrapers.discover import DEFAULT_MAX_XML_BYTES, DiscoveryError, parse_feed, parse_sitemap
from scrapers.registry import parse_registry, sources_path
from tests.localweb import LocalWeb

URL = "https://vov.vn/feed-or-sitemap.xml"
SM_NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
GOOD_SITEMAP = f'<?xml version="1.0" encoding="UTF-8"?><urlset {SM_NS}><url><loc>https://vov.vn/a-1.html</loc></url></urlset>'
GOOD_FEED = (
    '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Kinh tế</title>'
    "<item><title>Bình Dương</title><link>https://vov.vn/a-1.html</link></item></channel></rss>"
)
LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10)
    )
    + "]>"
)
XXE = '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/hostname">]>'
PARAMETER_ENTITY = (
    '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY % p SYSTEM "http://127.0.0.1:9/evil.dtd"> %p;]>'
)
# A body one byte over the cap (50 MB, the sitemaps.org limit) made of a valid document's repeated padding.
HUGE = b"<urlset>" + b" " * (DEFAULT_MAX_XML_BYTES - len(b"<urlset></urlset>") + 1) + b"</urlset>"


def _wrong_encoding(text: str) -> bytes:
    # Declared UTF-8, written in another encoding: "é" is one latin-1 byte, not valid UTF-8.
    return (
        text.replace("Bình Dương", "Bình").replace("Kinh tế", "Kinh").replace("a-1", "é-1").encode("latin-1")
    )


def _cases(good: str) -> list[tuple[str, bytes, str]]:
    body = good.split("?>", 1)[1]
    raw = good.encode()
    return [
        ("truncated-in-a-tag", raw[: raw.rindex(b"</") + 3], "not well-formed XML ("),
        ("truncated-in-text", raw[: raw.index(b"a-1.html")], "not well-formed XML ("),
        ("truncated-before-the-end-tag", raw[:-8], "not well-formed XML ("),
        ("wrong-declared-encoding", _wrong_encoding(good), "bytes do not match the declared encoding ("),
        (
            "unknown-declared-encoding",
            good.replace("UTF-8", "x-bogus").encode(),
            "bytes do not match the declared encoding (",
        ),
        (
            "utf16-declared-utf8-sent",
            good.replace("UTF-8", "UTF-16").encode(),
            "not well-formed XML (",
        ),
        (
            "billion-laughs",
            (LAUGHS + body.replace(">", ">&lol9;", 1)).encode(),
            "declares XML entities (lol, lol1, lol2)",
        ),
        ("external-entity", (XXE + body.replace(">", ">&x;", 1)).encode(), "declares XML entities (x)"),
        ("external-parameter-entity", (PARAMETER_ENTITY + body).encode(), "declares XML entities (p)"),
        ("not-xml", b"\x00\x01<html>", "not well-formed XML ("),
        ("50-mb", HUGE, f"{len(HUGE)} bytes exceed"),
    ]


SITEMAP_CASES = [
    *_cases(GOOD_SITEMAP),
    ("gzip-bomb", gzip.compress(b" " * (DEFAULT_MAX_XML_BYTES + 1)), "gzip sitemap expands beyond the"),
]
FEED_CASES = _cases(GOOD_FEED)


@pytest.mark.parametrize(("case", "data", "reason"), SITEMAP_CASES, ids=[c[0] for c in SITEMAP_CASES])
def test_malformed_sitemap_is_refused_in_one_line(case: str, data: bytes, reason: str) -> None:
    with pytest.raises(DiscoveryError) as refused:
        parse_sitemap(data, url=URL)
    line = str(refused.value)
    assert (line.startswith(f"sitemap {URL}: refused: "), reason in line, "\n" in line) == (
        True,
        True,
        False,
    ), line


@pytest.mark.parametrize(("case", "data", "reason"), FEED_CASES, ids=[c[0] for c in FEED_CASES])
def test_malformed_feed_is_refused_in_one_line(case: str, data: bytes, reason: str) -> None:
    with pytest.raises(DiscoveryError) as refused:
        parse_feed(data, feed_url=URL)
    line = str(refused.value)
    assert (line.startswith(f"feed {URL}: refused: "), reason in line, "\n" in line) == (True, True, False), (
        line
    )


def test_the_well_formed_originals_are_read() -> None:
    # Guards the tables above: each bad case is a damaged copy of these, which parse.
    assert [e.url for e in parse_sitemap(GOOD_SITEMAP.encode(), url=URL).entries] == [
        "https://vov.vn/a-1.html"
    ]
    assert [c.url for c in parse_feed(GOOD_FEED.encode(), feed_url=URL)] == ["https://vov.vn/a-1.html"]


def test_a_doctype_without_entities_is_read_and_its_dtd_not_fetched() -> None:
    doctype = '<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" "http://127.0.0.1:9/rss-0.91.dtd">'
    data = GOOD_FEED.replace("?>", "?>" + doctype, 1).encode()
    assert [c.url for c in parse_feed(data, feed_url=URL)] == ["https://vov.vn/a-1.html"]


# --- end to end: one source's bad sitemaps, another source's articles stored -------------------------

BAD_HOST = "bad-sitemaps.example"
VOV_JUNE_ARTICLE = "https://vov.vn/kinh-te/binh-duong-lan-thu-3-lien-tiep-vao-top-7-cong-dong-thong-minh-the-gioi-post1028341.vov"
EXPECTED_REASONS = {
    "truncated.xml": "refused: not well-formed XML (",
    "wrong-encoding.xml": "refused: bytes do not match the declared encoding (",
    "laughs.xml": "refused: declares XML entities (lol, lol1, lol2): entity expansion",
    "external-entity.xml": "refused: declares XML entities (x): entity expansion",
    "huge.xml": "Content-Length 52428800 exceeds the 10485760-byte cap",  # the client stops it first
}
BAD_SHARDS = {
    "truncated.xml": GOOD_SITEMAP.encode()[:-20],
    "wrong-encoding.xml": _wrong_encoding(GOOD_SITEMAP),
    "laughs.xml": (LAUGHS + GOOD_SITEMAP.split("?>", 1)[1].replace("<loc>", "<loc>&lol9;", 1)).encode(),
    "external-entity.xml": (XXE + GOOD_SITEMAP.split("?>", 1)[1].replace("<loc>", "<loc>&x;", 1)).encode(),
}


@pytest.fixture(scope="module")
def prefect_harness() -> Iterator[None]:
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=60):
        yield


@pytest.fixture
def bad_web(tmp_path: Path) -> Iterator[LocalWeb]:
    """The local web plus a host whose sitemap index lists only damaged shards (and one 50 MB body)."""
    site = tmp_path / "sites" / BAD_HOST
    (site / "sitemaps").mkdir(parents=True)
    (site / "robots.txt").write_text("User-agent: *\nAllow: /\n")
    shards = [*BAD_SHARDS, "huge.xml"]
    index = "".join(f"<sitemap><loc>https://{BAD_HOST}/sitemaps/{name}</loc></sitemap>" for name in shards)
    (site / "sitemap.xml").write_text(f'<?xml version="1.0"?><sitemapindex {SM_NS}>{index}</sitemapindex>')
    for name, data in BAD_SHARDS.items():
        (site / "sitemaps" / name).write_bytes(data)
    with LocalWeb(extra_dirs=(tmp_path / "sites",)) as web:
        web.fault(BAD_HOST, "/sitemaps/huge.xml", "huge", size_mb=50)
        yield web


def _registry() -> Any:
    raw = yaml.safe_load(sources_path().read_text(encoding="utf-8"))
    vov = next(s for s in raw["sources"] if s["code"] == "vov")
    bad = dict(
        vov,
        code="badxml",
        name="A source with damaged sitemaps",
        base_url=f"https://{BAD_HOST}/",
        feeds=[],
        listings=[],
        sitemaps=[{"url": f"https://{BAD_HOST}/sitemap.xml", "verified": False}],
    )
    raw["sources"] = [dict(s, delay_seconds=0.0) for s in (bad, vov)]
    return replace(parse_registry(raw), allow_private_hosts=True)


def test_a_source_with_bad_sitemaps_does_not_stop_the_others(
    bad_web: LocalWeb, sqlite_url: str, prefect_harness: None
) -> None:
    from flows.backfill import backfill
    from flows.database import upgrade_and_seed
    from flows.pipeline import build_pipeline, using
    from models.db import get_engine, session_scope
    from models.tables import Document, Run

    upgrade_and_seed(sqlite_url)
    engine = get_engine(sqlite_url)
    host_map = bad_web.host_map() | {BAD_HOST: f"127.0.0.1:{bad_web.port}"}
    with using(build_pipeline(registry=_registry(), host_map=host_map, engine=engine)):
        backfill(since=date(2023, 6, 1), until=date(2023, 6, 30), sources=["badxml", "vov"])
    with session_scope(engine) as session:
        stored = sorted(session.execute(select(col(Document.source_code), col(Document.url))).all())
        [run] = session.execute(select(Run).where(col(Run.kind) == "backfill")).scalars().all()
    # One line per damaged shard, naming it and why; nothing else went wrong and vov's article is stored.
    line = re.compile(rf"badxml: sitemap https://{re.escape(BAD_HOST)}/sitemaps/(\S+): (.*)")
    reasons = {m[1]: m[2] for m in map(line.fullmatch, run.errors) if m}
    assert (len(reasons), len(run.errors)) == (5, 5), run.errors
    assert {
        name: reasons[name].startswith(start) for name, start in EXPECTED_REASONS.items()
    } == dict.fromkeys(EXPECTED_REASONS, True), reasons
    assert stored == [("vov", VOV_JUNE_ARTICLE)]
