"""`chiso extract`: JSON contract on HTML and text, tables, bad input, no Prefect import."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from flows.cli_extract import extract_command

ROOT = Path(__file__).resolve().parents[2]
ARTICLES = ROOT / "tests" / "extractors" / "gold" / "articles"
app = typer.Typer()
app.command()(extract_command)
runner = CliRunner()


def _json(args: list[str], stdin: bytes | None = None) -> dict[str, object]:
    result = runner.invoke(app, args, input=stdin)
    assert result.exit_code == 0, result.output
    data: dict[str, object] = json.loads(result.stdout)
    return data


def test_json_on_html_follows_the_contract() -> None:
    out = _json([str(ARTICLES / "a01-icf-top7-2023-list.html"), "--url", "https://icf.example/top7"])
    assert out["document"] == {
        "url": "https://icf.example/top7",
        "title": "ICF names the Top7 Intelligent Communities of 2023",
        "published": "2023-02-08T10:00:00-05:00",
        "lang": "en",
    }
    ranks = out["rankings"]
    # seven Top7 members, each also a finalist ("will compete for the title of Intelligent Community of the Year")
    assert isinstance(ranks, list) and len(ranks) == 14
    assert ranks[0]["program"] == "icf_top7" and ranks[0]["year"] == 2023


def test_json_on_plain_text_with_published_and_lang(tmp_path: Path) -> None:
    f = tmp_path / "a.txt"
    f.write_text("Năm nay, Bình Dương lọt vào Top 7 cộng đồng thông minh của ICF.", encoding="utf-8")
    out = _json([str(f), "--published", "2023-06-22", "--lang", "vi"])
    assert out["document"] == {
        "url": None,
        "title": None,
        "published": "2023-06-22T00:00:00+07:00",
        "lang": "vi",
    }
    assert out["rankings"] == [
        {
            "entity": "Binh Duong",
            "entity_local": "Bình Dương",
            "program": "icf_top7",
            "year": 2023,
            "status": "achieved",
            "rank": None,
            "out_of": None,
            "year_inferred": False,
            "evidence": "Năm nay, Bình Dương lọt vào Top 7 cộng đồng thông minh của ICF.",
            "start": 9,
            "end": 54,
        }
    ]


def test_stdin_dash_reads_standard_input() -> None:
    out = _json(["-", "--lang", "vi"], stdin="Năm 2022, Bình Dương thu hút 3,5 tỷ USD vốn FDI.".encode())
    assert out["indicators"][0]["value"] == 3500000000  # type: ignore[index]


def test_json_output_is_utf8_without_escapes(tmp_path: Path) -> None:
    f = tmp_path / "a.txt"
    f.write_text("Năm 2022, Bình Dương thu hút 3,5 tỷ USD vốn FDI.", encoding="utf-8")
    assert "Bình Dương" in runner.invoke(app, [str(f)]).stdout


def test_table_format_prints_rich_tables(tmp_path: Path) -> None:
    f = tmp_path / "a.txt"
    f.write_text("Năm 2022, Bình Dương thu hút 3,5 tỷ USD vốn FDI.", encoding="utf-8")
    result = runner.invoke(app, [str(f), "--format", "table"])
    assert result.exit_code == 0
    assert "Indicators (1)" in result.stdout


def test_irrelevant_input_gives_an_empty_result(tmp_path: Path) -> None:
    f = tmp_path / "a.txt"
    f.write_text("Hôm nay trời nắng đẹp.", encoding="utf-8")
    out = _json([str(f)])
    assert (out["rankings"], out["indicators"]) == ([], [])


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        (b"", [], "empty"),
        (b"   \n ", [], "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", [], "binary"),
        (b"caf\xe9 au lait \xff\xfe", [], "UTF-8"),
        (b"text", ["--published", "2023-13-45"], "YYYY-MM-DD"),
        (b"text", ["--lang", "de"], "vi, en or fr"),
        (b"text", ["--format", "xml"], "json or table"),
    ],
)
def test_bad_input_fails_with_one_clear_line(
    tmp_path: Path, content: bytes, args: list[str], message: str
) -> None:
    f = tmp_path / "in.bin"
    f.write_bytes(content)
    result = runner.invoke(app, [str(f), *args])
    assert result.exit_code != 0
    text = result.output + str(result.exception or "")
    assert message in text


def test_missing_file_is_an_error(tmp_path: Path) -> None:
    result = runner.invoke(app, [str(tmp_path / "nope.txt")])
    assert result.exit_code != 0 and "no such file" in str(result.exception)


def test_input_over_50_mb_is_refused(tmp_path: Path) -> None:
    f = tmp_path / "big.txt"
    with f.open("wb") as fh:
        fh.truncate(50 * 1024 * 1024 + 1)
    result = runner.invoke(app, [str(f)])
    assert result.exit_code != 0 and "50 MB" in str(result.exception)


def test_extract_command_does_not_import_prefect(tmp_path: Path) -> None:
    f = tmp_path / "a.txt"
    f.write_text("Năm 2022, Bình Dương thu hút 3,5 tỷ USD vốn FDI.", encoding="utf-8")
    code = (
        "import sys, typer; from flows.cli_extract import extract_command; app = typer.Typer(); "
        f"app.command()(extract_command); sys.argv = ['x', {str(f)!r}]\n"
        "try:\n    app()\nexcept SystemExit:\n    pass\n"
        "assert 'prefect' not in sys.modules, 'prefect imported'"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 0, proc.stderr
    assert "fdi_registered" in proc.stdout
