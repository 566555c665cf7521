"""Loading at scale: documents/s and peak memory through models.store, against plain executemany INSERTs."""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import ROOT, Result, Row, fresh_sqlite, standalone, table, temp_dir

BATCH = 500  # documents per transaction, on both sides
BASE_TIME = datetime(2024, 1, 1, tzinfo=UTC)
ENTITY = ("Binh Duong", "VN")


def _document(i: int) -> dict[str, Any]:
    month = i % 12 + 1
    text = (
        f"Trong tháng {month}/2024, tỉnh Bình Dương thu hút khoảng {i % 900 + 100},{i % 10} triệu USD vốn FDI. "
        f"Tỷ lệ lấp đầy các khu công nghiệp đạt {80 + i % 20}%. Bình Dương lọt Top 7 cộng đồng thông minh "
        "của năm, theo Diễn đàn Cộng đồng thông minh thế giới. " * 3
    )
    return {
        "url": f"https://scale.example/tin-tuc/bai-{i}.html",
        "title": f"Bài {i}",
        "published_at": BASE_TIME + timedelta(minutes=i),
        "lang": "vi",
        "text": text,
        "fetch_status": 200,
        "fetched_at": BASE_TIME + timedelta(days=400),
    }


def _records(i: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """One ranking mention and two indicator values, in the shape `chiso extract` gives them."""
    name, country = ENTITY
    common = {"entity": name, "entity_local": "Bình Dương", "country": country, "evidence": "…"}
    rankings = [
        common
        | {
            "program": "icf_top7",
            "year": 2019 + i % 5,
            "status": "achieved",
            "rank": None,
            "out_of": None,
            "year_inferred": False,
            "start": 200,
            "end": 260,
        }
    ]
    indicators = [
        common
        | {
            "indicator": "fdi_registered",
            "value": (i % 900 + 100) * 1e6 + i,
            "unit": "USD",
            "period": f"2024-{i % 12 + 1:02d}",
            "qualifier": "approx",
            "status": "actual",
            "start": 0,
            "end": 90,
        },
        common
        | {
            "indicator": "grdp_growth",
            "value": float(80 + i % 20),
            "unit": "%",
            "period": "2024",
            "qualifier": None,
            "status": "actual",
            "start": 91,
            "end": 150,
        },
    ]
    return rankings, indicators


def _batches(n: int, offset: int) -> Iterator[range]:
    for start in range(offset, offset + n, BATCH):
        yield range(start, min(offset + n, start + BATCH))


def load_with_store(url: str, n: int, offset: int = 0) -> None:
    """What the extract stage does per batch: upsert_documents, then replace_extractions with their records."""
    from models.db import get_engine, session_scope
    from models.store import Extraction, replace_extractions, upsert_documents

    engine = get_engine(url)
    for batch in _batches(n, offset):
        with session_scope(engine) as session:
            docs = upsert_documents(session, [_document(i) for i in batch], run_id="bench")
            items = []
            for doc, i in zip(docs, batch, strict=True):
                rankings, indicators = _records(i)
                items.append((doc.id, Extraction(rankings, indicators, extractor_version="bench")))
            replace_extractions(session, items, run_id="bench")


def load_with_executemany(url: str, n: int, offset: int = 0) -> None:
    """The same rows as plain executemany INSERTs: no upsert, no change detection, ids assigned by us."""
    from sqlalchemy import select

    from models.db import get_engine
    from models.store import content_hash
    from models.tables import Document, Entity, IndicatorValue, RankingMention

    engine = get_engine(url)
    documents = Document.__table__  # type: ignore[attr-defined]
    mentions = RankingMention.__table__  # type: ignore[attr-defined]
    values = IndicatorValue.__table__  # type: ignore[attr-defined]
    entities = Entity.__table__  # type: ignore[attr-defined]
    now = datetime.now(UTC)
    stamps = {"run_id": "bench", "created_at": now, "updated_at": now}
    with engine.connect() as connection:
        entity_id = connection.execute(
            select(entities.c.id).where(entities.c.name == ENTITY[0], entities.c.country == ENTITY[1])
        ).scalar_one()
    for batch in _batches(n, offset):
        doc_rows, mention_rows, value_rows = [], [], []
        for i in batch:
            doc = _document(i)
            doc_rows.append(
                doc
                | stamps
                | {
                    "id": i + 1,
                    "content_hash": content_hash(doc["text"]),
                    "extractor_version": "bench",
                    "extracted_at": now,
                }
            )
            rankings, indicators = _records(i)
            for r in rankings:
                mention_rows.append(
                    stamps
                    | {
                        "document_id": i + 1,
                        "entity_id": entity_id,
                        "program_code": r["program"],
                        "year": r["year"],
                        "year_key": r["year"],
                        "status": r["status"],
                        "rank": None,
                        "rank_key": 0,
                        "out_of": None,
                        "year_inferred": False,
                        "evidence": r["evidence"],
                        "start": r["start"],
                        "end": r["end"],
                        "extractor_version": "bench",
                    }
                )
            for v in indicators:
                value_rows.append(
                    stamps
                    | {
                        "document_id": i + 1,
                        "entity_id": entity_id,
                        "indicator_code": v["indicator"],
                        "value": v["value"],
                        "unit": v["unit"],
                        "period": v["period"],
                        "period_key": v["period"],
                        "qualifier": v["qualifier"],
                        "status": v["status"],
                        "evidence": v["evidence"],
                        "start": v["start"],
                        "end": v["end"],
                        "extractor_version": "bench",
                    }
                )
        with engine.begin() as connection:
            connection.execute(documents.insert(), doc_rows)
            connection.execute(mentions.insert(), mention_rows)
            connection.execute(values.insert(), value_rows)


def worker() -> None:
    """Child process: load N documents one way, print seconds and peak RSS as JSON."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--worker", action="store_true")
    parser.add_argument("--url", required=True)
    parser.add_argument("--n", type=int, required=True)
    parser.add_argument("--method", choices=("store", "executemany"), required=True)
    args = parser.parse_args()
    load = load_with_store if args.method == "store" else load_with_executemany
    # A warm-up batch of other documents, untimed: imports, statement caches, the first pages of each table.
    load(args.url, BATCH, offset=args.n)
    t0, c0 = time.perf_counter(), time.process_time()
    load(args.url, args.n)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "peak_rss_mb": _peak_rss_mb()}))


def _peak_rss_mb() -> float:
    # VmHWM, not getrusage's ru_maxrss: Linux carries ru_maxrss across execve, so a child would report the
    # (much larger) parent's peak from before the fork.
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child(url: str, n: int, method: str) -> dict[str, float]:
    proc = subprocess.run(
        [sys.executable, "-m", "bench.scale", "--worker", "--url", url, "--n", str(n), "--method", method],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"scale worker ({method}, {n}) failed: {proc.stderr.strip()[-800:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


QUICK_SIZES = (1_000,)
FULL_SIZES = (10_000,)


def run(quick: bool, sizes: tuple[int, ...] | None = None) -> Result:
    # The store path loads about 120 documents/s here, so 100k documents take about 14 minutes per database:
    # the default runs stay inside their time budget and 100k is asked for explicitly (--sizes).
    sizes = sizes or (QUICK_SIZES if quick else FULL_SIZES)
    result = Result("scale")
    databases: list[tuple[str, Any]] = [("SQLite", None)]
    try:
        from tests.pgcluster import PostgresCluster

        databases.append(("PostgreSQL", PostgresCluster))
    except Exception as exc:  # pragma: no cover - no server binaries
        result.notes.append(f"PostgreSQL SKIPPED: {exc}")
    with temp_dir() as tmp:
        for label, cluster_type in databases:
            cluster = None
            try:
                if cluster_type is not None:
                    try:
                        cluster = cluster_type().start()
                    except Exception as exc:
                        result.notes.append(f"PostgreSQL SKIPPED: {exc}")
                        continue
                per_doc: dict[int, dict[str, float]] = {}
                for n in sizes:
                    figures = {}
                    for method in ("store", "executemany"):
                        name = f"scale_{label}_{n}_{method}".lower()
                        url = fresh_sqlite(tmp, name) if cluster is None else _fresh_pg(cluster, name)
                        figures[method] = _child(url, n, method)
                    store, plain = figures["store"], figures["executemany"]
                    result.rows.append(
                        Row(
                            f"{label} {n:,} docs: store docs/s",
                            n / store["seconds"],
                            "d/s",
                            n / plain["seconds"],
                            "executemany docs/s",
                        )
                    )
                    result.rows.append(
                        Row(
                            f"{label} {n:,} docs: store peak RSS",
                            store["peak_rss_mb"],
                            "MB",
                            plain["peak_rss_mb"],
                            "executemany peak RSS",
                        )
                    )
                    result.details[f"{label}_{n}"] = figures
                    per_doc[n] = store
                if len(per_doc) > 1:
                    # Does a document cost more in a big database? Per-document cost at the largest size over
                    # the smallest: wall time, and this process's CPU (SQLite works in-process; PostgreSQL's
                    # server time is in wall time only). Wall time swings with the other load on the machine.
                    small, large = min(per_doc), max(per_doc)
                    for what, key in (("wall", "seconds"), ("client CPU", "cpu_seconds")):
                        result.rows.append(
                            Row(
                                f"{label} per-doc {what} cost, {large:,} vs {small:,}",
                                per_doc[large][key] / large * 1e6,
                                "us",
                                per_doc[small][key] / small * 1e6,
                                f"at {small:,}",
                            )
                        )
            finally:
                if cluster is not None:
                    cluster.stop()
    result.notes.append(
        "each document carries 1 ranking mention and 2 indicator values; 500 documents per transaction on both "
        "sides; each figure from its own subprocess into a fresh, migrated database (peak RSS includes the "
        "interpreter and imports, about the same for both)"
    )
    return result


def _fresh_pg(cluster: Any, name: str) -> str:
    from flows.database import upgrade_and_seed

    url = str(cluster.create_database(name))
    upgrade_and_seed(url)
    return url


if __name__ == "__main__":
    if "--worker" in sys.argv:
        worker()
    elif "--sizes" in sys.argv:
        cli = argparse.ArgumentParser(description=__doc__)
        cli.add_argument("--sizes", required=True, help="comma-separated document counts, e.g. 10000,100000")
        chosen = tuple(int(x) for x in cli.parse_args().sizes.split(","))
        standalone_result = run(False, chosen)
        print(table([standalone_result]))
    else:
        standalone(run, __doc__)
