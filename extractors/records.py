"""Record types produced by the extractor and the per-document JSON contract (design.md §4)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from extractors.document import DocumentText


@dataclass(frozen=True)
class RankingRecord:
    entity: str
    entity_local: str | None
    country: str
    program: str
    year: int | None
    status: str
    rank: int | None
    out_of: int | None
    year_inferred: bool
    evidence: str
    start: int
    end: int

    def key(self) -> tuple[Any, ...]:
        return (self.entity, self.program, self.year, self.status, self.rank)

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "entity": self.entity,
            "entity_local": self.entity_local,
            "program": self.program,
            "year": self.year,
            "status": self.status,
            "rank": self.rank,
            "out_of": self.out_of,
            "year_inferred": self.year_inferred,
            "evidence": self.evidence,
            "start": self.start,
            "end": self.end,
        }


@dataclass(frozen=True)
class IndicatorRecord:
    entity: str | None
    country: str | None
    indicator: str | None
    value: int | float
    unit: str
    period: str | None
    qualifier: str | None
    status: str
    evidence: str
    start: int
    end: int
    # the noun phrase a figure measures when no catalogue indicator names it (then `indicator` is None)
    label: str | None = None

    def key(self) -> tuple[Any, ...]:
        return (self.entity, self.indicator or f"label:{self.label}", self.period, self.value)

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "entity": self.entity,
            "indicator": self.indicator,
            "label": self.label,
            "value": self.value,
            "unit": self.unit,
            "period": self.period,
            "qualifier": self.qualifier,
            "status": self.status,
            "evidence": self.evidence,
            "start": self.start,
            "end": self.end,
        }


@dataclass(frozen=True)
class Extraction:
    document: DocumentText
    rankings: list[RankingRecord]
    indicators: list[IndicatorRecord]
    extractor_version: str

    def to_json_dict(self) -> dict[str, Any]:
        doc = self.document
        return {
            "document": {
                "url": doc.url,
                "title": doc.title,
                "published": doc.published.isoformat() if doc.published else None,
                "lang": doc.lang,
            },
            "rankings": [r.to_json_dict() for r in self.rankings],
            "indicators": [i.to_json_dict() for i in self.indicators],
        }
