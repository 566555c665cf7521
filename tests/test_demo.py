"""`chiso demo` (what `make demo` runs): the whole pipeline, offline, on the bundled sample web."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_demo_runs_offline_and_prints_the_rankings_it_stored(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_API_URL", "CHISO_"))}
    env |= {"PYTHONPATH": str(REPO), "PREFECT_HOME": str(tmp_path / "prefect")}
    result = subprocess.run(
        [sys.executable, "-m", "flows.cli", "demo"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    with sqlite3.connect(tmp_path / "data" / "demo.db") as db:
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
