"""`chiso demo` (what `make demo` runs): the whole pipeline, offline, on the bundled sample web."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from models import surface

REPO = Path(__file__).resolve().parent.parent
# Prefect's console lines look like "06:39:49.194 | INFO    | Task run 'fetch-1ac' - Finished in state ..."
PREFECT_RUN_LINE = re.compile(r"\|\s*(DEBUG|INFO)\s*\|\s*(Task run|Flow run|prefect)")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """One demo run, as a user starts it, in an empty directory."""
    cwd = tmp_path_factory.mktemp("demo")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PREFECT_API_URL", "CHISO_", "PREFECT_LOGGING"))
    }
    env |= {"PYTHONPATH": str(REPO), "PREFECT_HOME": str(cwd / "prefect")}
    result = subprocess.run(
        [sys.executable, "-m", "flows.cli", "demo"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return cwd, result


def test_demo_runs_offline_and_prints_the_rankings_it_stored(
    demo: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    cwd, result = demo
    with sqlite3.connect(cwd / "data" / "demo.db") as db:
        official = db.execute(
            "SELECT count(*) FROM v_rankings WHERE program = 'icf_top7' AND year = 2023 AND official"
        ).fetchone()[0]
        binh_duong = db.execute(
            "SELECT count(*) FROM v_rankings WHERE entity = 'Binh Duong' AND program = 'icf_top7' AND year = 2023"
        ).fetchone()[0]
        sources = db.execute("SELECT count(DISTINCT source_code) FROM document").fetchone()[0]
    assert (official, binh_duong, sources) == (7, 1, 12)
    assert "Rankings found in the sample web" in result.stdout
    assert "Binh Duong" in result.stdout


def test_demo_prints_no_prefect_run_lines(demo: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    _, result = demo
    lines = (result.stdout + result.stderr).splitlines()
    assert [line for line in lines if PREFECT_RUN_LINE.search(line)] == []


def test_demo_shows_a_progress_bar_per_stage(demo: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    _, result = demo
    stages = [line.split()[0] for line in result.stderr.splitlines() if re.search(r"\d+/\d+", line)]
    assert stages == ["discover", "fetch", "extract"]


def test_demo_ends_with_the_rankings_table_and_the_report_it_wrote(
    demo: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    cwd, result = demo
    lines = result.stdout.rstrip().splitlines()
    assert lines[-2].startswith("└") and lines[-1].startswith("Report: data/demo-report.html")
    report = (cwd / "data" / "demo-report.html").read_text(encoding="utf-8")
    pngs = sorted(p.name for p in (cwd / "data" / "demo-report").glob("*.png"))
    assert "Bình Dương" in report and "binh-duong-timeline.png" in pngs


def _readme_examples() -> list[str]:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = readme.split("Example queries", 1)[1].split("```sql\n", 1)[1].split("```", 1)[0]
    statements = []
    for chunk in block.split(";"):
        sql = "\n".join(line for line in chunk.strip().splitlines() if not line.startswith("--")).strip()
        if sql:
            statements.append(sql + ";")
    return statements


def test_readme_examples_are_the_canned_queries_of_chiso_browse() -> None:
    assert _readme_examples() == [example.sql for example in surface.examples()]


@pytest.mark.parametrize("example", surface.examples(), ids=lambda e: e.name)
def test_every_readme_example_query_returns_rows_on_the_demo_database(
    demo: tuple[Path, subprocess.CompletedProcess[str]], example: surface.Example
) -> None:
    cwd, _ = demo
    with sqlite3.connect(cwd / "data" / "demo.db") as db:
        rows = db.execute(example.sql).fetchall()
    assert len(rows) >= 1
