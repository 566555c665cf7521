"""Bad run parameters are refused in one line before the database is touched or Prefect is imported."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
TOMORROW = (datetime.now(UTC).date() + timedelta(days=1)).isoformat()
BROKEN_SOURCES = "sources:\n  - code: vov\n    name: [unclosed\n"
NO_SOURCES_FILE = "missing.yaml"

# The CLI's own entry point in a fresh interpreter; afterwards it says whether Prefect got imported.
PROBE = (
    "import sys\n"
    "from flows import cli\n"
    "code = 0\n"
    "try:\n"
    "    cli.main(sys.argv[1:])\n"
    "except SystemExit as exc:\n"
    "    code = exc.code\n"
    "print('prefect imported' if 'prefect' in sys.modules else 'prefect not imported')\n"
    "sys.exit(code)\n"
)


def refuse(args: list[str], *, cwd: Path, sources: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CHISO_", "PREFECT_"))}
    env |= {
        "PYTHONPATH": str(REPO),
        "CHISO_DATABASE_URL": f"sqlite:///{cwd / 'data' / 'chiso.db'}",
        "PREFECT_HOME": str(cwd / "prefect"),
    }
    if sources is not None:
        env["CHISO_SOURCES"] = str(cwd / sources)
    return subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "sources", "message"),
    [
        (
            ["backfill", "--since", "2024-02-01", "--until", "2024-01-31"],
            None,
            "since (2024-02-01) is after until (2024-01-31)",
        ),
        (
            ["run", "--since", "2024-02-01", "--until", "2024-01-31"],
            None,
            "since (2024-02-01) is after until (2024-01-31)",
        ),
        (["run", "--since", TOMORROW], None, f"since ({TOMORROW}) is after until ("),
        (["run", "--source", "nosuch"], None, "unknown source 'nosuch' (known: vov, "),
        (
            ["backfill", "--since", "2023-01-01", "--source", "vov", "--source", "nosuch"],
            None,
            "unknown source 'nosuch' (known: vov, ",
        ),
        (["backfill", "--since", "2023-02-30"], None, "--since: '2023-02-30' is not a date (YYYY-MM-DD)"),
        (["run", "--until", "yesterday"], None, "--until: 'yesterday' is not a date (YYYY-MM-DD)"),
        (
            ["backfill", "--since", "2023-01-01", "--chunk", "year"],
            None,
            "--chunk: 'year' is not month or week",
        ),
        (["run"], "broken.yaml", "broken.yaml: "),
        (["backfill", "--since", "2023-01-01"], "broken.yaml", "broken.yaml: "),
        (["run"], NO_SOURCES_FILE, f"{NO_SOURCES_FILE}: sources file not found"),
    ],
    ids=[
        "backfill-since-after-until",
        "run-since-after-until",
        "run-since-in-the-future",
        "run-unknown-source",
        "backfill-unknown-source",
        "backfill-bad-date",
        "run-bad-until",
        "backfill-bad-chunk",
        "run-broken-sources-file",
        "backfill-broken-sources-file",
        "run-missing-sources-file",
    ],
)
def test_bad_parameters_are_refused_in_one_line_without_prefect(
    args: list[str], sources: str | None, message: str, tmp_path: Path
) -> None:
    (tmp_path / "broken.yaml").write_text(BROKEN_SOURCES, encoding="utf-8")
    result = refuse(args, cwd=tmp_path, sources=sources)
    lines = result.stderr.splitlines()
    assert (result.returncode, len(lines), result.stdout) == (1, 1, "prefect not imported\n"), result.stderr
    assert lines[0].startswith("chiso: error: "), lines[0]
    assert message in lines[0], lines[0]
    # Refused before the database was created: nothing was touched.
    assert not (tmp_path / "data").exists()


def test_the_probe_sees_prefect_when_a_command_imports_it(tmp_path: Path) -> None:
    # Guards the probe above: `chiso serve` without a server reads Prefect's settings, then refuses.
    result = refuse(["serve"], cwd=tmp_path)
    assert (result.returncode, result.stdout) == (1, "prefect imported\n"), result.stderr
