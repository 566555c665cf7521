"""Extraction engine: text -> ranking mentions and indicator values with evidence (design.md §4)."""

from __future__ import annotations

from extractors.context import build_context
from extractors.document import DocumentText, document_from_html, document_from_text
from extractors.indicators import extract_indicators
from extractors.rankings import extract_rankings
from extractors.records import Extraction, IndicatorRecord, RankingRecord

EXTRACTOR_VERSION = "2026.12.2"

__all__ = [
    "EXTRACTOR_VERSION",
    "DocumentText",
    "Extraction",
    "IndicatorRecord",
    "RankingRecord",
    "document_from_html",
    "document_from_text",
    "extract",
]


def extract(doc: DocumentText) -> Extraction:
    """All ranking mentions and indicator values of one document, deduplicated on their natural keys."""
    ctx = build_context(doc)
    return Extraction(
        document=doc,
        rankings=extract_rankings(ctx),
        indicators=extract_indicators(ctx),
        extractor_version=EXTRACTOR_VERSION,
    )
