"""Real processes: a killed backfill resumes to the same database; a schedule and a backfill can overlap."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from flows.database import upgrade_and_seed
from flows.pipeline import build_pipeline, using
from models.db import dispose_engines, get_engine
from scrapers.registry import Registry
from tests.flows.test_flows import dump
from tests.localweb import LocalWeb

REPO = Path(__file__).resolve().parents[2]
SOURCES = ("nhandan", "baobinhduong", "vnexpress", "tuoitre")
SINCE, UNTIL = date(2023, 1, 1), date(2024, 12, 31)
TABLES = ("document", "raw_page", "ranking_mention", "indicator_value", "entity", "source")


@pytest.fixture(scope="module", autouse=True)
def prefect_harness() -> Any:
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=60):
        yield


def chiso_process(
    *args: str, db_url: str, sources_file: Path, web: LocalWeb, home: Path
) -> subprocess.Popen[str]:
    """`chiso ...` in its own process group, on the local web, with its own Prefect home."""
    host_map = ",".join(f"{host}={address}" for host, address in web.host_map().items())
    env = {
        **os.environ,
        "CHISO_DATABASE_URL": db_url,
        "CHISO_SOURCES": str(sources_file),
        "CHISO_HOST_MAP": host_map,
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PYTHONPATH": str(REPO),
    }
    env.pop("PREFECT_API_URL", None)
    return subprocess.Popen(
        [sys.executable, "-m", "flows.cli", *args],
        env=env,
        cwd=REPO,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def source_args() -> list[str]:
    return [arg for code in SOURCES for arg in ("--source", code)]


def window_command(command: str) -> list[str]:
    """`chiso run` or `chiso backfill` over the test window and sources."""
    return [command, "--since", str(SINCE), "--until", str(UNTIL), *source_args()]


def reference_run(url: str, *, registry: Registry, web: LocalWeb, kinds: tuple[str, ...]) -> dict[str, Any]:
    """The same work done once, in this process, into a fresh database."""
    from flows.backfill import backfill
    from flows.ingest import ingest

    upgrade_and_seed(url)
    with using(build_pipeline(registry=registry, host_map=web.host_map(), engine=get_engine(url))):
        if "ingest" in kinds:
            ingest(sources=list(SOURCES), since=SINCE, until=UNTIL)
        if "backfill" in kinds:
            backfill(since=SINCE, until=UNTIL, sources=list(SOURCES))
    return dump(get_engine(url), TABLES)


def chunk_rows(url: str) -> list[tuple[str, str, str]]:
    with get_engine(url).connect() as connection:
        return [
            tuple(r)
            for r in connection.execute(
                text("SELECT source_code, chunk, run_id FROM backfill_chunk ORDER BY source_code, chunk")
            )
        ]


def test_killed_backfill_resumes_to_the_same_database(
    tmp_path: Path, web: LocalWeb, registry: Registry, sources_file: Path
) -> None:
    expected = reference_run(
        f"sqlite:///{tmp_path / 'reference.db'}", registry=registry, web=web, kinds=("backfill",)
    )
    url = f"sqlite:///{tmp_path / 'resumed.db'}"
    upgrade_and_seed(url)
    web.latency = 0.1  # slow enough to stop it half-way
    try:
        first = chiso_process(
            *window_command("backfill"),
            db_url=url,
            sources_file=sources_file,
            web=web,
            home=tmp_path / "p1",
        )
        deadline = time.monotonic() + 120
        while len(chunk_rows(url)) < 8 and first.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        web.latency = 0.0
    before_resume = chunk_rows(url)
    assert 8 <= len(before_resume) < len(SOURCES) * 24, "the backfill was not stopped half-way"

    second = chiso_process(
        *window_command("backfill"),
        db_url=url,
        sources_file=sources_file,
        web=web,
        home=tmp_path / "p2",
    )
    _, stderr = second.communicate(timeout=300)
    assert second.returncode == 0, stderr[-2000:]
    after = chunk_rows(url)
    assert len(after) == len(SOURCES) * 24
    assert set(before_resume) <= set(after), "finished chunks were done again"
    assert dump(get_engine(url), TABLES) == expected
    dispose_engines()


def test_schedule_and_backfill_overlapping_give_the_same_database_as_one_run(
    tmp_path: Path, web: LocalWeb, registry: Registry, sources_file: Path
) -> None:
    expected = reference_run(
        f"sqlite:///{tmp_path / 'reference.db'}", registry=registry, web=web, kinds=("ingest", "backfill")
    )
    url = f"sqlite:///{tmp_path / 'overlap.db'}"
    upgrade_and_seed(url)
    scheduled = chiso_process(
        *window_command("run"),
        db_url=url,
        sources_file=sources_file,
        web=web,
        home=tmp_path / "p1",
    )
    manual = chiso_process(
        *window_command("backfill"),
        db_url=url,
        sources_file=sources_file,
        web=web,
        home=tmp_path / "p2",
    )
    outputs = [p.communicate(timeout=300) for p in (scheduled, manual)]
    for process, (_, stderr) in zip((scheduled, manual), outputs, strict=True):
        assert process.returncode == 0, stderr[-2000:]
        assert "database is locked" not in stderr
    assert dump(get_engine(url), TABLES) == expected
    dispose_engines()
