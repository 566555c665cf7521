"""The chiso tables: what one row of each means, its natural key and its constraints."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Column, LargeBinary, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from models.types import UTCDateTime, utcnow

RANKING_STATUSES = ("achieved", "candidate", "aspiration", "other")
VALUE_STATUSES = ("actual", "estimate", "target")
QUALIFIERS = ("approx", "approx_under", "over", "at_least")


# JSONB on PostgreSQL: plain json has no equality, which upserts need to tell a changed row.
JSONType = JSON().with_variant(JSONB(), "postgresql")


def _in(column: str, values: tuple[str, ...], *, nullable: bool = False) -> str:
    allowed = ", ".join(f"'{v}'" for v in values)
    clause = f"{column} IN ({allowed})"
    return f"{column} IS NULL OR {clause}" if nullable else clause


def _ts(*, nullable: bool = True, default_now: bool = False) -> Any:
    if default_now:
        return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    return Field(default=None, sa_type=UTCDateTime, nullable=nullable)


# A configured site: a news outlet or the ICF.
class Source(SQLModel, table=True):
    __tablename__ = "source"

    code: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    lang: str = Field(max_length=8)
    base_url: str = Field(max_length=500)
    kind: str = Field(default="news", max_length=16)
    run_id: str | None = Field(default=None, max_length=64)
    updated_at: datetime = _ts(default_now=True)


# The bytes of one fetched response, compressed, kept for re-extraction and audit.
class RawPage(SQLModel, table=True):
    __tablename__ = "raw_page"

    content_hash: str = Field(primary_key=True, max_length=64)
    url: str = Field(max_length=2000)
    content_type: str | None = Field(default=None, max_length=200)
    encoding: str | None = Field(default=None, max_length=40)
    size: int = Field(ge=0)
    body: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    fetched_at: datetime = _ts(default_now=True)
    run_id: str | None = Field(default=None, max_length=64)


# One fetched page, by canonical URL: its metadata, main text and HTTP validators.
class Document(SQLModel, table=True):
    __tablename__ = "document"

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(max_length=2000, unique=True)
    source_code: str | None = Field(default=None, foreign_key="source.code", max_length=64, index=True)
    title: str | None = Field(default=None, sa_column=Column(Text))
    published_at: datetime | None = _ts()
    lang: str | None = Field(default=None, max_length=8)
    text: str = Field(default="", sa_column=Column(Text, nullable=False))
    content_hash: str | None = Field(default=None, max_length=64)
    raw_hash: str | None = Field(default=None, foreign_key="raw_page.content_hash", max_length=64)
    etag: str | None = Field(default=None, max_length=500)
    last_modified: str | None = Field(default=None, max_length=100)
    fetch_status: int | None = Field(default=None)
    fetched_at: datetime | None = _ts()
    extractor_version: str | None = Field(default=None, max_length=32)
    extracted_at: datetime | None = _ts()
    run_id: str | None = Field(default=None, max_length=64)
    created_at: datetime = _ts(default_now=True)
    updated_at: datetime = _ts(default_now=True)


# A place or community that can hold a ranking or an indicator value.
class Entity(SQLModel, table=True):
    __tablename__ = "entity"
    __table_args__ = (UniqueConstraint("name", "country", name="uq_entity_name_country"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    country: str = Field(max_length=2, min_length=2)
    local_name: str | None = Field(default=None, max_length=200)
    kind: str = Field(default="province", max_length=32)
    iso_code: str | None = Field(default=None, max_length=10)
    valid_from: date | None = None
    valid_to: date | None = None
    merged_into: str | None = Field(default=None, max_length=200)
    run_id: str | None = Field(default=None, max_length=64)


# One surface form of an entity in one language ("tỉnh Bình Dương", "Binh Duong Smart City").
class EntityAlias(SQLModel, table=True):
    __tablename__ = "entity_alias"
    __table_args__ = (UniqueConstraint("alias", "lang", name="uq_entity_alias_alias_lang"),)

    id: int | None = Field(default=None, primary_key=True)
    alias: str = Field(max_length=300)
    lang: str = Field(max_length=8)
    entity_id: int = Field(foreign_key="entity.id", index=True)
    run_id: str | None = Field(default=None, max_length=64)


# A ranking or award: an ICF programme, a national index, or a rank on one indicator.
class Program(SQLModel, table=True):
    __tablename__ = "program"
    __table_args__ = (
        CheckConstraint("kind IN ('award', 'index', 'indicator_rank')", name="ck_program_kind"),
    )

    code: str = Field(primary_key=True, max_length=64)
    name_en: str = Field(max_length=300)
    name_vi: str | None = Field(default=None, max_length=300)
    kind: str = Field(max_length=16)
    organiser: str | None = Field(default=None, max_length=200)
    official_source: str | None = Field(default=None, max_length=64)
    run_id: str | None = Field(default=None, max_length=64)


# A measurable quantity (FDI registered, GRDP growth...) and the unit its values are stored in.
class Indicator(SQLModel, table=True):
    __tablename__ = "indicator"

    code: str = Field(primary_key=True, max_length=64)
    name_en: str = Field(max_length=300)
    name_vi: str | None = Field(default=None, max_length=300)
    unit: str = Field(max_length=40)
    synonyms: dict[str, list[str]] = Field(default_factory=dict, sa_column=Column(JSONType, nullable=False))
    run_id: str | None = Field(default=None, max_length=64)


# One ranking claim made by one document, with the sentence that makes it.
class RankingMention(SQLModel, table=True):
    __tablename__ = "ranking_mention"
    __table_args__ = (
        # rank and year may be unknown; the *_key columns stand in for them in the natural key
        # because NULLs never collide in a unique index.
        UniqueConstraint(
            "document_id",
            "entity_id",
            "program_code",
            "year_key",
            "status",
            "rank_key",
            name="uq_ranking_mention_natural",
        ),
        CheckConstraint(_in("status", RANKING_STATUSES), name="ck_ranking_mention_status"),
        CheckConstraint("rank IS NULL OR rank >= 1", name="ck_ranking_mention_rank"),
        CheckConstraint("out_of IS NULL OR out_of >= 1", name="ck_ranking_mention_out_of"),
        CheckConstraint('"end" >= start', name="ck_ranking_mention_offsets"),
    )

    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="document.id", index=True)
    entity_id: int = Field(foreign_key="entity.id", index=True)
    program_code: str = Field(foreign_key="program.code", max_length=64, index=True)
    year: int | None = Field(default=None, ge=1900, le=2200)
    year_key: int = Field(default=0)
    status: str = Field(max_length=16)
    rank: int | None = None
    rank_key: int = Field(default=0)
    out_of: int | None = None
    year_inferred: bool = False
    evidence: str = Field(sa_column=Column(Text, nullable=False))
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    extractor_version: str = Field(max_length=32)
    run_id: str | None = Field(default=None, max_length=64)
    created_at: datetime = _ts(default_now=True)
    updated_at: datetime = _ts(default_now=True)


# One figure stated by one document for one entity, indicator and period, in base units. The indicator is a
# catalogue code, or for a figure whose phrase no catalogue entry names, an open `label` (the noun phrase) and
# no code.
class IndicatorValue(SQLModel, table=True):
    __tablename__ = "indicator_value"
    __table_args__ = (
        # indicator_key is the code or "label:<label>": NULL codes never collide in a unique index
        UniqueConstraint(
            "document_id",
            "entity_id",
            "indicator_key",
            "period_key",
            "value",
            name="uq_indicator_value_natural",
        ),
        CheckConstraint(_in("status", VALUE_STATUSES), name="ck_indicator_value_status"),
        CheckConstraint(_in("qualifier", QUALIFIERS, nullable=True), name="ck_indicator_value_qualifier"),
        CheckConstraint('"end" >= start', name="ck_indicator_value_offsets"),
        CheckConstraint("indicator_code IS NOT NULL OR label IS NOT NULL", name="ck_indicator_value_named"),
    )

    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="document.id", index=True)
    entity_id: int = Field(foreign_key="entity.id", index=True)
    indicator_code: str | None = Field(default=None, foreign_key="indicator.code", max_length=64, index=True)
    label: str | None = Field(default=None, sa_column=Column(Text))
    indicator_key: str = Field(default="", max_length=300)
    value: float
    unit: str = Field(max_length=40)
    period: str | None = Field(default=None, max_length=40)
    period_key: str = Field(default="", max_length=40)
    qualifier: str | None = Field(default=None, max_length=16)
    status: str = Field(default="actual", max_length=16)
    evidence: str = Field(sa_column=Column(Text, nullable=False))
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    extractor_version: str = Field(max_length=32)
    run_id: str | None = Field(default=None, max_length=64)
    created_at: datetime = _ts(default_now=True)
    updated_at: datetime = _ts(default_now=True)


# One flow run (ingest, backfill, extract, sync_icf): its parameters, counts and errors.
class Run(SQLModel, table=True):
    __tablename__ = "run"

    id: str = Field(primary_key=True, max_length=64)
    kind: str = Field(max_length=32)
    parameters: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONType, nullable=False))
    started_at: datetime = _ts(default_now=True)
    finished_at: datetime | None = _ts()
    status: str = Field(default="running", max_length=16)
    counts: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONType, nullable=False))
    errors: list[str] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    flow_run_id: str | None = Field(default=None, max_length=64)


# What the crawler knows about one URL: last outcome, validators, when it may be fetched again.
class FetchState(SQLModel, table=True):
    __tablename__ = "fetch_state"

    url: str = Field(primary_key=True, max_length=2000)
    host: str = Field(max_length=255, index=True)
    last_status: int | None = None
    last_reason: str | None = Field(default=None, max_length=500)
    etag: str | None = Field(default=None, max_length=500)
    last_modified: str | None = Field(default=None, max_length=100)
    content_hash: str | None = Field(default=None, max_length=64)
    last_fetched_at: datetime | None = _ts()
    next_allowed_at: datetime | None = _ts()
    failures: int = Field(default=0, ge=0)
    run_id: str | None = Field(default=None, max_length=64)


# When one host may be asked again, so politeness holds across processes.
class HostState(SQLModel, table=True):
    __tablename__ = "host_state"

    host: str = Field(primary_key=True, max_length=255)
    next_allowed_at: datetime | None = _ts()
    crawl_delay: float | None = Field(default=None, ge=0)
    updated_at: datetime = _ts(default_now=True)


# One finished slice of a backfill (a source × a month), so a resumed backfill skips it.
class BackfillChunk(SQLModel, table=True):
    __tablename__ = "backfill_chunk"

    source_code: str = Field(primary_key=True, max_length=64)
    chunk: str = Field(primary_key=True, max_length=32)
    finished_at: datetime = _ts(default_now=True)
    documents: int = Field(default=0, ge=0)
    run_id: str | None = Field(default=None, max_length=64)
