"""A small data set written by us: two provinces, one ICF community, three documents and their claims."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session

from models.store import upsert, upsert_reference
from models.tables import Source

PROGRAMS = [
    {
        "code": "icf_top7",
        "name_en": "ICF Top7 Intelligent Communities",
        "name_vi": "Top 7 cộng đồng thông minh",
        "kind": "award",
        "organiser": "Intelligent Community Forum",
        "official_source": "icf",
    },
    {
        "code": "vn_pci",
        "name_en": "Provincial Competitiveness Index",
        "name_vi": "Chỉ số PCI",
        "kind": "index",
        "organiser": "VCCI",
        "official_source": None,
    },
]
INDICATORS = [
    {
        "code": "fdi_registered",
        "name_en": "FDI registered",
        "name_vi": "Vốn FDI đăng ký",
        "unit": "USD",
        "synonyms": {"vi": ["vốn FDI"], "en": ["FDI"]},
    },
    {
        "code": "ip_occupancy_rate",
        "name_en": "Industrial park occupancy rate",
        "name_vi": "Tỷ lệ lấp đầy KCN",
        "unit": "%",
        "synonyms": {"vi": ["tỷ lệ lấp đầy"]},
    },
]
ENTITIES = [
    {
        "name": "Binh Duong",
        "country": "VN",
        "local_name": "Bình Dương",
        "kind": "province",
        "iso_code": "VN-57",
        "aliases": [("tỉnh Bình Dương", "vi"), ("Binh Duong Smart City", "en")],
    },
    {
        "name": "Hai Phong",
        "country": "VN",
        "local_name": "Hải Phòng",
        "kind": "province",
        "iso_code": "VN-HP",
        "aliases": [("TP Hải Phòng", "vi")],
    },
]
SOURCES = [
    {
        "code": "icf",
        "name": "Intelligent Community Forum",
        "lang": "en",
        "base_url": "https://www.intelligentcommunity.org/",
        "kind": "icf",
    },
    {"code": "vov", "name": "VOV", "lang": "vi", "base_url": "https://vov.vn/", "kind": "news"},
]


def document(n: int) -> dict[str, Any]:
    """Document n of three: two news articles and one ICF press release."""
    return [
        {
            "url": "https://vov.vn/kinh-te/binh-duong-top7-2023.vov",
            "source_code": "vov",
            "lang": "vi",
            "title": "Bình Dương vào Top 7",
            "text": "Bình Dương vào Top 7 năm 2023. Vốn FDI đạt 1,5 tỷ USD.",
            "published_at": datetime(2023, 2, 3, 1, 30, tzinfo=UTC),
            "fetch_status": 200,
        },
        {
            "url": "https://vov.vn/kinh-te/fdi-2023.vov",
            "source_code": "vov",
            "lang": "vi",
            "title": "FDI năm 2023",
            "text": "Vốn FDI năm 2023 ước đạt 2,1 tỷ USD.",
            "published_at": datetime(2023, 12, 28, 2, 0, tzinfo=UTC),
            "fetch_status": 200,
        },
        {
            "url": "https://www.intelligentcommunity.org/top7_2023",
            "source_code": "icf",
            "lang": "en",
            "title": "Top7 of 2023",
            "text": "The Top7 Intelligent Communities of 2023 are:\nBinh Duong, Vietnam",
            "published_at": datetime(2023, 2, 1, 15, 0, tzinfo=UTC),
            "fetch_status": 200,
        },
    ][n]


def ranking(
    *,
    entity: str = "Binh Duong",
    year: int | None = 2023,
    status: str = "candidate",
    rank: int | None = None,
    evidence: str = "Bình Dương vào Top 7 năm 2023.",
) -> dict[str, Any]:
    """A ranking record as the extractor yields it."""
    return {
        "entity": entity,
        "entity_local": None,
        "country": "VN",
        "program": "icf_top7",
        "year": year,
        "status": status,
        "rank": rank,
        "out_of": None,
        "year_inferred": False,
        "evidence": evidence,
        "start": 0,
        "end": len(evidence),
    }


def indicator(
    *,
    value: float,
    period: str | None = "2023",
    status: str = "actual",
    evidence: str = "Vốn FDI đạt 1,5 tỷ USD.",
    code: str | None = "fdi_registered",
    label: str | None = None,
    unit: str = "USD",
) -> dict[str, Any]:
    """An indicator record as the extractor yields it (an open one has no code and a label)."""
    return {
        "entity": "Binh Duong",
        "country": "VN",
        "indicator": code,
        "label": label,
        "value": value,
        "unit": unit,
        "period": period,
        "qualifier": None,
        "status": status,
        "evidence": evidence,
        "start": 0,
        "end": len(evidence),
    }


def store_reference(session: Session, *, run_id: str) -> None:
    """The data set's programs, indicators, entities and sources, stored as a run would store them."""
    upsert_reference(session, programs=PROGRAMS, indicators=INDICATORS, entities=ENTITIES, run_id=run_id)
    upsert(session, Source, SOURCES, run_id=run_id)
