"""`python -m eval.real`: score the extractor on the real-text set, list its queries, fill its cache, check it."""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, TextIO

from eval.real import DEFAULT_PATHS, Paths
from eval.real.cases import ID_RE, SPLITS, Case, check_lines, heldout_checker, load_cases, read_lines
from eval.real.score import CaseResult, Measures, measures, score_case

REFILL = (
    "refill: an agent with the search tool runs search(corpus=pages, query) for each query that "
    "`python -m eval.real queries --missing` lists and saves each listed URL's excerpt verbatim with "
    "`python -m eval.real cache ID < excerpt.txt`"
)


def _fmt(v: float | None) -> str:
    return "  n/a" if v is None else f"{v:.2f}"


EVIDENCE_CHARS = 140


def _show(v: object) -> str:
    text = str(v)
    return text if len(text) <= EVIDENCE_CHARS else text[: EVIDENCE_CHARS - 1] + "…"


def _records(recs: Sequence[Any], fields: Sequence[str]) -> str:
    return "; ".join(
        ", ".join(f"{f}={_show(r.get(f))}" for f in fields if r.get(f) is not None) for r in recs
    )


def print_measures(name: str, m: Measures, version: str, out: TextIO) -> None:
    out.write(
        f"split {name}: {m.cases} cases ({m.scored} scored), {m.outlets} outlets, extractor {version}\n"
        f"  ICF rankings F1         {_fmt(m.icf.f1())}   tp {m.icf.tp}  fp {m.icf.fp}  fn {m.icf.fn}"
        f"  ({m.icf.tp + m.icf.fn} expected)\n"
        f"  other rankings F1       {_fmt(m.other.f1())}   tp {m.other.tp}  fp {m.other.fp}  fn {m.other.fn}"
        f"  ({m.other.tp + m.other.fn} expected)\n"
        f"  indicator recall        {_fmt(m.indicators_all.recall())}   tp {m.indicators_all.tp}"
        f"  fn {m.indicators_all.fn}  ({m.indicators_all.tp + m.indicators_all.fn} expected)\n"
        f"  indicator precision     {_fmt(m.indicators_exhaustive.precision())}   tp {m.indicators_exhaustive.tp}"
        f"  fp {m.indicators_exhaustive.fp}  ({m.exhaustive_cases} exhaustive cases)\n"
        f"  must-not-extract hits   {m.trap_hits:>4}   of {m.traps} traps\n"
    )


RANKING_FIELDS = ("entity", "program", "year", "status", "rank", "evidence")
INDICATOR_FIELDS = (
    "entity",
    "indicator",
    "label",
    "value",
    "value_min",
    "value_max",
    "unit",
    "period",
    "raw",
)


def print_details(case: Case, res: CaseResult, out: TextIO) -> None:
    if not (
        res.missing_rankings
        or res.extra_rankings
        or res.missing_indicators
        or (res.exhaustive and res.extra_indicators)
        or res.trap_hits
    ):
        out.write(f"{case.id} ok\n")
        return
    out.write(f"{case.id} {case.url}\n")
    for r in res.missing_rankings:
        out.write(f"  missing ranking    {_records([r], RANKING_FIELDS)}\n")
    for r in res.extra_rankings:
        out.write(f"  extra ranking      {_records([r], RANKING_FIELDS)}\n")
    for i in res.missing_indicators:
        out.write(f"  missing indicator  {_records([i], INDICATOR_FIELDS)}\n")
    if res.exhaustive:
        for i in res.extra_indicators:
            out.write(f"  extra indicator    {_records([i], (*INDICATOR_FIELDS, 'evidence'))}\n")
    elif res.extra_indicators:
        out.write(
            f"  ({len(res.extra_indicators)} unlabelled indicators, not counted: case not exhaustive)\n"
        )
    for trap, hit in res.trap_hits:
        out.write(f"  MUST NOT EXTRACT   {_records([trap], tuple(trap))} <- {_show(hit.get('evidence'))!r}\n")


def score(args: argparse.Namespace, paths: Paths, out: TextIO, err: TextIO) -> int:
    from eval.real.run import extract_file, extractor_origin, extractor_version

    if args.details and args.split == "test":
        err.write("the test split is sealed: --details prints per-case differences for dev cases only\n")
        return 2
    splits = SPLITS if args.split == "all" else (args.split,)
    cases = [c for c in load_cases(paths.cases) if c.split in splits]
    version = extractor_version()
    results: dict[str, CaseResult] = {}
    missing = []
    for case in cases:
        text = paths.cache / f"{case.id}.txt"
        if not text.is_file():
            missing.append(case)
            continue
        try:
            got = extract_file(
                text, url=case.url, lang=case.data.get("lang"), published=case.data.get("published")
            )
        except Exception as exc:  # a case whose text the command rejects scores as an empty extraction
            err.write(f"{case.id}: chiso extract failed ({type(exc).__name__}: {exc}); scored as no output\n")
            got = {"rankings": [], "indicators": []}
        results[case.id] = score_case(case.data, got["rankings"], got["indicators"])
    if missing:
        err.write(
            f"{len(missing)} of {len(cases)} cases have no text in {paths.cache} and are not scored; {REFILL}\n"
        )
    by_split: dict[str, Measures] = {}
    for name in splits:
        by_split[name] = measures([c.data for c in cases if c.split == name], results)
        print_measures(name, by_split[name], version, out)
    if len(splits) > 1:
        print_measures("all", measures([c.data for c in cases], results), version, out)
    if args.details:
        out.write("\nper-case differences (dev only; test is sealed):\n")
        for case in cases:
            if case.split == "dev" and case.id in results:
                print_details(case, results[case.id], out)
    if args.record:
        if missing:
            err.write("not recorded: every case of the split must have its text (see above)\n")
            return 1
        return record(paths, by_split, version, extractor_origin(), out)
    return 0 if results or not cases else 1


def record(paths: Paths, by_split: dict[str, Measures], version: str, origin: str, out: TextIO) -> int:
    digest = hashlib.sha256(paths.cases.read_bytes()).hexdigest()[:12] if paths.cases.exists() else None
    earlier = [json.loads(line) for _, line in read_lines(paths.scores)]
    now = datetime.now(UTC).replace(microsecond=0).isoformat()
    with paths.scores.open("a", encoding="utf-8") as f:
        for name, m in by_split.items():
            if any(e.get("split") == name and e.get("extractor_version") == version for e in earlier):
                out.write(f"note: {name} was already recorded for extractor {version}\n")
            line = {
                "date": now,
                "extractor_version": version,
                "split": name,
                "cases_sha256": digest,
                "extractor_from": origin,
                **m.as_dict(),
            }
            f.write(json.dumps(line, ensure_ascii=False) + "\n")
    out.write(f"recorded {', '.join(by_split)} in {paths.scores}\n")
    return 0


def queries(args: argparse.Namespace, paths: Paths, out: TextIO) -> int:
    grouped: dict[str, list[Case]] = defaultdict(list)
    for case in load_cases(paths.cases):
        grouped[str(case.data.get("query"))].append(case)
    for query, cases in grouped.items():
        rows = [(c, (paths.cache / f"{c.id}.txt").is_file()) for c in cases]
        if args.missing and all(have for _, have in rows):
            continue
        out.write(f"{json.dumps(query, ensure_ascii=False)}\n")
        for case, have in rows:
            if not (args.missing and have):
                out.write(f"  {case.id}  {case.url}  {'cached' if have else 'missing'}\n")
    return 0


def cache(args: argparse.Namespace, paths: Paths, stdin: TextIO, out: TextIO, err: TextIO) -> int:
    if not ID_RE.match(args.id):
        err.write(f"not a case id (prefix-NNN): {args.id!r}\n")
        return 2
    text = stdin.read()
    if not text.strip():
        err.write("standard input is empty: pipe the excerpt in\n")
        return 2
    paths.cache.mkdir(parents=True, exist_ok=True)
    target = paths.cache / f"{args.id}.txt"
    replaced = target.is_file() and target.read_text(encoding="utf-8") != text
    target.write_text(text, encoding="utf-8")
    known = any(c.id == args.id for c in load_cases(paths.cases))
    out.write(
        f"{'replaced' if replaced else 'wrote'} {target} ({len(text)} characters)"
        f"{'' if known else '; no case has this id yet'}\n"
    )
    return 0


def check(paths: Paths, out: TextIO) -> int:
    lines = read_lines(paths.cases)
    is_held_out = heldout_checker(paths.cases.resolve().parent)
    problems = check_lines(lines, is_held_out)
    for n, cid, problem in problems:
        out.write(f"{paths.cases.name}:{n}: {cid}: {problem}\n")
    cases = load_cases(paths.cases)
    per_split = {s: sum(1 for c in cases if c.split == s) for s in SPLITS}
    held = "held-out list checked" if is_held_out else "held-out list not found (shared/eval/heldout.py)"
    out.write(
        f"{len(lines)} lines, {len(problems)} problems; dev {per_split['dev']}, test {per_split['test']}; {held}\n"
    )
    return 1 if problems else 0


def main(
    argv: Sequence[str] | None = None,
    paths: Paths = DEFAULT_PATHS,
    stdin: TextIO | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    stdin, out, err = stdin or sys.stdin, out or sys.stdout, err or sys.stderr
    parser = argparse.ArgumentParser(prog="python -m eval.real", description=__doc__)
    sub = parser.add_subparsers(dest="command")
    sc = sub.add_parser("score", help="(default) extract every cached case and print the measures per split")
    sc.add_argument("--split", choices=("dev", "test", "all"), default="dev")
    sc.add_argument("--details", action="store_true", help="per-case missing and extra records (dev only)")
    sc.add_argument("--record", action="store_true", help="append the figures to scores.jsonl")
    q = sub.add_parser("queries", help="the saved search queries with their cases' URLs")
    q.add_argument("--missing", action="store_true", help="only cases whose text is not cached")
    c = sub.add_parser("cache", help="save standard input as the cached text of case ID")
    c.add_argument("id")
    sub.add_parser("check", help="validate cases.jsonl")
    if not argv or argv[0] not in {"score", "queries", "cache", "check", "-h", "--help"}:
        argv = ["score", *argv]
    args = parser.parse_args(argv)
    if args.command == "queries":
        return queries(args, paths, out)
    if args.command == "cache":
        return cache(args, paths, stdin, out, err)
    if args.command == "check":
        return check(paths, out)
    return score(args, paths, out, err)
