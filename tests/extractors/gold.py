"""Gold-set loading and scoring shared by the extractor tests and the speed benchmark."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

import yaml

from extractors import Extraction, document_from_html, document_from_text, extract
from extractors.catalogue import entities
from extractors.document import DocumentText

GOLD_DIR = Path(__file__).with_name("gold")
VN_TZ = timezone(timedelta(hours=7))
RANKING_FIELDS = ("entity", "entity_local", "program", "year", "status", "rank", "out_of", "year_inferred")
INDICATOR_FIELDS = ("entity", "indicator", "label", "value", "unit", "period", "qualifier", "status")


@dataclass
class GoldCase:
    id: str
    doc: DocumentText
    rankings: list[dict[str, Any]]
    indicators: list[dict[str, Any]]
    known_gap: str | None = None
    why: str = ""
    rules: list[str] = field(default_factory=list)
    # Cases written before quantity-first extraction list only catalogue indicators; open-label records (no code)
    # are compared only in cases that declare `open_labels: true`.
    open_labels: bool = False


def _published(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=VN_TZ)
    d = value if isinstance(value, date) else date.fromisoformat(str(value))
    return datetime.combine(d, time(8, 0), tzinfo=VN_TZ)


def _local_names() -> dict[str, str | None]:
    return {e.name: e.local_name for e in entities()}


def normalise_ranking(raw: dict[str, Any]) -> dict[str, Any]:
    out = {"rank": None, "out_of": None, "year": None, "year_inferred": False, "status": "achieved", **raw}
    out.setdefault("entity_local", _local_names().get(out["entity"]))
    return {k: out[k] for k in RANKING_FIELDS}


def normalise_indicator(raw: dict[str, Any]) -> dict[str, Any]:
    out = {"label": None, "period": None, "qualifier": None, "status": "actual", **raw}
    if out["period"] is not None:
        out["period"] = str(out["period"])
    return {k: out[k] for k in INDICATOR_FIELDS}


def load_sentences() -> list[GoldCase]:
    """Gold sentences from sentences.yaml and any sentences_<topic>.yaml beside it."""
    raws: list[dict[str, Any]] = []
    for path in sorted(GOLD_DIR.glob("sentences*.yaml")):
        raws.extend(yaml.safe_load(path.read_text(encoding="utf-8"))["sentences"])
    cases = []
    for raw in raws:
        doc = document_from_text(raw["text"], lang=raw["lang"], published=_published(raw.get("published")))
        cases.append(
            GoldCase(
                raw["id"],
                doc,
                [normalise_ranking(r) for r in raw.get("rankings") or []],
                [normalise_indicator(i) for i in raw.get("indicators") or []],
                raw.get("known_gap"),
                raw.get("why", ""),
                raw.get("rules", []),
                bool(raw.get("open_labels")),
            )
        )
    return cases


def load_articles() -> list[GoldCase]:
    cases = []
    for exp_path in sorted((GOLD_DIR / "articles").glob("*.yaml")):
        exp = yaml.safe_load(exp_path.read_text(encoding="utf-8"))
        src = (
            exp_path.with_suffix(".html")
            if exp_path.with_suffix(".html").exists()
            else exp_path.with_suffix(".txt")
        )
        body = src.read_text(encoding="utf-8")
        if src.suffix == ".html":
            doc = document_from_html(
                body, url=exp.get("url"), lang=exp.get("lang"), fetched_at=datetime(2026, 1, 1, tzinfo=UTC)
            )
        else:
            doc = document_from_text(
                body,
                url=exp.get("url"),
                lang=exp.get("lang"),
                published=_published(exp.get("published")),
                title=exp.get("title"),
            )
        cases.append(
            GoldCase(
                exp_path.stem,
                doc,
                [normalise_ranking(r) for r in exp.get("rankings") or []],
                [normalise_indicator(i) for i in exp.get("indicators") or []],
                exp.get("known_gap"),
                exp.get("why", ""),
                open_labels=bool(exp.get("open_labels")),
            )
        )
    return cases


def _value_eq(a: Any, b: Any) -> bool:
    if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool):
        return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))
    return bool(a == b)


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return a.keys() == b.keys() and all(_value_eq(a[k], b[k]) for k in a)


def got_records(
    ext: Extraction, *, open_labels: bool = True
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Records as comparable dicts, with the evidence/offset contract checked (else the record is marked bad);
    without `open_labels`, only records with a catalogue code."""
    text = ext.document.text

    def ok(rec: Any) -> bool:
        return _evidence_holds(text, rec)

    ranks = [
        {**{k: getattr(r, k) for k in RANKING_FIELDS}, **({} if ok(r) else {"bad_offsets": True})}
        for r in ext.rankings
    ]
    inds = [
        {**{k: getattr(i, k) for k in INDICATOR_FIELDS}, **({} if ok(i) else {"bad_offsets": True})}
        for i in ext.indicators
        if open_labels or i.indicator is not None
    ]
    return ranks, inds


def _evidence_holds(text: str, rec: Any) -> bool:
    """Some occurrence of the evidence sentence contains [start, end)."""
    pos = text.find(rec.evidence)
    while pos != -1:
        if pos <= rec.start and rec.end <= pos + len(rec.evidence) and rec.end > rec.start:
            return True
        pos = text.find(rec.evidence, pos + 1)
    return False


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


def match(
    expected: list[dict[str, Any]], got: list[dict[str, Any]]
) -> tuple[int, list[dict[str, Any]], list[dict[str, Any]]]:
    """(true positives, missing, unexpected)."""
    remaining = list(got)
    missing = []
    tp = 0
    for e in expected:
        hit = next((g for g in remaining if _same(e, g)), None)
        if hit is None:
            missing.append(e)
        else:
            remaining.remove(hit)
            tp += 1
    return tp, missing, remaining


def score(cases: list[GoldCase]) -> dict[str, Score]:
    scores = {"rankings": Score(), "indicators": Score()}
    for case in cases:
        ranks, inds = got_records(extract(case.doc), open_labels=case.open_labels)
        for kind, exp, got in (("rankings", case.rankings, ranks), ("indicators", case.indicators, inds)):
            tp, missing, extra = match(exp, got)
            scores[kind].tp += tp
            scores[kind].fn += len(missing)
            scores[kind].fp += len(extra)
    return scores


def report(cases: list[GoldCase]) -> str:
    lines = []
    for case in cases:
        ranks, inds = got_records(extract(case.doc), open_labels=case.open_labels)
        for kind, exp, got in (("R", case.rankings, ranks), ("I", case.indicators, inds)):
            _, missing, extra = match(exp, got)
            for m in missing:
                lines.append(f"{case.id} {kind} MISSING {json.dumps(m, ensure_ascii=False)}")
            for x in extra:
                lines.append(f"{case.id} {kind} EXTRA   {json.dumps(x, ensure_ascii=False)}")
    return "\n".join(lines)
