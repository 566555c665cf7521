"""Reads for the command line: the analysts' views, filtered."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine

SUMMARY_COLUMNS = ("entity", "program", "year", "status", "best_rank", "documents", "official", "sources")
RANKING_COLUMNS = (
    "entity",
    "entity_local",
    "country",
    "program",
    "year",
    "status",
    "best_rank",
    "documents",
    "first_seen",
    "last_seen",
    "official",
    "sources",
)
INDICATOR_COLUMNS = (
    "entity",
    "country",
    "indicator",
    "label",
    "period",
    "value",
    "unit",
    "qualifier",
    "status",
    "source",
    "published_at",
    "url",
)

_ENTITY_MATCH = """(
    lower(entity) = lower(:entity) OR lower(entity_local) = lower(:entity)
    OR entity IN (SELECT e.name FROM entity e JOIN entity_alias a ON a.entity_id = e.id
                  WHERE lower(a.alias) = lower(:entity))
)"""


def _filters(**values: Any) -> tuple[str, dict[str, Any]]:
    clauses: list[str] = []
    params: dict[str, Any] = {}
    for name, value in values.items():
        if value is None:
            continue
        params[name] = value
        clauses.append(_ENTITY_MATCH if name == "entity" else f"{name} = :{name}")
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def rankings(
    engine: Engine,
    *,
    entity: str | None = None,
    program: str | None = None,
    year: int | None = None,
    status: str | None = None,
) -> list[dict[str, Any]]:
    """Rows of v_rankings, newest year first."""
    where, params = _filters(entity=entity, program=program, year=year, status=status)
    sql = (
        f"SELECT {', '.join(RANKING_COLUMNS)} FROM v_rankings{where} "
        "ORDER BY year DESC, entity, program, status"
    )
    with engine.connect() as connection:
        rows = connection.execute(text(sql), params).mappings().all()
    return [
        {
            **row,
            "official": bool(row["official"]),
            "first_seen": _utc(row["first_seen"]),
            "last_seen": _utc(row["last_seen"]),
        }
        for row in rows
    ]


def indicators(
    engine: Engine,
    *,
    entity: str | None = None,
    indicator: str | None = None,
    period: str | None = None,
    latest: bool = False,
) -> list[dict[str, Any]]:
    """Rows of v_indicator_values (or v_indicator_latest), most recent first."""
    where, params = _filters(entity=entity, indicator=indicator, period=period)
    view = "v_indicator_latest" if latest else "v_indicator_values"
    sql = (
        f"SELECT {', '.join(INDICATOR_COLUMNS)} FROM {view}{where} "
        "ORDER BY entity, indicator, period DESC, published_at DESC"
    )
    with engine.connect() as connection:
        rows = connection.execute(text(sql), params).mappings().all()
    return [{**row, "published_at": _utc(row["published_at"])} for row in rows]


UNMATCHED_COLUMNS = ("label", "unit", "documents", "values", "example")


def unmatched(engine: Engine, *, limit: int | None = None) -> list[dict[str, Any]]:
    """Open indicator labels (figures no catalogue code names), most frequent first, with one example sentence.

    A curator promotes a frequent label by adding its phrase to extractors/catalogue/indicators.yaml.
    """
    sql = (
        'SELECT label, unit, COUNT(DISTINCT document_id) AS documents, COUNT(*) AS "values", '
        "MIN(evidence) AS example FROM indicator_value WHERE indicator_code IS NULL "
        'GROUP BY label, unit ORDER BY documents DESC, "values" DESC, label, unit'
    )
    params: dict[str, Any] = {}
    if limit is not None:
        sql += " LIMIT :limit"
        params["limit"] = limit
    with engine.connect() as connection:
        return [dict(row) for row in connection.execute(text(sql), params).mappings().all()]


def _utc(value: Any) -> datetime | None:
    # SQLite hands back timestamps from views as text (UTC by construction); PostgreSQL as datetimes.
    if value is None:
        return None
    parsed = datetime.fromisoformat(value) if isinstance(value, str) else value
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def find_entity(engine: Engine, name: str) -> dict[str, Any] | None:
    """The entity a canonical name, local name or alias designates: entity, entity_local, country; or None."""
    sql = """SELECT name AS entity, local_name AS entity_local, country FROM entity
             WHERE lower(name) = lower(:entity) OR lower(local_name) = lower(:entity)
                OR id IN (SELECT entity_id FROM entity_alias WHERE lower(alias) = lower(:entity))
             ORDER BY name LIMIT 1"""
    with engine.connect() as connection:
        row = connection.execute(text(sql), {"entity": name}).mappings().first()
    return dict(row) if row else None


def _rows(engine: Engine, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    with engine.connect() as connection:
        return [dict(r) for r in connection.execute(text(sql), params).mappings().all()]


def _in(column: str, name: str, values: list[str] | None, params: dict[str, Any]) -> str:
    if not values:
        return ""
    names = [f"{name}{i}" for i in range(len(values))]
    params |= dict(zip(names, values, strict=True))
    return f" AND {column} IN ({', '.join(':' + n for n in names)})"


def entity_report(
    engine: Engine,
    *,
    entity: str,
    country: str,
    programs: list[str] | None = None,
    indicators: list[str] | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """What a report on one entity shows: its rankings with their evidence, its figures and conflicts."""
    params: dict[str, Any] = {"entity": entity, "country": country}
    key = "entity = :entity AND country = :country"
    by_program = _in("program", "p", programs, params)
    by_indicator = _in("indicator", "i", indicators, params)
    rankings = _rows(
        engine,
        f"SELECT program, program_name, year, status, best_rank, documents, official, sources "
        f"FROM v_rankings WHERE {key}{by_program} ORDER BY program, year, status",
        params,
    )
    evidence = _rows(
        engine,
        f"SELECT program, year, status, rank, source, published_at, url, title, evidence "
        f"FROM v_ranking_evidence WHERE {key}{by_program} ORDER BY program, year, status, published_at, url",
        params,
    )
    values = _rows(
        engine,
        f"SELECT indicator, indicator_name, period, value, unit, qualifier, status, source, published_at, "
        f"url, title, evidence, value_id FROM v_indicator_values WHERE {key}{by_indicator} "
        f"ORDER BY indicator, period, source, value",
        params,
    )
    conflicts = _rows(
        engine,
        f"SELECT indicator, period, status, unit, value, source, url, value_id FROM v_indicator_conflicts "
        f"WHERE {key}{by_indicator} ORDER BY indicator, period, value",
        params,
    )
    for row in rankings:
        row["official"] = bool(row["official"])
    for row in (*evidence, *values):
        row["published_at"] = _utc(row["published_at"])
    return {"rankings": rankings, "evidence": evidence, "values": values, "conflicts": conflicts}


def codes(engine: Engine, table: str) -> list[str]:
    """The codes of the program or indicator table, sorted."""
    if table not in ("program", "indicator"):
        raise ValueError(f"no code table {table!r}")
    with engine.connect() as connection:
        return list(connection.execute(text(f"SELECT code FROM {table} ORDER BY code")).scalars())
