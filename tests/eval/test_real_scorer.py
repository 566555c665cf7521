"""The real-text scorer: matching rules, measures, case checks and its commands, on small cases written here."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from eval.real import Paths
from eval.real.cases import check_lines, split_of
from eval.real.cli import main
from eval.real.run import extract_file
from eval.real.run import extractor_version as version
from eval.real.score import measures, score_case
from flows.cli_extract import extract_command

ROOT = Path(__file__).resolve().parents[2]


def rk(entity: str, program: str, year: int | None, status: str = "achieved", **extra: Any) -> dict[str, Any]:
    return {"entity": entity, "program": program, "year": year, "status": status, **extra}


def ind(entity: str | None, value: float, unit: str, **extra: Any) -> dict[str, Any]:
    return {"entity": entity, "indicator": extra.pop("indicator", "x"), "value": value, "unit": unit, **extra}


def case(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "t-001",
        "expected_rankings": [],
        "optional_rankings": [],
        "expected_indicators": [],
        "indicators_exhaustive": True,
        "must_not_extract": [],
    }
    return base | fields


def counts(c: Any) -> tuple[int, int, int]:
    return (c.tp, c.fp, c.fn)


RANKING_CASES = [
    pytest.param(
        [rk("Binh Duong", "icf_top7", 2023)],
        [],
        [rk("Binh Duong", "icf_top7", 2023, rank=None, evidence="e")],
        (1, 0, 0),
        (0, 0, 0),
        id="same-key-matches-whatever-else-differs",
    ),
    pytest.param(
        [rk("Binh Duong", "icf_icoty", 2023, "candidate")],
        [],
        [rk("Binh Duong", "icf_icoty", 2023, "achieved")],
        (0, 1, 1),
        (0, 0, 0),
        id="status-differs-is-a-miss-and-an-extra",
    ),
    pytest.param(
        [rk("Binh Duong", "icf_smart21", None, consecutive_count=5)],
        [],
        [rk("Binh Duong", "icf_smart21", 2023)],
        (0, 1, 1),
        (0, 0, 0),
        id="year-null-is-not-any-year",
    ),
    pytest.param(
        [rk("Ba Ria - Vung Tau", "vn_pci", 2023)],
        [],
        [rk("ba ria-vung tàu", "vn_pci", 2023)],
        (0, 0, 0),
        (1, 0, 0),
        id="entity-ignores-case-accents-punctuation",
    ),
    pytest.param(
        [rk("Taoyuan", "icf_icoty", 2019)],
        [rk("Taoyuan", "icf_top7", 2019)],
        [rk("Taoyuan", "icf_icoty", 2019), rk("Taoyuan", "icf_top7", 2019), rk("Hanoi", "vn_pci", 2022)],
        (1, 0, 0),
        (0, 1, 0),
        id="optional-counts-neither-way-other-extra-is-other-fp",
    ),
    pytest.param(
        [rk("Taoyuan", "icf_top7", 2019)],
        [],
        [rk("Taoyuan", "icf_top7", 2019), rk("Taoyuan", "icf_top7", 2019, evidence="again")],
        (1, 0, 0),
        (0, 0, 0),
        id="duplicate-extractions-of-one-key-count-once",
    ),
]


@pytest.mark.parametrize(("expected", "optional", "got", "icf", "other"), RANKING_CASES)
def test_rankings_match_on_entity_program_year_status(
    expected: list[dict[str, Any]],
    optional: list[dict[str, Any]],
    got: list[dict[str, Any]],
    icf: tuple[int, int, int],
    other: tuple[int, int, int],
) -> None:
    res = score_case(case(expected_rankings=expected, optional_rankings=optional), got, [])
    assert (counts(res.icf), counts(res.other)) == (icf, other)


INDICATOR_CASES = [
    pytest.param(
        [ind("Binh Duong", 1000, "USD")], [ind("Binh Duong", 1005, "USD")], (1, 0, 0), id="+0.5%-matches"
    ),
    pytest.param(
        [ind("Binh Duong", 1000, "USD")], [ind("Binh Duong", 995, "USD")], (1, 0, 0), id="-0.5%-matches"
    ),
    pytest.param(
        [ind("Binh Duong", 1000, "USD")], [ind("Binh Duong", 1006, "USD")], (0, 1, 1), id="+0.6%-misses"
    ),
    pytest.param(
        [ind("Binh Duong", 1000, "USD")], [ind("Binh Duong", 1000, "VND")], (0, 1, 1), id="unit-differs"
    ),
    pytest.param(
        [ind("Binh Duong", 1000, "USD")], [ind("Dong Nai", 1000, "USD")], (0, 1, 1), id="entity-differs"
    ),
    pytest.param(
        [ind("Binh Duong", 7, "%", indicator=None, label="export growth")],
        [ind("Binh Duong", 7, "%", indicator="grdp_growth")],
        (1, 0, 0),
        id="indicator-code-is-not-compared",
    ),
    pytest.param(
        [ind("Binh Duong", 95, "%"), ind("Binh Duong", 95, "%")],
        [ind("Binh Duong", 95, "%")],
        (1, 0, 1),
        id="one-record-meets-one-label",
    ),
    pytest.param(
        [ind("Binh Duong", 172000000, "VND")],
        [ind("Binh Duong", 172000000, "VND"), ind("Binh Duong", 7012, "USD")],
        (1, 1, 0),
        id="equivalent-in-brackets-is-an-extra",
    ),
    pytest.param(
        [
            {
                "entity": "Binh Duong",
                "indicator": None,
                "label": "x",
                "value": None,
                "value_min": 8,
                "value_max": 9,
                "unit": "%",
                "period": "2021..2025",
            }
        ],
        [ind("Binh Duong", 8, "%"), ind("Binh Duong", 9, "%")],
        (1, 0, 0),
        id="range-met-by-either-bound-other-bound-absorbed",
    ),
    pytest.param(
        [ind("Binh Duong", 0, "%")], [ind("Binh Duong", 0.001, "%")], (0, 1, 1), id="zero-needs-zero"
    ),
    pytest.param([ind(None, 8, "%")], [ind(None, 8, "%")], (1, 0, 0), id="null-entity-matches-null"),
    pytest.param(
        [ind("Binh Duong", 30, "m2/person")],
        [ind("Binh Duong", 30, "m²/person")],
        (1, 0, 0),
        id="m2-spelling",
    ),
]


@pytest.mark.parametrize(("expected", "got", "tp_fp_fn"), INDICATOR_CASES)
def test_indicators_match_on_entity_value_within_half_percent_and_unit(
    expected: list[dict[str, Any]], got: list[dict[str, Any]], tp_fp_fn: tuple[int, int, int]
) -> None:
    res = score_case(case(expected_indicators=expected), [], got)
    assert counts(res.indicators) == tp_fp_fn


def test_extra_indicators_of_a_case_not_exhaustive_are_not_false_positives() -> None:
    res = score_case(
        case(expected_indicators=[ind("Binh Duong", 5, "%")], indicators_exhaustive=False),
        [],
        [ind("Binh Duong", 5, "%"), ind("Binh Duong", 6, "%")],
    )
    assert (counts(res.indicators), len(res.extra_indicators)) == ((1, 0, 0), 1)


TRAP_CASES = [
    pytest.param(
        {"kind": "ranking", "entity": "Binh Duong", "program": "icf_icoty", "year": 2023}, 1, id="fields"
    ),
    pytest.param({"kind": "ranking", "entity": "Binh Duong", "program": "*", "year": "*"}, 1, id="wildcards"),
    pytest.param({"kind": "ranking", "entity": "Becamex Binh Duong", "program": "*"}, 0, id="other-entity"),
    pytest.param({"kind": "ranking", "entity": "Binh Duong", "status": "candidate"}, 0, id="other-status"),
    pytest.param(
        {"kind": "indicator", "entity": "Binh Duong", "value": 95.4}, 1, id="indicator-value-tolerant"
    ),
    pytest.param({"kind": "indicator", "entity": "*", "unit": "USD"}, 0, id="indicator-unit"),
    pytest.param(
        {"kind": "indicator", "entity": "Binh Duong", "status": "achieved"}, 0, id="kind-picks-the-pool"
    ),
    pytest.param(
        {
            "kind": "ranking",
            "entity": "Binh Duong",
            "program": "icf_icoty",
            "note": "the finalist is no winner",
        },
        1,
        id="note-explains-only",
    ),
]


@pytest.mark.parametrize(("trap", "hits"), TRAP_CASES)
def test_must_not_extract_entries_hit_when_every_field_matches(trap: dict[str, Any], hits: int) -> None:
    got_r = [rk("Binh Duong", "icf_icoty", 2023)]
    got_i = [ind("Binh Duong", 95, "%")]
    assert score_case(case(must_not_extract=[trap]), got_r, got_i).traps == hits


def test_measures_sum_cases_into_exact_figures() -> None:
    a = case(
        id="t-001",
        outlet="a.example",
        expected_rankings=[rk("Taoyuan", "icf_top7", 2019), rk("Hanoi", "vn_pci", 2022)],
        expected_indicators=[ind("Taoyuan", 10, "%"), ind("Taoyuan", 20, "%")],
        must_not_extract=[{"kind": "ranking", "entity": "Taoyuan", "program": "icf_icoty"}],
    )
    b = case(
        id="t-002",
        outlet="a.example",
        expected_rankings=[rk("Curitiba", "icf_top7", 2019)],
        expected_indicators=[ind("Curitiba", 30, "%")],
        indicators_exhaustive=False,
    )
    c = case(id="t-003", outlet="b.example", expected_rankings=[rk("Ipswich", "icf_icoty", 2014)])
    results = {
        "t-001": score_case(
            a,
            [rk("Taoyuan", "icf_top7", 2019), rk("Taoyuan", "icf_icoty", 2019)],
            [ind("Taoyuan", 10, "%"), ind("Taoyuan", 11, "%")],
        ),
        "t-002": score_case(
            b, [rk("Curitiba", "icf_top7", 2019)], [ind("Curitiba", 30, "%"), ind("Curitiba", 31, "%")]
        ),
    }
    m = measures([a, b, c], results)
    assert m.as_dict() == {
        "cases": 3,
        "scored": 2,
        "outlets": 2,
        "icf_rankings_f1": 0.8,
        "icf_rankings": {"tp": 2, "fp": 1, "fn": 0},
        "other_rankings_f1": 0.0,
        "other_rankings": {"tp": 0, "fp": 0, "fn": 1},
        "indicator_recall": 0.6667,
        "indicators": {"tp": 2, "fn": 1},
        "indicator_precision": 0.5,
        "indicators_exhaustive": {"cases": 1, "tp": 1, "fp": 1},
        "must_not_extract_hits": 1,
        "must_not_extract_traps": 1,
    }


def test_measures_of_nothing_are_undefined_not_zero() -> None:
    d = measures([], {}).as_dict()
    assert (d["icf_rankings_f1"], d["indicator_recall"], d["indicator_precision"]) == (None, None, None)


@pytest.mark.parametrize(
    ("url", "split"),
    [
        ("https://example.org/a", "dev"),
        ("https://example.org/b", "dev"),
        ("https://example.org/c", "test"),
        ("https://example.org/d", "test"),
    ],
)
def test_split_is_the_hash_rule(url: str, split: str) -> None:
    assert split_of(url) == split


def good_case(url: str = "https://www.example.org/a", cid: str = "t-001", **fields: Any) -> dict[str, Any]:
    return {
        "id": cid,
        "split": split_of(url),
        "url": url,
        "outlet": "example.org",
        "lang": "en",
        "published": "2023-08-21",
        "query": "q",
        "expected_rankings": [rk("Binh Duong", "icf_top7", 2023, rank=None, consecutive_count=5)],
        "optional_rankings": [],
        "expected_indicators": [ind("Binh Duong", 3.5e9, "USD", period="2023", raw="3,5 tỷ USD")],
        "indicators_exhaustive": True,
        "must_not_extract": [
            {"kind": "ranking", "entity": "Binh Duong", "program": "icf_icoty", "year": "*"}
        ],
        "notes": "",
    } | fields


CHECK_CASES = [
    pytest.param(good_case(), [], id="valid"),
    pytest.param(good_case(split="dev"), ["split is 'dev', the hash rule gives 'test'"], id="split"),
    pytest.param(good_case(outlet="www.example.org"), ["outlet is 'www.example.org'"], id="outlet"),
    pytest.param(good_case(lang="de"), ["lang must be vi, en or fr"], id="lang"),
    pytest.param(good_case(published="21/08/2023"), ["published must be YYYY-MM-DD"], id="published"),
    pytest.param(good_case(extra=1), ["unknown field extra"], id="unknown-field"),
    pytest.param(
        good_case(expected_rankings=[rk("Binh Duong", "ICF Top7", 2023, "won")]),
        ["program must be a snake_case code", "status must be one of"],
        id="ranking-fields",
    ),
    pytest.param(
        good_case(expected_indicators=[ind("Binh Duong", 5, "%", indicator=None, period="2023")]),
        ["indicator null needs a label"],
        id="open-indicator-needs-label",
    ),
    pytest.param(
        good_case(expected_indicators=[ind("Binh Duong", 5, "%", period="năm 2023")]),
        ["period 'năm 2023' is not one of the labelling.md forms"],
        id="period-form",
    ),
    pytest.param(
        good_case(must_not_extract=[{"kind": "ranking", "year": "2023"}]),
        ["year must be an integer year or null"],
        id="trap-fields-checked",
    ),
]


@pytest.mark.parametrize(("data", "problems"), CHECK_CASES)
def test_check_reports_each_schema_problem(data: dict[str, Any], problems: list[str]) -> None:
    found = [p for _, _, p in check_lines([(1, json.dumps(data))], None)]
    assert len(found) == len(problems)
    assert all(p in f for f, p in zip(found, problems, strict=True))


def test_check_reports_duplicate_ids_urls_held_out_and_bad_json() -> None:
    lines = [
        (1, json.dumps(good_case())),
        (2, json.dumps(good_case())),
        (3, json.dumps(good_case("https://example.org/c", cid="t-002"))),
        (4, "{not json"),
    ]
    found = check_lines(lines, lambda url: url.endswith("/c"))
    assert [(n, cid, p.split(" (")[0].split(":")[0]) for n, cid, p in found] == [
        (2, "t-001", "duplicate id"),
        (2, "t-001", "duplicate url"),
        (3, "t-002", "url is held out"),
        (4, "?", "not JSON"),
    ]


TEXT = "Binh Duong was named one of the Top7 Intelligent Communities of 2023 by the Intelligent Community Forum.\n"


@pytest.fixture
def paths(tmp_path: Path) -> Paths:
    p = Paths(cases=tmp_path / "cases.jsonl", cache=tmp_path / "cache", scores=tmp_path / "scores.jsonl")
    lines = [good_case("https://example.org/a", "t-001"), good_case("https://example.org/c", "t-002")]
    p.cases.write_text("".join(json.dumps(c) + "\n" for c in lines), encoding="utf-8")
    return p


def run(argv: list[str], paths: Paths, stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, paths=paths, stdin=io.StringIO(stdin), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_cache_writes_standard_input_verbatim(paths: Paths) -> None:
    code, out, _ = run(["cache", "t-001"], paths, stdin=" date 2023-08-21 " + TEXT)
    assert code == 0 and out.startswith("wrote ")
    assert (paths.cache / "t-001.txt").read_text(encoding="utf-8") == " date 2023-08-21 " + TEXT


@pytest.mark.parametrize(("argv", "stdin"), [(["cache", "../x"], TEXT), (["cache", "t-001"], "  \n")])
def test_cache_refuses_a_bad_id_or_empty_input(paths: Paths, argv: list[str], stdin: str) -> None:
    code, _, err = run(argv, paths, stdin=stdin)
    assert (code, list(paths.cache.glob("*")) if paths.cache.exists() else []) == (2, [])
    assert err.count("\n") == 1


def test_score_says_in_one_line_how_many_texts_are_missing_and_how_to_refill(paths: Paths) -> None:
    code, out, err = run(["--split", "all"], paths)
    assert code == 1
    assert err.splitlines() == [err.strip()] and err.startswith("2 of 2 cases have no text")
    assert "python -m eval.real cache ID < excerpt.txt" in err
    assert "split dev: 1 cases (0 scored), 1 outlets" in out and "split test: 1 cases (0 scored)" in out


def test_details_refuse_the_sealed_test_split(paths: Paths) -> None:
    code, out, err = run(["--split", "test", "--details"], paths)
    assert (code, out) == (2, "") and "sealed" in err


def test_queries_lists_each_query_with_urls_and_cache_state(paths: Paths) -> None:
    run(["cache", "t-002"], paths, stdin=TEXT)
    _, out, _ = run(["queries"], paths)
    assert out.splitlines() == [
        '"q"',
        "  t-001  https://example.org/a  missing",
        "  t-002  https://example.org/c  cached",
    ]


def test_record_appends_one_line_per_split_with_the_extractor_version(paths: Paths) -> None:
    for cid in ("t-001", "t-002"):
        run(["cache", cid], paths, stdin=TEXT)
    code, _, _ = run(["--split", "all", "--record"], paths)
    code2, _, _ = run(["--split", "dev", "--record"], paths)
    lines = [json.loads(line) for line in paths.scores.read_text(encoding="utf-8").splitlines()]
    from extractors import EXTRACTOR_VERSION

    assert (code, code2) == (0, 0)
    assert [(r["split"], r["extractor_version"], r["cases"]) for r in lines] == [
        ("dev", EXTRACTOR_VERSION, 1),
        ("test", EXTRACTOR_VERSION, 1),
        ("dev", EXTRACTOR_VERSION, 1),
    ]


def test_record_refuses_when_texts_are_missing(paths: Paths) -> None:
    code, _, err = run(["--split", "dev", "--record"], paths)
    assert (code, paths.scores.exists()) == (1, False) and "not recorded" in err


def test_scorer_extracts_exactly_what_chiso_extract_prints(tmp_path: Path) -> None:
    text = tmp_path / "t.txt"
    text.write_text(TEXT, encoding="utf-8")
    app = typer.Typer()
    app.command()(extract_command)
    args = [str(text), "--format", "json", "--url", "https://example.org/a", "--lang", "en"]
    cli = CliRunner().invoke(app, [*args, "--published", "2023-08-21"])
    assert cli.exit_code == 0, cli.output
    got = extract_file(text, url="https://example.org/a", lang="en", published="2023-08-21")
    assert got == json.loads(cli.stdout) and got["rankings"]


def test_scoring_does_not_import_prefect(paths: Paths) -> None:
    run(["cache", "t-001"], paths, stdin=TEXT)
    code = (
        "import sys, pathlib; from eval.real import Paths; from eval.real.cli import main; "
        "d = pathlib.Path(sys.argv[1]); "
        "main(['--split', 'dev'], paths=Paths(d / 'cases.jsonl', d / 'cache', d / 'scores.jsonl')); "
        "print(any(m.startswith('prefect') for m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(paths.cases.parent)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.splitlines()[0] == "split dev: 1 cases (1 scored), 1 outlets, extractor " + version()
    assert out.stdout.splitlines()[-1] == "False"
