"""The `chiso` command line as users run it: a real process, one clear line on every error."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

from models import migrate
from models.db import dispose_engines, get_engine, session_scope
from models.store import replace_extraction, upsert_document
from tests.models import dataset

REPO = Path(__file__).resolve().parent.parent


def chiso(
    *args: str, url: str, cwd: Path | None = None, prefix: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CHISO_DATABASE_URL": url, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [*prefix, sys.executable, "-m", "flows.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd or REPO,
        timeout=120,
        check=False,
    )


def load_dataset(url: str) -> None:
    with session_scope(get_engine(url)) as session:
        dataset.store_reference(session, run_id="t")
        doc = upsert_document(session, dataset.document(0), run_id="t")
        replace_extraction(
            session,
            document_id=doc.id,
            rankings=[dataset.ranking()],
            indicators=[dataset.indicator(value=1.5e9)],
            extractor_version="1",
            run_id="t",
        )
    dispose_engines()


def test_db_upgrade_then_query_rankings_works(db_url: str) -> None:
    upgraded = chiso("db", "upgrade", url=db_url)
    assert upgraded.returncode == 0, upgraded.stderr
    assert f"-> {migrate.head_revision()}" in upgraded.stdout
    load_dataset(db_url)
    result = chiso("query", "rankings", "--format", "json", url=db_url)
    assert result.returncode == 0, result.stderr
    assert [(r["entity"], r["program"], r["year"], r["status"]) for r in json.loads(result.stdout)] == [
        ("Binh Duong", "icf_top7", 2023, "candidate")
    ]


def test_query_rankings_finds_an_entity_by_its_vietnamese_alias(sqlite_url: str) -> None:
    migrate.upgrade(sqlite_url)
    load_dataset(sqlite_url)
    result = chiso("query", "rankings", "--entity", "tỉnh Bình Dương", "--format", "csv", url=sqlite_url)
    assert result.stdout.splitlines()[1].startswith("Binh Duong,Bình Dương,VN,icf_top7,2023,candidate")


def test_query_indicators_prints_values_in_base_units(sqlite_url: str) -> None:
    migrate.upgrade(sqlite_url)
    load_dataset(sqlite_url)
    result = chiso("query", "indicators", "--format", "json", url=sqlite_url)
    rows = json.loads(result.stdout)
    assert [(r["entity"], r["indicator"], r["period"], r["value"], r["unit"]) for r in rows] == [
        ("Binh Duong", "fdi_registered", "2023", 1.5e9, "USD")
    ]


def test_indicators_unmatched_lists_open_labels_by_frequency(sqlite_url: str) -> None:
    migrate.upgrade(sqlite_url)
    load_dataset(sqlite_url)
    with session_scope(get_engine(sqlite_url)) as session:
        for n, labels in ((1, ["retail sales growth", "trade surplus"]), (2, ["retail sales growth"])):
            doc = upsert_document(session, dataset.document(n), run_id="t")
            replace_extraction(
                session,
                document_id=doc.id,
                rankings=[],
                indicators=[
                    dataset.indicator(
                        value=1.9 + i, code=None, label=label, unit="%", evidence=f"{label} rose."
                    )
                    for i, label in enumerate(labels)
                ],
                extractor_version="1",
                run_id="t",
            )
    dispose_engines()
    result = chiso("indicators", "unmatched", "--format", "json", url=sqlite_url)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [
        {
            "label": "retail sales growth",
            "unit": "%",
            "documents": 2,
            "values": 2,
            "example": "retail sales growth rose.",
        },
        {
            "label": "trade surplus",
            "unit": "%",
            "documents": 1,
            "values": 1,
            "example": "trade surplus rose.",
        },
    ]
    limited = chiso("indicators", "unmatched", "--limit", "1", "--format", "csv", url=sqlite_url)
    assert limited.stdout.splitlines() == [
        "label,unit,documents,values,example",
        "retail sales growth,%,2,2,retail sales growth rose.",
    ]


def test_db_upgrade_twice_reports_already_at_head(sqlite_url: str) -> None:
    chiso("db", "upgrade", url=sqlite_url)
    again = chiso("db", "upgrade", url=sqlite_url)
    assert (again.returncode, f"already at {migrate.head_revision()}" in again.stdout) == (0, True)


def test_unknown_format_is_a_usage_error(sqlite_url: str) -> None:
    result = chiso("query", "rankings", "--format", "xml", url=sqlite_url)
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert (result.returncode, len(errors), "'xml' is not one of" in errors[0]) == (2, 1, True)


def test_unreachable_database_gives_one_line(sqlite_url: str) -> None:
    result = chiso("query", "rankings", url="postgresql://chiso@127.0.0.1:1/nowhere")
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(
        "chiso: error: cannot use database postgresql://chiso@127.0.0.1:1/nowhere"
    )


def test_invalid_database_url_gives_one_line() -> None:
    result = chiso("query", "rankings", url="not a url")
    assert (result.returncode, result.stderr) == (
        1,
        "chiso: error: invalid database URL 'not a url': "
        "Could not parse SQLAlchemy URL from given URL string\n",
    )


def test_database_at_an_older_migration_asks_for_an_upgrade(sqlite_url: str) -> None:
    migrate.upgrade(sqlite_url, revision="0001")
    result = chiso("query", "rankings", url=sqlite_url)
    assert result.returncode == 1
    head = migrate.head_revision()
    assert result.stderr.endswith(f"is at migration 0001, newest is {head}: run `chiso db upgrade`\n")
    assert result.stderr.count("\n") == 1


def test_empty_database_asks_for_an_upgrade(sqlite_url: str) -> None:
    result = chiso("query", "indicators", url=sqlite_url)
    assert (result.returncode, result.stderr.endswith("has no chiso schema: run `chiso db upgrade`\n")) == (
        1,
        True,
    )


# root ignores file modes; without CAP_DAC_OVERRIDE it obeys them like any user.
OBEY_FILE_MODES = (
    ("setpriv", "--bounding-set=-dac_override,-dac_read_search", "--") if os.geteuid() == 0 else ()
)


def test_read_only_database_file_fails_cleanly_and_loses_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    url = f"sqlite:///{folder / 'chiso.db'}"
    migrate.upgrade(url, revision="0001")
    with get_engine(url).connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    dispose_engines()
    before = hashlib.sha256((folder / "chiso.db").read_bytes()).hexdigest()
    (folder / "chiso.db").chmod(0o444)
    folder.chmod(0o555)
    try:
        result = chiso("db", "upgrade", url=url, prefix=OBEY_FILE_MODES)
    finally:
        folder.chmod(0o755)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("chiso: error: ")
    assert "read" in result.stderr
    assert hashlib.sha256((folder / "chiso.db").read_bytes()).hexdigest() == before


def test_commands_without_orchestration_do_not_import_prefect() -> None:
    code = (
        "import sys; from flows import cli\n"
        "try:\n    cli.main(['query', '--help'])\nexcept SystemExit:\n    pass\n"
        "assert 'prefect' not in sys.modules, 'prefect imported'\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=False
    )
    assert result.returncode == 0, result.stderr


def test_extract_reextract_updates_documents_on_older_rules(sqlite_url: str) -> None:
    from extractors import EXTRACTOR_VERSION

    migrate.upgrade(sqlite_url)
    load_dataset(sqlite_url)
    result = chiso("extract", "--reextract", url=sqlite_url)
    again = chiso("extract", "--reextract", url=sqlite_url)
    with get_engine(sqlite_url).connect() as connection:
        versions = {row[0] for row in connection.exec_driver_sql("SELECT extractor_version FROM document")}
    dispose_engines()
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"re-extracted 1 documents with rules {EXTRACTOR_VERSION}")
    assert again.stdout.startswith("re-extracted 0 documents")
    assert versions == {EXTRACTOR_VERSION}


def test_a_first_run_creates_the_schema_in_an_empty_database(sqlite_url: str) -> None:
    from flows.database import prepare_empty

    created = prepare_empty(sqlite_url)
    assert created is not None and "migrated empty -> " in created
    assert migrate.is_current(sqlite_url)
    assert prepare_empty(sqlite_url) is None


def test_a_first_run_leaves_an_older_database_to_db_upgrade(sqlite_url: str) -> None:
    from flows.database import prepare_empty

    migrate.upgrade(sqlite_url, revision="0001")
    assert prepare_empty(sqlite_url) is None
    assert migrate.current_revision(get_engine(sqlite_url)) == "0001"
