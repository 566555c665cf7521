"""Matching extracted records against a case's labels and summing the five measures (pure, no IO)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

TOLERANCE = 0.005  # indicator values match within ±0.5 %

Record = Mapping[str, Any]


def norm_name(name: object) -> str:
    """Entity names compare without case, accents and punctuation ("Ba Ria-Vung Tau" = "Ba Ria - Vung Tau")."""
    if name is None:
        return ""
    text = unicodedata.normalize("NFKD", str(name).replace("đ", "d").replace("Đ", "D"))
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text).split())


def norm_unit(unit: object) -> str:
    return "" if unit is None else str(unit).replace("²", "2").replace(" ", "").casefold()


def values_match(expected: float, got: object) -> bool:
    if not isinstance(got, int | float) or isinstance(got, bool):
        return False
    if expected == 0:
        return got == 0
    return abs(got - expected) <= TOLERANCE * abs(expected)


def ranking_key(r: Record) -> tuple[str, str, int | None, str]:
    return (norm_name(r.get("entity")), str(r.get("program")), r.get("year"), str(r.get("status")))


def is_icf(program: object) -> bool:
    return str(program).startswith("icf_")


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, other: Counts) -> None:
        self.tp += other.tp
        self.fp += other.fp
        self.fn += other.fn

    def f1(self) -> float | None:
        denominator = 2 * self.tp + self.fp + self.fn
        return None if denominator == 0 else 2 * self.tp / denominator

    def recall(self) -> float | None:
        return None if self.tp + self.fn == 0 else self.tp / (self.tp + self.fn)

    def precision(self) -> float | None:
        return None if self.tp + self.fp == 0 else self.tp / (self.tp + self.fp)


@dataclass
class CaseResult:
    """How one case's extraction compares with its labels; the lists hold the records behind the counts."""

    case_id: str
    icf: Counts = field(default_factory=Counts)
    other: Counts = field(default_factory=Counts)
    indicators: Counts = field(default_factory=Counts)
    exhaustive: bool = False
    traps: int = 0
    missing_rankings: list[Record] = field(default_factory=list)
    extra_rankings: list[Record] = field(default_factory=list)
    missing_indicators: list[Record] = field(default_factory=list)
    extra_indicators: list[Record] = field(default_factory=list)
    trap_hits: list[tuple[Record, Record]] = field(default_factory=list)


def _bounds(expected: Record) -> list[float]:
    if expected.get("value") is not None:
        return [float(expected["value"])]
    return [float(expected[k]) for k in ("value_min", "value_max") if expected.get(k) is not None]


def _indicator_fits(expected: Record, got: Record) -> bool:
    return (
        norm_name(expected.get("entity")) == norm_name(got.get("entity"))
        and norm_unit(expected.get("unit")) == norm_unit(got.get("unit"))
        and any(values_match(b, got.get("value")) for b in _bounds(expected))
    )


def match_indicators(expected: list[Record], got: list[Record]) -> tuple[list[Record], list[Record]]:
    """(expected left unmatched, extracted left unmatched); each extracted record matches at most one label.

    A label with a range (value null, value_min/value_max) is met by a record at either bound; a second
    record at its other bound is the same fact and is not counted as extra.
    """
    free = list(range(len(got)))
    missing = []
    matched_ranges = []
    for exp in sorted(expected, key=lambda e: len(_bounds(e))):
        fits = [k for k in free if _indicator_fits(exp, got[k])]
        if not fits:
            missing.append(exp)
            continue
        bounds = _bounds(exp)
        best = min(fits, key=lambda k: min(abs(float(got[k]["value"]) - b) for b in bounds))
        free.remove(best)
        if exp.get("value") is None:
            matched_ranges.append(exp)
    extra = [got[k] for k in free if not any(_indicator_fits(r, got[k]) for r in matched_ranges)]
    return missing, extra


# Fields of a must-not-extract entry that explain it to a reader; they never describe the record.
TRAP_ANNOTATIONS = frozenset({"kind", "note", "raw"})


def _trap_field_matches(key: str, want: object, got: Record) -> bool:
    if want == "*":
        return True
    have = got.get(key)
    if key == "entity":
        return norm_name(want) == norm_name(have)
    if key == "unit":
        return norm_unit(want) == norm_unit(have)
    if key == "value" and isinstance(want, int | float) and not isinstance(want, bool):
        return values_match(float(want), have)
    return bool(want == have)


def trap_hit(trap: Record, rankings: list[Record], indicators: list[Record]) -> Record | None:
    """The first extracted record the must-not-extract entry describes, if any."""
    pool = rankings if trap.get("kind") == "ranking" else indicators
    fields = {k: v for k, v in trap.items() if k not in TRAP_ANNOTATIONS}
    for rec in pool:
        if all(_trap_field_matches(k, v, rec) for k, v in fields.items()):
            return rec
    return None


def score_case(case: Record, rankings: Sequence[Record], indicators: Sequence[Record]) -> CaseResult:
    """Compare one case's labels with what the extractor gave for its text."""
    result = CaseResult(str(case.get("id")), exhaustive=bool(case.get("indicators_exhaustive")))
    expected = {ranking_key(r): r for r in case.get("expected_rankings") or []}
    optional = {ranking_key(r) for r in case.get("optional_rankings") or []}
    got: dict[tuple[str, str, int | None, str], Record] = {}
    for r in rankings:
        got.setdefault(ranking_key(r), r)
    for key, rec in expected.items():
        counts = result.icf if is_icf(key[1]) else result.other
        if key in got:
            counts.tp += 1
        else:
            counts.fn += 1
            result.missing_rankings.append(rec)
    for key, rec in got.items():
        if key in expected or key in optional:
            continue
        (result.icf if is_icf(key[1]) else result.other).fp += 1
        result.extra_rankings.append(rec)
    exp_ind = list(case.get("expected_indicators") or [])
    missing, extra = match_indicators(exp_ind, list(indicators))
    result.indicators.tp = len(exp_ind) - len(missing)
    result.indicators.fn = len(missing)
    result.indicators.fp = len(extra) if result.exhaustive else 0
    result.missing_indicators = missing
    result.extra_indicators = extra
    for trap in case.get("must_not_extract") or []:
        hit = trap_hit(trap, list(rankings), list(indicators))
        if hit is not None:
            result.traps += 1
            result.trap_hits.append((trap, hit))
    return result


@dataclass
class Measures:
    """The five measures of one split, with the counts behind them."""

    cases: int = 0
    outlets: int = 0
    scored: int = 0
    icf: Counts = field(default_factory=Counts)
    other: Counts = field(default_factory=Counts)
    indicators_all: Counts = field(default_factory=Counts)
    indicators_exhaustive: Counts = field(default_factory=Counts)
    exhaustive_cases: int = 0
    traps: int = 0
    trap_hits: int = 0

    def as_dict(self) -> dict[str, Any]:
        def rounded(v: float | None) -> float | None:
            return None if v is None else round(v, 4)

        return {
            "cases": self.cases,
            "scored": self.scored,
            "outlets": self.outlets,
            "icf_rankings_f1": rounded(self.icf.f1()),
            "icf_rankings": vars(self.icf).copy(),
            "other_rankings_f1": rounded(self.other.f1()),
            "other_rankings": vars(self.other).copy(),
            "indicator_recall": rounded(self.indicators_all.recall()),
            "indicators": {"tp": self.indicators_all.tp, "fn": self.indicators_all.fn},
            "indicator_precision": rounded(self.indicators_exhaustive.precision()),
            "indicators_exhaustive": {
                "cases": self.exhaustive_cases,
                "tp": self.indicators_exhaustive.tp,
                "fp": self.indicators_exhaustive.fp,
            },
            "must_not_extract_hits": self.trap_hits,
            "must_not_extract_traps": self.traps,
        }


def measures(cases: Iterable[Record], results: Mapping[str, CaseResult]) -> Measures:
    """Sum per-case results into the split's measures; `cases` are all cases of the split, scored or not."""
    m = Measures()
    outlets = set()
    for case in cases:
        m.cases += 1
        outlets.add(case.get("outlet"))
        res = results.get(str(case.get("id")))
        if res is None:
            continue
        m.scored += 1
        m.icf.add(res.icf)
        m.other.add(res.other)
        m.indicators_all.tp += res.indicators.tp
        m.indicators_all.fn += res.indicators.fn
        if res.exhaustive:
            m.exhaustive_cases += 1
            m.indicators_exhaustive.tp += res.indicators.tp
            m.indicators_exhaustive.fp += res.indicators.fp
        m.traps += len(case.get("must_not_extract") or [])
        m.trap_hits += res.traps
    m.outlets = len(outlets)
    return m
