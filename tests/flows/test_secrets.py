"""Passwords of CHISO_DATABASE_URL and PREFECT_API_URL never reach stdout, stderr, logs, artifacts or rows."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from sqlalchemy import text
from sqlalchemy.engine import make_url

from flows.redaction import redact
from models.db import dispose_engines, get_engine
from scrapers.registry import sources_path
from tests.localweb import LocalWeb
from tests.pgcluster import PostgresCluster

REPO = Path(__file__).resolve().parents[2]
DB_PASSWORD = "Db-S3cret-pw"
API_PASSWORD = "Api-S3cret-pw"
OWNER = "chiso_secret_owner"
API_URL = f"http://prefuser:{API_PASSWORD}@127.0.0.1:9/api"


@pytest.fixture(scope="module")
def pg(pg_cluster: PostgresCluster) -> Iterator[str]:
    """A database owned by a role that must log in with its password; returns its URL with the password."""
    admin = get_engine(pg_cluster.url)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f"CREATE ROLE {OWNER} LOGIN PASSWORD '{DB_PASSWORD}'"))
        connection.execute(text(f"CREATE DATABASE secrets OWNER {OWNER}"))
    hba = pg_cluster.data / "pg_hba.conf"
    hba.write_text(f"host all {OWNER} 127.0.0.1/32 scram-sha-256\n" + hba.read_text())
    with admin.connect() as connection:
        connection.execute(text("SELECT pg_reload_conf()"))
    yield f"postgresql://{OWNER}:{DB_PASSWORD}@127.0.0.1:{pg_cluster.port}/secrets"
    dispose_engines()


def chiso(*args: str, home: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("CHISO_", "PREFECT_"))}
    base |= {
        "PYTHONPATH": str(REPO),
        "PREFECT_HOME": str(home / "prefect"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    }
    return subprocess.run(
        [sys.executable, "-m", "flows.cli", *args],
        capture_output=True,
        text=True,
        env=base | env,
        cwd=home,
        timeout=300,
        check=False,
    )


def leaks(result: subprocess.CompletedProcess[str], home: Path) -> list[str]:
    """Where a password shows: stdout, stderr, or any file the run left (logs, Prefect's database, SQLite)."""
    found = [name for name, out in (("stdout", result.stdout), ("stderr", result.stderr)) if _has_secret(out)]
    for path in sorted(p for p in home.rglob("*") if p.is_file()):
        data = path.read_bytes()
        if DB_PASSWORD.encode() in data or API_PASSWORD.encode() in data:
            found.append(str(path.relative_to(home)))
    return found


def _has_secret(text_: str) -> bool:
    return DB_PASSWORD in text_ or API_PASSWORD in text_


FAILING = [
    (
        "run-with-a-wrong-database-password",
        ["run", "--source", "vov"],
        {
            "CHISO_DATABASE_URL": "postgresql://{OWNER}:wrong-{DB_PASSWORD}@127.0.0.1:{port}/secrets",
            "PREFECT_API_URL": API_URL,
        },
        "cannot use database postgresql://chiso_secret_owner:***@127.0.0.1:",
    ),
    (
        "run-with-an-unparsable-database-url",
        ["run", "--source", "vov"],
        {"CHISO_DATABASE_URL": f"postgresql:/u:{DB_PASSWORD}@db-host/chiso", "PREFECT_API_URL": API_URL},
        "invalid database URL 'postgresql:/u:***@db-host/chiso'",
    ),
    (
        "backfill-with-a-bad-port",
        ["backfill", "--since", "2023-06-01", "--source", "vov"],
        {
            "CHISO_DATABASE_URL": f"postgresql://u:{DB_PASSWORD}@db-host:port/chiso",
            "PREFECT_API_URL": API_URL,
        },
        "invalid database URL 'postgresql://u:***@db-host:port/chiso'",
    ),
    (
        "serve-with-an-unreachable-api",
        ["serve"],
        {"CHISO_DATABASE_URL": "sqlite:///data/chiso.db", "PREFECT_API_URL": API_URL},
        "no Prefect server answers at PREFECT_API_URL=http://prefuser:***@127.0.0.1:9/api",
    ),
    (
        "automations-with-an-unreachable-api",
        ["automations", "install", "--webhook", "http://127.0.0.1:9/hook"],
        {"CHISO_DATABASE_URL": "sqlite:///data/chiso.db", "PREFECT_API_URL": API_URL},
        "no Prefect server answers at PREFECT_API_URL=http://prefuser:***@127.0.0.1:9/api",
    ),
    (
        "run-with-an-unreachable-api",
        ["run", "--source", "vov"],
        {"CHISO_DATABASE_URL": "sqlite:///data/chiso.db", "PREFECT_API_URL": API_URL},
        "Failed to reach API at http://127.0.0.1:9/api/",
    ),
]


@pytest.mark.parametrize(("case", "args", "env", "shown"), FAILING, ids=[c[0] for c in FAILING])
def test_a_failing_command_hides_the_passwords_and_says_what_failed(
    case: str,
    args: list[str],
    env: dict[str, str],
    shown: str,
    tmp_path: Path,
    pg_cluster: PostgresCluster,
    pg: str,
) -> None:
    env = {k: v.format(OWNER=OWNER, DB_PASSWORD=DB_PASSWORD, port=pg_cluster.port) for k, v in env.items()}
    result = chiso(*args, home=tmp_path, env=env)
    errors = [line for line in result.stderr.splitlines() if line.startswith("chiso: error: ")]
    assert (result.returncode, len(errors)) == (1, 1), result.stderr[-3000:]
    assert shown in errors[0], result.stderr
    assert leaks(result, tmp_path) == []


def test_a_run_that_reaches_prefect_keeps_passwords_out_of_logs_artifacts_and_rows(
    tmp_path: Path, pg: str
) -> None:
    # A sitemap URL carrying the API password (a user's paste) fails: its error line goes to the log, the
    # Prefect log records, the run's markdown artifact and the run row; each must show it redacted.
    raw = yaml.safe_load(sources_path().read_text(encoding="utf-8"))
    raw["allow_private_hosts"] = True
    vov = next(s for s in raw["sources"] if s["code"] == "vov")
    secret_sitemap = f"https://bot:{API_PASSWORD}@vov.vn/sitemap-private.xml"
    raw["sources"] = [
        dict(vov, delay_seconds=0.0, sitemaps=[{"url": secret_sitemap, "verified": False}, *vov["sitemaps"]])
    ]
    sources = tmp_path / "sources.yaml"  # the input holds the secret: outside the home grepped below
    home = tmp_path / "home"
    home.mkdir()
    sources.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with LocalWeb() as web:
        result = chiso(
            "backfill",
            "--since",
            "2023-06-01",
            "--until",
            "2023-06-30",
            "--source",
            "vov",
            home=home,
            env={
                "CHISO_DATABASE_URL": pg,
                "CHISO_SOURCES": str(sources),
                "CHISO_HOST_MAP": ",".join(f"{h}={a}" for h, a in web.host_map().items()),
                "PREFECT_API_URL": "",
            },
        )
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"new database: postgresql://{OWNER}:***@127.0.0.1:" in result.stdout
    with get_engine(pg).connect() as connection:
        rows = [str(tuple(r)) for r in connection.execute(text("SELECT * FROM run"))]
        fetch_state = [str(tuple(r)) for r in connection.execute(text("SELECT * FROM fetch_state"))]
    assert [r for r in rows + fetch_state if _has_secret(r)] == []
    assert any("https://bot:***@vov.vn/sitemap-private.xml" in r for r in rows), rows
    # Prefect's database (and its WAL) holds the log records and the artifact, redacted: the grep of every
    # file below is not vacuous.
    stored = {
        str(p.relative_to(home)): p.read_bytes().count(b"https://bot:***@vov.vn/sitemap-private.xml")
        for p in (home / "prefect").rglob("*")
        if p.is_file()
    }
    assert sum(stored.values()) >= 2, stored
    assert leaks(result, home) == []


@pytest.mark.parametrize("logger_name", ["flows.ingest", "prefect.flow_runs", "scrapers.crawl", "sqlalchemy"])
def test_every_logger_gets_redacted_records(
    logger_name: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHISO_DATABASE_URL", f"postgresql://u:{DB_PASSWORD}@h/db")
    with caplog.at_level(logging.WARNING, logger=logger_name):
        logging.getLogger(logger_name).warning(
            "cannot reach %s (password %s)", f"postgresql://u:{DB_PASSWORD}@h/db", DB_PASSWORD
        )
        try:
            raise RuntimeError(f"connect to http://x:{API_PASSWORD}@h failed")
        except RuntimeError:
            logging.getLogger(logger_name).exception("failed")
    lines = [r.getMessage() for r in caplog.records] + [r.exc_text or "" for r in caplog.records]
    assert lines[0] == "cannot reach postgresql://u:***@h/db (password ***)"
    assert not any(_has_secret(line) for line in lines)
    assert "connect to http://x:***@h failed" in lines[-1]


@pytest.mark.parametrize(
    ("line", "shown"),
    [
        (f"postgresql://chiso:{DB_PASSWORD}@db:5432/chiso", "postgresql://chiso:***@db:5432/chiso"),
        (f"postgresql+psycopg://chiso:{DB_PASSWORD}@db/chiso", "postgresql+psycopg://chiso:***@db/chiso"),
        (f"'postgresql:/u:{DB_PASSWORD}@h/db'", "'postgresql:/u:***@h/db'"),
        (f"http://prefuser:{API_PASSWORD}@127.0.0.1:9/api", "http://prefuser:***@127.0.0.1:9/api"),
        (f"host=db password={DB_PASSWORD} user=chiso", "host=db password=*** user=chiso"),
        ("https://vov.vn/kinh-te/a-1.vov at 10:30", "https://vov.vn/kinh-te/a-1.vov at 10:30"),
        ("sqlite:///data/chiso.db", "sqlite:///data/chiso.db"),
    ],
)
def test_redact(line: str, shown: str) -> None:
    assert redact(line) == shown


def test_a_password_alone_is_hidden_when_it_is_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREFECT_API_URL", f"http://prefuser:{API_PASSWORD}@127.0.0.1:9/api")
    monkeypatch.setenv(
        "CHISO_DATABASE_URL",
        str(make_url(f"postgresql://u:{DB_PASSWORD}@h/db").render_as_string(hide_password=False)),
    )
    assert redact(f"auth {API_PASSWORD} and {DB_PASSWORD}") == "auth *** and ***"
