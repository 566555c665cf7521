"""`chiso browse`: Datasette started for real on the SQLite database, its canned queries and descriptions."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect

from models import surface
from models.db import get_engine

REPO = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 60


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


@pytest.fixture
def datasette(analyst_db: str) -> Iterator[str]:
    """`chiso browse` on the analyst database; yields the database's base URL once Datasette answers."""
    port = _free_port()
    env = {**os.environ, "CHISO_DATABASE_URL": analyst_db, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        [sys.executable, "-m", "flows.cli", "browse", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            try:
                _get(f"{base}/-/versions.json")
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    process.kill()
                    pytest.fail(f"chiso browse did not answer: {process.communicate()[0][-2000:]}")
                time.sleep(0.2)
        yield f"{base}/chiso"
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_a_canned_query_answers_json_rows(datasette: str) -> None:
    rows = _get(f"{datasette}/icf_history.json?_shape=array")
    # The example orders by year and program only; status breaks no tie there, so compare sorted.
    assert sorted((r["year"], r["program"], r["status"], r["official"], r["documents"]) for r in rows) == [
        (2023, "icf_top7", "achieved", 1, 1),
        (2023, "icf_top7", "candidate", 0, 1),
    ]


def test_every_readme_example_is_a_canned_query(datasette: str) -> None:
    queries = _get(f"{datasette.rsplit('/', 1)[0]}/-/metadata.json")["databases"]["chiso"]["queries"]
    assert {name: q["sql"] for name, q in queries.items()} == {e.name: e.sql for e in surface.examples()}


def test_every_view_and_column_is_described(datasette: str, analyst_db: str) -> None:
    tables = _get(f"{datasette.rsplit('/', 1)[0]}/-/metadata.json")["databases"]["chiso"]["tables"]
    engine = get_engine(analyst_db)
    views = sorted(inspect(engine).get_view_names())
    undescribed = [
        f"{view}.{column['name']}"
        for view in views
        for column in inspect(engine).get_columns(view)
        if not tables.get(view, {}).get("columns", {}).get(column["name"])
    ]
    assert (sorted(v for v in views if tables.get(v, {}).get("description")), undescribed) == (views, [])
