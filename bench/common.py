"""Shared pieces of the benchmarks: generated-site registries, fresh databases, results and the table."""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = Path(__file__).resolve().parent / "results"


@dataclass
class Row:
    """One line of the table: a measured figure, its baseline and measured / baseline."""

    name: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_name: str = ""
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.baseline in (None, 0):
            return None
        return self.value / self.baseline  # type: ignore[operator]


@dataclass
class Result:
    """What one benchmark reports: its table rows, free-form details and notes (skips, caveats)."""

    bench: str
    rows: list[Row] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "bench": self.bench,
            "seconds": round(self.seconds, 2),
            "rows": [asdict(r) | {"ratio": r.ratio} for r in self.rows],
            "details": self.details,
            "notes": self.notes,
        }


def fmt(x: float | None) -> str:
    """A figure with about three significant digits."""
    if x is None:
        return "-"
    if x == 0:
        return "0"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    if abs(x) >= 0.01:
        return f"{x:.3g}"
    return f"{x:.2e}"


def table(results: Sequence[Result]) -> str:
    """The results as a fixed-width text table, then their notes."""
    lines = [f"{'benchmark':<14} {'measure':<50} {'value':>12} {'baseline':>12} {'ratio':>8}  baseline is"]
    lines.append("-" * len(lines[0]))
    for result in results:
        for row in result.rows:
            value = f"{fmt(row.value)} {row.unit}".strip()
            lines.append(
                f"{result.bench:<14} {row.name:<50} {value:>12} {fmt(row.baseline):>12} "
                f"{fmt(row.ratio):>8}  {row.baseline_name}"
            )
    for result in results:
        for note in result.notes:
            lines.append(f"[{result.bench}] {note}")
    return "\n".join(lines)


def write_results(results: Sequence[Result], *, quick: bool, path: Path | None = None) -> Path:
    """bench/results/latest.json: every result plus when and where it ran."""
    path = path or RESULTS_DIR / "latest.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": quick,
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": _cpus()},
        "results": [r.to_json() for r in results],
    }
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def _cpus() -> int | None:
    import os

    return os.cpu_count()


def standalone(run: Callable[[bool], Result], doc: str | None) -> None:
    """`python -m bench.<name> [--quick]`: run one benchmark and print its table (no JSON written)."""
    parser = argparse.ArgumentParser(description=doc)
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    args = parser.parse_args()
    started = time.perf_counter()
    result = run(args.quick)
    result.seconds = time.perf_counter() - started
    print(table([result]))
    print(f"({result.seconds:.1f} s)")


@contextmanager
def temp_dir(prefix: str = "chiso-bench-") -> Iterator[Path]:
    """A scratch directory removed afterwards."""
    with tempfile.TemporaryDirectory(prefix=prefix) as name:
        yield Path(name)


def fresh_sqlite(directory: Path, name: str) -> str:
    """A migrated, seeded SQLite database; returns its URL."""
    from flows.database import upgrade_and_seed

    url = f"sqlite:///{directory / name}.db"
    upgrade_and_seed(url)
    return url


def quiet_events() -> None:
    """Drop chiso events: without a Prefect server, emitting one would boot a temporary server."""
    from flows import events

    events.set_emitter(lambda _event, _resource, _payload: None)


def quiet_logs() -> None:
    """Keep the benchmark output to the table: the flows log one summary per run."""
    import logging

    for name in ("flows", "scrapers", "models", "prefect", "httpx", "trafilatura", "htmldate"):
        logging.getLogger(name).setLevel(logging.ERROR)


def generated_registry(hosts: Sequence[str], *, delay: float) -> Any:
    """A registry with one source per generated host: sitemap index + feed, no topic filter, `delay` per host."""
    from scrapers.registry import Link, Registry, Source

    sources = tuple(
        Source(
            code=host.split(".")[0].replace("-", "_"),
            name=host,
            lang="vi",
            base_url=f"https://{host}/",
            feeds=(Link(f"https://{host}/rss.xml"),),
            sitemaps=(Link(f"https://{host}/sitemap.xml"),),
            delay_seconds=delay,
        )
        for host in hosts
    )
    return Registry(sources=sources, allow_private_hosts=True)


@contextmanager
def plain_tasks() -> Iterator[None]:
    """The flows' Prefect tasks swapped for their plain functions, so a flow's `.fn` runs with no Prefect at all.

    `flows.orchestration.each` maps a Prefect task, but runs a plain function in a bounded thread pool.
    """
    import flows.extract
    import flows.ingest

    names = ("discover_source", "fetch_page", "fetch_pages", "extract_one", "extract_documents")
    saved = {name: getattr(flows.ingest, name) for name in names}
    for name, task in saved.items():
        setattr(flows.ingest, name, task.fn)
    try:
        yield
    finally:
        for name, task in saved.items():
            setattr(flows.ingest, name, task)


def count_rows(url: str, tables: Sequence[str], *, run_id: str | None = None) -> dict[str, int]:
    """Rows per table (only those last written by `run_id` when given)."""
    from sqlalchemy import text

    from models.db import get_engine

    out: dict[str, int] = {}
    with get_engine(url).connect() as connection:
        for name in tables:
            sql = f"SELECT count(*) FROM {name}" + (" WHERE run_id = :run" if run_id else "")
            out[name] = int(connection.execute(text(sql), {"run": run_id}).scalar_one())
    return out


def last_run_id(url: str) -> str:
    """The id of the newest run row."""
    from sqlalchemy import text

    from models.db import get_engine

    with get_engine(url).connect() as connection:
        return str(
            connection.execute(text("SELECT id FROM run ORDER BY started_at DESC LIMIT 1")).scalar_one()
        )
