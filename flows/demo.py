"""`chiso demo`: the whole pipeline against the bundled sample web, offline, into a fresh SQLite database."""

from __future__ import annotations

import sys
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

from flows.errors import ChisoError

REPO = Path(__file__).resolve().parent.parent
DEMO_DB = Path("data") / "demo.db"
DEMO_SINCE = date(2023, 1, 1)
DEMO_DELAY_SECONDS = 0.2
DEMO_ENTITY = "Bình Dương"
DEMO_REPORT = Path("data") / "demo-report.html"


def _local_web() -> Any:
    # The sample web lives with the tests; the demo needs a source checkout, which `make demo` has.
    if not (REPO / "tests" / "localweb").is_dir():
        raise ChisoError("chiso demo needs a source checkout (tests/localweb holds the sample web)")
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    from tests.localweb import LocalWeb

    return LocalWeb()


def summary_line(kind: str, totals: dict[str, int]) -> str:
    """A run's counts in one line: "ingest: discovered 24, stored 24, ..."."""
    return f"{kind}: " + ", ".join(f"{k} {v}" for k, v in totals.items())


def run_demo(*, database: Path = DEMO_DB) -> tuple[str, list[str]]:
    """Ingest the sample sites and the ICF lists into a fresh database; returns its URL and what was done."""
    from flows.database import upgrade_and_seed
    from flows.ingest import ingest
    from flows.pipeline import build_pipeline, using
    from flows.sync_icf import sync_icf
    from models.db import dispose_engines, get_engine
    from scrapers.registry import load_registry

    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{database}"
    dispose_engines()
    lines = [upgrade_and_seed(url)]
    registry = replace(load_registry().with_delay(DEMO_DELAY_SECONDS), allow_private_hosts=True)
    with _local_web() as web:
        lines.append(
            f"sample web on {web.base_url}, serving {len(web.host_map())} sites under their real hostnames"
        )
        pipeline = build_pipeline(registry=registry, host_map=web.host_map(), engine=get_engine(url))
        with using(pipeline):
            lines.append(summary_line("ingest", ingest(since=DEMO_SINCE, until=date.today())))
            lines.append(summary_line("sync-icf", sync_icf()))
    return url, lines


def write_demo_report(url: str) -> Any:
    """The report on Bình Dương, the sample web's main subject, beside the demo database."""
    from flows.report import write_report
    from models.db import get_engine

    return write_report(
        get_engine(url), DEMO_ENTITY, out=DEMO_REPORT, png_dir=DEMO_REPORT.with_suffix(""), database=url
    )
