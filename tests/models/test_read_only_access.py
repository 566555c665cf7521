"""Read-only access for analysts: a PostgreSQL reader role (grant-reader) and SQLite's read-only open."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from flows.database import upgrade_and_seed
from models.db import dispose_engines, get_engine
from models.roles import grant_reader
from tests.pgcluster import PostgresCluster

REPO = Path(__file__).resolve().parents[2]
READER = "chiso_analyst"
CLI_READER = "chiso_cli_analyst"
WRITES = [
    (
        "insert",
        "INSERT INTO source (code, name, lang, base_url, kind) VALUES ('x', 'x', 'vi', 'https://x/', 'news')",
    ),
    ("update", "UPDATE source SET name = 'changed'"),
    ("delete", "DELETE FROM source"),
    ("truncate", "TRUNCATE source"),
    (
        "insert-into-run",
        "INSERT INTO run (id, kind, parameters, counts, errors, status) VALUES ('r', 'k', '{}', '{}', '[]', 's')",
    ),
    ("create-table", "CREATE TABLE analyst_scratch (x integer)"),
    ("create-view", "CREATE VIEW analyst_view AS SELECT 1 AS x"),
    ("drop-table", "DROP TABLE document"),
    ("drop-view", "DROP VIEW v_rankings"),
    ("alter-table", "ALTER TABLE source ADD COLUMN scratch integer"),
    ("create-index", "CREATE INDEX analyst_index ON source (name)"),
    ("create-schema", "CREATE SCHEMA analyst_schema"),
]


@pytest.fixture(scope="module")
def pg(pg_cluster: PostgresCluster) -> Iterator[tuple[PostgresCluster, str]]:
    """A migrated, seeded database; the reader roles must log in with their password (scram), not trust."""
    url = pg_cluster.create_database("readonly")
    upgrade_and_seed(url)
    hba = pg_cluster.data / "pg_hba.conf"
    rules = "".join(f"host all {role} 127.0.0.1/32 scram-sha-256\n" for role in (READER, CLI_READER))
    hba.write_text(rules + hba.read_text())
    with get_engine(url).connect() as connection:
        connection.execute(text("SELECT pg_reload_conf()"))
    yield pg_cluster, url
    dispose_engines()


def _as(url: str, role: str, password: str) -> psycopg.Connection:
    parsed = make_url(url)
    return psycopg.connect(
        host=parsed.host,
        port=parsed.port,
        dbname=parsed.database,
        user=role,
        password=password,
        connect_timeout=10,
    )


def _relations(url: str) -> list[str]:
    with get_engine(url).connect() as connection:
        rows = connection.execute(
            text(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'v') ORDER BY 1"
            )
        )
        return [str(r[0]) for r in rows]


def test_the_reader_can_select_every_table_and_view(pg: tuple[PostgresCluster, str]) -> None:
    _, url = pg
    grant_reader(get_engine(url), role=READER, password="first secret")
    relations = _relations(url)
    assert {"document", "source", "run", "v_rankings", "v_indicator_values", "v_indicator_latest"} <= set(
        relations
    )
    with _as(url, READER, "first secret") as reader:
        counts = {name: reader.execute(f'SELECT count(*) FROM "{name}"').fetchone() for name in relations}
    assert [name for name, count in counts.items() if count is None] == []
    assert counts["source"] == (12,)


@pytest.mark.parametrize(("what", "statement"), WRITES, ids=[w[0] for w in WRITES])
def test_the_reader_cannot_change_anything(
    pg: tuple[PostgresCluster, str], what: str, statement: str
) -> None:
    _, url = pg
    grant_reader(get_engine(url), role=READER, password="first secret")
    with _as(url, READER, "first secret") as reader, pytest.raises(psycopg.errors.InsufficientPrivilege):
        reader.execute(statement)
    # Nothing changed for the owner either.
    with get_engine(url).connect() as connection:
        assert (
            connection.execute(text("SELECT count(*) FROM source WHERE name <> 'changed'")).scalar_one() == 12
        )
        assert "scratch" not in [
            c
            for (c,) in connection.execute(
                text("SELECT column_name FROM information_schema.columns WHERE table_name = 'source'")
            )
        ]


def test_tables_a_later_migration_creates_are_readable(pg: tuple[PostgresCluster, str]) -> None:
    _, url = pg
    grant_reader(get_engine(url), role=READER, password="first secret")
    with get_engine(url).begin() as connection:
        connection.execute(text("CREATE TABLE later_table (x integer)"))
        connection.execute(text("INSERT INTO later_table VALUES (7)"))
    try:
        with _as(url, READER, "first secret") as reader:
            assert reader.execute("SELECT x FROM later_table").fetchall() == [(7,)]
    finally:
        with get_engine(url).begin() as connection:
            connection.execute(text("DROP TABLE later_table"))


def test_granting_again_updates_the_password_and_keeps_read_only(pg: tuple[PostgresCluster, str]) -> None:
    _, url = pg
    first = grant_reader(get_engine(url), role=READER, password="first secret")
    second = grant_reader(get_engine(url), role=READER, password="second secret")
    assert (second.created, second.role, second.tables) == (False, READER, first.tables)
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        _as(url, READER, "first secret").close()
    with _as(url, READER, "second secret") as reader:
        assert reader.execute("SELECT count(*) FROM source").fetchone() == (12,)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            reader.execute("DELETE FROM source")


def test_write_grants_given_by_hand_are_taken_back(pg: tuple[PostgresCluster, str]) -> None:
    _, url = pg
    grant_reader(get_engine(url), role=READER, password="first secret")
    with get_engine(url).begin() as connection:
        connection.execute(text(f"GRANT INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {READER}"))
    grant_reader(get_engine(url), role=READER, password="first secret")
    with _as(url, READER, "first secret") as reader, pytest.raises(psycopg.errors.InsufficientPrivilege):
        reader.execute("DELETE FROM source")


def _chiso(*args: str, url: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flows.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "CHISO_DATABASE_URL": url, "PYTHONPATH": str(REPO), **(env or {})},
        cwd=REPO,
        timeout=120,
        check=False,
    )


def test_the_command_creates_then_updates_the_role(pg: tuple[PostgresCluster, str]) -> None:
    _, url = pg
    env = {"ANALYST_PASSWORD": "cli secret"}
    created = _chiso("db", "grant-reader", CLI_READER, "--password-env", "ANALYST_PASSWORD", url=url, env=env)
    again = _chiso("db", "grant-reader", CLI_READER, "--password-env", "ANALYST_PASSWORD", url=url, env=env)
    assert (created.returncode, again.returncode) == (0, 0), created.stderr + again.stderr
    assert created.stdout.startswith(f"created role {CLI_READER}: SELECT on the ")
    assert again.stdout.startswith(f"updated role {CLI_READER}: SELECT on the ")
    with _as(url, CLI_READER, "cli secret") as reader:
        assert reader.execute("SELECT count(*) FROM v_rankings").fetchone() is not None


def test_the_command_refuses_an_unset_password_variable(pg: tuple[PostgresCluster, str]) -> None:
    _, url = pg
    result = _chiso("db", "grant-reader", CLI_READER, "--password-env", "NO_SUCH_VARIABLE_SET", url=url)
    assert (result.returncode, result.stderr) == (
        1,
        "chiso: error: --password-env: NO_SUCH_VARIABLE_SET is not set or empty\n",
    )


# --- SQLite: the read-only open the README shows ----------------------------------------------------


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Path:
    path = tmp_path / "data" / "chiso.db"
    upgrade_and_seed(f"sqlite:///{path}")
    dispose_engines()
    return path


def test_grant_reader_on_sqlite_points_to_the_read_only_open(sqlite_db: Path) -> None:
    result = _chiso("db", "grant-reader", READER, "--password-env", "X", url=f"sqlite:///{sqlite_db}")
    assert (result.returncode, result.stderr.count("\n")) == (1, 1), result.stderr
    assert f"sqlite3 'file:{sqlite_db}?mode=ro'" in result.stderr


def test_sqlite3_read_only_uri_reads_and_refuses_writes(sqlite_db: Path) -> None:
    connection = sqlite3.connect(f"file:{sqlite_db}?mode=ro", uri=True)
    try:
        assert connection.execute("SELECT count(*) FROM v_rankings").fetchone() == (0,)
        assert connection.execute("SELECT count(*) FROM source").fetchone() == (12,)
        with pytest.raises(sqlite3.OperationalError, match="attempt to write a readonly database"):
            connection.execute("DELETE FROM source")
    finally:
        connection.close()


def test_sqlite3_shell_with_the_readme_command_refuses_writes(sqlite_db: Path) -> None:
    # The README's form, relative to the directory holding data/, in the sqlite3 shell.
    shell = "/usr/bin/sqlite3"
    if not Path(shell).exists():
        pytest.skip("the sqlite3 shell is not installed")
    cwd = sqlite_db.parent.parent
    read = subprocess.run(
        [shell, "file:data/chiso.db?mode=ro", "SELECT count(*) FROM source;"],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    write = subprocess.run(
        [shell, "file:data/chiso.db?mode=ro", "DELETE FROM source;"],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    assert (read.returncode, read.stdout) == (0, "12\n"), read.stderr
    assert write.returncode != 0 and "readonly database" in write.stderr, write.stderr


@pytest.mark.parametrize("how", ["sqlalchemy", "chiso"])
def test_sqlalchemy_read_only_url_reads_and_refuses_writes(
    sqlite_db: Path, how: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The README's SQLAlchemy form, relative to the directory holding data/; chiso's own engine takes it too.
    monkeypatch.chdir(sqlite_db.parent.parent)
    url = "sqlite:///file:data/chiso.db?mode=ro&uri=true"
    engine = create_engine(url) if how == "sqlalchemy" else get_engine(url)
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM source")).scalar_one() == 12
            with pytest.raises(OperationalError, match="attempt to write a readonly database"):
                connection.execute(text("DELETE FROM source"))
    finally:
        engine.dispose()
        dispose_engines()
    assert not Path("file:data").exists()
