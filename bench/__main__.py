"""`python -m bench [--quick] [--only NAME...]`: run every benchmark, print one table, write bench/results/latest.json."""

from __future__ import annotations

import argparse
import importlib
import re
import subprocess
import sys
import time
import traceback

from bench.common import ROOT, Result, Row, table, write_results

BENCHES = ("crawl", "processing", "incremental", "orchestration", "scale", "extract_speed")


def extract_speed(quick: bool) -> Result:
    """bench/extract_speed.py (another engineer's, run as it is): its 'Nx slower' lines become ratios."""
    args = ["--docs", "40", "--repeat", "1"] if quick else []
    proc = subprocess.run(
        [sys.executable, "bench/extract_speed.py", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    result = Result("extract_speed")
    if proc.returncode != 0:
        result.notes.append(f"FAILED: {proc.stderr.strip().splitlines()[-1:]}")
        return result
    lines = proc.stdout.splitlines()
    full = next((line for line in lines if line.startswith("extract ")), "")
    docs = re.search(r"([\d.]+) docs/s", full)
    for line in lines:
        slower = re.search(r"extract is (\d+)x slower", line)
        if slower and docs:
            what = line.split(":", 1)[0].removeprefix("baseline ").strip()
            rate = float(docs.group(1))
            # value/baseline = extract docs/s over the baseline's docs/s, i.e. 1/N
            result.rows.append(Row("extract docs/s", rate, "d/s", rate * int(slower.group(1)), what))
    result.details["stdout"] = proc.stdout
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run of about two minutes")
    parser.add_argument("--only", nargs="*", choices=BENCHES, help="run only these benchmarks")
    args = parser.parse_args()
    results: list[Result] = []
    for name in args.only or BENCHES:
        print(f"== {name} ...", file=sys.stderr, flush=True)
        started = time.perf_counter()
        try:
            run = extract_speed if name == "extract_speed" else importlib.import_module(f"bench.{name}").run
            result = run(args.quick)
        except Exception as exc:  # one broken benchmark must not lose the others' figures
            traceback.print_exc()
            result = Result(name, notes=[f"FAILED: {type(exc).__name__}: {exc}"])
        result.seconds = time.perf_counter() - started
        print(f"   {name}: {result.seconds:.1f} s", file=sys.stderr, flush=True)
        results.append(result)
    path = write_results(results, quick=args.quick)
    print(table(results))
    print(f"\n{sum(r.seconds for r in results):.0f} s in all; written to {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
