"""The terminal during `chiso run`: progress bars per stage and a summary; Prefect's run lines only with --verbose."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.localweb import LocalWeb

REPO = Path(__file__).resolve().parents[2]
RUN = ["run", "--source", "vov", "--source", "vnexpress", "--since", "2023-01-01", "--until", "2025-12-31"]
PREFECT_RUN_LINE = re.compile(r"\|\s*INFO\s*\|\s*(Task run|Flow run)")


def chiso(*args: str, sources_file: Path, web: LocalWeb, home: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "CHISO_"))}
    env |= {
        "CHISO_DATABASE_URL": f"sqlite:///{home / 'chiso.db'}",
        "CHISO_SOURCES": str(sources_file),
        "CHISO_HOST_MAP": ",".join(f"{host}={address}" for host, address in web.host_map().items()),
        "PREFECT_HOME": str(home / "prefect"),
        "PYTHONPATH": str(REPO),
    }
    return subprocess.run(
        [sys.executable, "-m", "flows.cli", *args],
        env=env,
        cwd=home,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture
def dead_vov(web: LocalWeb) -> Iterator[LocalWeb]:
    """vov.vn answers 503 to everything; vnexpress is fine."""
    web.clear_faults()
    web.fault("vov.vn", None, "status", code=503)
    yield web
    web.clear_faults()


@pytest.mark.slow
def test_quiet_run_shows_stage_bars_warnings_and_a_summary_but_no_prefect_run_lines(
    dead_vov: LocalWeb, sources_file: Path, tmp_path: Path
) -> None:
    result = chiso(*RUN, sources_file=sources_file, web=dead_vov, home=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    output = (result.stdout + result.stderr).splitlines()
    stages = [line.split()[0] for line in result.stderr.splitlines() if re.search(r"\d+/\d+ ", line)]
    warnings = [line for line in output if "WARNING" in line and "vov" in line and "503" in line]
    assert [line for line in output if PREFECT_RUN_LINE.search(line)] == []
    assert (stages, bool(warnings)) == (["discover", "fetch", "extract"], True)
    assert result.stdout.splitlines()[-1].startswith("ingest: discovered ")


@pytest.mark.slow
def test_verbose_run_shows_prefects_task_run_lines(web: LocalWeb, sources_file: Path, tmp_path: Path) -> None:
    web.clear_faults()
    result = chiso(*RUN, "--verbose", sources_file=sources_file, web=web, home=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert any("Task run" in line for line in result.stderr.splitlines())
