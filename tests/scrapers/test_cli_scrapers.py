"""`chiso sources` and `chiso fetch`: the table, one-line outcomes and errors, and the host's delay kept
across two fetch commands (each builds its own client, as two processes would)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

import pytest
import typer
import yaml
from typer.testing import CliRunner

from flows.cli_scrapers import fetch_command, sources_command
from flows.database import upgrade_and_seed
from flows.errors import ChisoError
from models.db import dispose_engines
from scrapers.registry import DEFAULT_SOURCES_PATH
from tests.localweb import SITES_DIR, LocalWeb

ARTICLE = "https://tuoitre.vn/binh-duong-vao-top-7-cong-dong-thong-minh-nam-2023-20230622101530123.htm"
ARTICLE_PATH = "/binh-duong-vao-top-7-cong-dong-thong-minh-nam-2023-20230622101530123.htm"
app = typer.Typer()
app.command("sources")(sources_command)
app.command("fetch")(fetch_command)
runner = CliRunner()


@pytest.fixture(scope="module")
def migrated_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated, seeded SQLite file; each test gets a copy (migrating takes seconds)."""
    path = tmp_path_factory.mktemp("template") / "chiso.db"
    upgrade_and_seed(f"sqlite:///{path}")
    dispose_engines()
    return path


@pytest.fixture
def local_env(migrated_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalWeb]:
    db = tmp_path / "chiso.db"
    shutil.copy(migrated_db, db)
    sqlite_url = f"sqlite:///{db}"
    with LocalWeb() as web:
        monkeypatch.setenv("CHISO_DATABASE_URL", sqlite_url)
        monkeypatch.setenv("CHISO_ALLOW_PRIVATE_HOSTS", "1")
        # the shipped 3 s delays would make every test wait; the delay test sets its own file
        monkeypatch.setenv("CHISO_SOURCES", str(_sources_file(tmp_path, delay=0.0)))
        monkeypatch.setenv("CHISO_HOST_MAP", ",".join(f"{h}={a}" for h, a in web.host_map().items()))
        yield web
    dispose_engines()


def _sources_file(tmp_path: Path, *, delay: float) -> Path:
    data = yaml.safe_load(DEFAULT_SOURCES_PATH.read_text(encoding="utf-8"))
    for entry in data["sources"]:
        entry["delay_seconds"] = delay
    path = tmp_path / "sources.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_sources_lists_every_code_with_counts() -> None:
    result = runner.invoke(app, ["sources"])
    rows = [line for line in result.output.splitlines() if "│ vov " in line or "│ icf " in line]
    assert (result.exit_code, len(rows)) == (0, 2)
    assert [cell.strip() for cell in rows[1].split("│")[5:8]] == ["1", "1", "3"]


def test_sources_with_a_bad_file_is_one_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("sources: []\n", encoding="utf-8")
    result = runner.invoke(app, ["sources", "--sources", str(bad)])
    assert (result.exit_code, type(result.exception), str(result.exception)) == (
        1,
        ChisoError,
        f"{bad}: sources: expected a non-empty list of sources",
    )


def test_fetch_stores_the_page_and_prints_one_line(local_env: LocalWeb) -> None:
    result = runner.invoke(app, ["fetch", ARTICLE])
    assert (result.exit_code, result.output) == (0, f"stored: {ARTICLE} -> document 1 (HTTP 200 OK)\n")


def test_fetch_twice_is_not_modified_the_second_time(local_env: LocalWeb) -> None:
    runner.invoke(app, ["fetch", ARTICLE])
    result = runner.invoke(app, ["fetch", ARTICLE])
    assert result.output == f"not_modified: {ARTICLE} -> document 1 (HTTP 304 Not Modified)\n"


def test_two_fetch_commands_keep_the_hosts_delay(local_env: LocalWeb, tmp_path: Path) -> None:
    sources = str(_sources_file(tmp_path, delay=0.4))
    runner.invoke(app, ["fetch", ARTICLE, "--sources", sources])
    runner.invoke(app, ["fetch", ARTICLE, "--sources", sources])
    times = [r.t for r in local_env.requests_for("tuoitre.vn")]
    # robots.txt and the page for the first command, the same again for the second (a new client). The client
    # spaces request starts by 0.4 s on its clock; arrivals at the server carry the send jitter of a loaded
    # machine (a fresh process's first request is slower to leave), hence the margin.
    assert len(times) == 4 and min(b - a for a, b in pairwise(times)) >= 0.3


def test_fetch_failure_is_one_line_and_non_zero(local_env: LocalWeb) -> None:
    local_env.fault("tuoitre.vn", None, "robots", text="User-agent: *\nDisallow: /\n")
    result = runner.invoke(app, ["fetch", ARTICLE])
    assert (result.exit_code, str(result.exception)) == (
        1,
        f"fetch failed: {ARTICLE}: disallowed by robots.txt of tuoitre.vn: {ARTICLE}",
    )


def test_fetch_of_an_undeclared_host_is_refused(local_env: LocalWeb) -> None:
    result = runner.invoke(app, ["fetch", "https://example.com/a"])
    assert (
        str(result.exception) == "no source declares the host of https://example.com/a; see `chiso sources`"
    )


@pytest.fixture
def ported_web(migrated_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalWeb]:
    """A site served as 127.0.0.1:PORT itself (no host map), declared by a source on that port."""
    sites = tmp_path / "sites"
    shutil.copytree(SITES_DIR / "tuoitre.vn", sites / "127.0.0.1")
    db = tmp_path / "chiso.db"
    shutil.copy(migrated_db, db)
    with LocalWeb(sites_dir=sites) as web:
        source = {
            "code": "ported",
            "name": "Ported",
            "lang": "vi",
            "base_url": f"{web.base_url}/",
            "delay_seconds": 0,
        }
        path = tmp_path / "ported.yaml"
        path.write_text(yaml.safe_dump({"sources": [source]}), encoding="utf-8")
        monkeypatch.setenv("CHISO_DATABASE_URL", f"sqlite:///{db}")
        monkeypatch.setenv("CHISO_ALLOW_PRIVATE_HOSTS", "1")
        monkeypatch.setenv("CHISO_SOURCES", str(path))
        monkeypatch.delenv("CHISO_HOST_MAP", raising=False)
        yield web
    dispose_engines()


def test_fetch_of_a_source_on_a_port_asks_that_ports_robots_txt(ported_web: LocalWeb) -> None:
    url = ported_web.base_url + ARTICLE_PATH
    result = runner.invoke(app, ["fetch", url])
    assert (result.exit_code, [r.path for r in ported_web.requests_for("127.0.0.1")]) == (
        0,
        ["/robots.txt", ARTICLE_PATH],
    )


def test_robots_txt_of_that_port_is_obeyed(ported_web: LocalWeb) -> None:
    ported_web.fault("127.0.0.1", None, "robots", text="User-agent: *\nDisallow: /\n")
    url = ported_web.base_url + ARTICLE_PATH
    result = runner.invoke(app, ["fetch", url])
    assert (result.exit_code, str(result.exception)) == (
        1,
        f"fetch failed: {url}: disallowed by robots.txt of 127.0.0.1:{ported_web.port}: {url}",
    )
