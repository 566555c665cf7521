"""Processing cost: parse + extract + load CPU time per page into SQLite, against trafilatura alone."""

from __future__ import annotations

import dataclasses
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.common import Result, Row, fresh_sqlite, quiet_logs, standalone, temp_dir

LISTING_NAMES = ("index.html", "kinh-te.html", "kinh-te@page=2.html")
PAGE_SUFFIXES = (".html", ".htm", ".vov", ".vnp")


def sample_pages() -> list[tuple[str, bytes]]:
    """(real URL, bytes) of every bundled sample article (listing pages left out)."""
    from tests.localweb import SITES_DIR

    pages = []
    for path in sorted(Path(SITES_DIR).rglob("*")):
        if path.suffix in PAGE_SUFFIXES and path.name not in LISTING_NAMES:
            rel = path.relative_to(SITES_DIR)
            host, rest = rel.parts[0], "/".join(rel.parts[1:])
            # extension-less URLs (the ICF pages) are served from NAME.html
            if host == "www.intelligentcommunity.org":
                rest = rest.removesuffix(".html")
            pages.append((f"https://{host}/{rest}", path.read_bytes()))
    return pages


def run(quick: bool) -> Result:
    import trafilatura

    from extractors import DocumentText, extract
    from models.db import dispose_engines, get_engine, session_scope
    from models.store import Extraction, replace_extractions, store_raw_pages, upsert_documents
    from scrapers.parse import parse_page
    from scrapers.registry import load_registry

    quiet_logs()
    reps = 2 if quick else 10
    registry = load_registry()
    pages = sample_pages()
    sources = [registry.source_for_url(url) for url, _ in pages]
    fetched_at = datetime.now(UTC)
    ctype = "text/html; charset=utf-8"
    spent = {"parse": 0.0, "extract": 0.0, "load": 0.0}
    records = 0
    # Warm-up (compiled catalogue, lazy imports, compiled selectors) outside the timing, for both sides, over
    # every page: a page with an unusual date string imports dateparser (about 1 s of CPU), which the first
    # timed pass would otherwise charge to parsing at about 3 ms a page.
    for (url, body), source in zip(pages, sources, strict=True):
        assert source is not None
        extract(
            DocumentText(
                url=url,
                title=None,
                published=None,
                lang="vi",
                text=parse_page(body, url=url, source=source, fetched_at=fetched_at, content_type=ctype).text,
            )
        )
        trafilatura.extract(body.decode("utf-8"))
    with temp_dir() as tmp:
        for rep in range(reps):
            # A fresh database per pass: loading the same pages twice into one would be a no-op upsert.
            engine = get_engine(fresh_sqlite(tmp, f"processing{rep}"))
            parsed = []
            for (url, body), source in zip(pages, sources, strict=True):
                assert source is not None
                t0 = time.process_time()
                page = parse_page(body, url=url, source=source, fetched_at=fetched_at, content_type=ctype)
                t1 = time.process_time()
                out = extract(
                    DocumentText(
                        url=page.url,
                        title=page.title,
                        published=page.published_at,
                        lang=page.lang,
                        text=page.text,
                    )
                )
                t2 = time.process_time()
                spent["parse"] += t1 - t0
                spent["extract"] += t2 - t1
                records += len(out.rankings) + len(out.indicators)
                parsed.append((url, body, source, page, out))
            # The load stage writes a pass's pages as one batch (one transaction), as the extract stage does.
            t2 = time.process_time()
            with session_scope(engine) as session:
                raws = store_raw_pages(
                    session,
                    [
                        {"url": url, "body": body, "content_type": ctype, "encoding": "utf-8"}
                        for url, body, _, _, _ in parsed
                    ],
                    run_id="bench",
                )
                docs = upsert_documents(
                    session,
                    [
                        {
                            "url": page.url,
                            "source_code": source.code,
                            "title": page.title,
                            "published_at": page.published_at,
                            "lang": page.lang,
                            "text": page.text,
                            "raw_hash": raw,
                            "fetch_status": 200,
                            "fetched_at": fetched_at,
                        }
                        for (_, _, source, page, _), raw in zip(parsed, raws, strict=True)
                    ],
                    run_id="bench",
                )
                replace_extractions(
                    session,
                    [
                        (
                            doc.id,
                            Extraction(
                                rankings=[dataclasses.asdict(r) for r in out.rankings],
                                indicators=[dataclasses.asdict(i) for i in out.indicators],
                                extractor_version=out.extractor_version,
                            ),
                        )
                        for doc, (_, _, _, _, out) in zip(docs, parsed, strict=True)
                    ],
                    run_id="bench",
                )
            spent["load"] += time.process_time() - t2
        dispose_engines()
    n = len(pages) * reps
    t_base = time.process_time()
    for _ in range(reps):
        for _url, body in pages:
            trafilatura.extract(body.decode("utf-8"))
    base_ms = (time.process_time() - t_base) / n * 1000
    total_ms = sum(spent.values()) / n * 1000
    result = Result("processing")
    result.rows.append(
        Row("parse+extract+load CPU per page", total_ms, "ms", base_ms, "trafilatura.extract alone")
    )
    for stage in ("parse", "extract", "load"):
        result.rows.append(
            Row(f"  {stage} stage CPU per page", spent[stage] / n * 1000, "ms", base_ms, "trafilatura")
        )
    result.details.update(
        pages=len(pages),
        passes=reps,
        records_per_page=records / n,
        stage_ms={k: v / n * 1000 for k, v in spent.items()},
    )
    result.notes.append(
        f"{len(pages)} bundled sample articles x {reps} passes, each pass into a fresh SQLite database; "
        "parse = our parse_page (trafilatura + htmldate + canonical link), load = raw pages + documents + records, "
        "one batch (transaction) per pass"
    )
    return result


if __name__ == "__main__":
    standalone(run, __doc__)
