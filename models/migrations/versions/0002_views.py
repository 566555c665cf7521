"""The analysts' views: v_rankings, v_ranking_evidence, v_indicator_values, v_indicator_latest."""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

VIEWS = ("v_indicator_latest", "v_indicator_values", "v_ranking_evidence", "v_rankings")


def _aggregates(dialect: str) -> tuple[str, str]:
    # SQLite has no string_agg or bool_or; both databases must give analysts the same columns.
    if dialect == "postgresql":
        return (
            "string_agg(DISTINCT d.source_code, ',' ORDER BY d.source_code)",
            "bool_or(p.official_source IS NOT NULL AND d.source_code = p.official_source)",
        )
    return (
        "(SELECT group_concat(code, ',') FROM (SELECT DISTINCT d2.source_code AS code FROM ranking_mention m2 "
        "JOIN document d2 ON d2.id = m2.document_id WHERE m2.entity_id = m.entity_id "
        "AND m2.program_code = m.program_code AND m2.year_key = m.year_key AND m2.status = m.status "
        "AND d2.source_code IS NOT NULL ORDER BY d2.source_code))",
        "MAX(CASE WHEN p.official_source IS NOT NULL AND d.source_code = p.official_source THEN 1 ELSE 0 END) = 1",
    )


def upgrade() -> None:
    sources, official = _aggregates(op.get_bind().dialect.name)
    op.execute(f"""
        CREATE VIEW v_rankings AS
        SELECT e.name AS entity, e.local_name AS entity_local, e.country AS country,
               m.program_code AS program, p.name_en AS program_name, m.year AS year, m.status AS status,
               MIN(m.rank) AS best_rank,
               COUNT(DISTINCT m.document_id) AS documents,
               MIN(COALESCE(d.published_at, d.fetched_at)) AS first_seen,
               MAX(COALESCE(d.published_at, d.fetched_at)) AS last_seen,
               {official} AS official,
               {sources} AS sources
        FROM ranking_mention m
        JOIN entity e ON e.id = m.entity_id
        JOIN program p ON p.code = m.program_code
        JOIN document d ON d.id = m.document_id
        GROUP BY e.name, e.local_name, e.country, m.entity_id, m.program_code, p.name_en, m.year, m.year_key, m.status
    """)
    op.execute("""
        CREATE VIEW v_ranking_evidence AS
        SELECT e.name AS entity, e.local_name AS entity_local, e.country AS country,
               m.program_code AS program, m.year AS year, m.status AS status, m.rank AS rank,
               m.out_of AS out_of, m.year_inferred AS year_inferred,
               d.url AS url, d.title AS title, d.source_code AS source, d.published_at AS published_at,
               m.evidence AS evidence, m.start AS start_offset, m."end" AS end_offset,
               m.extractor_version AS extractor_version, m.document_id AS document_id, m.id AS mention_id
        FROM ranking_mention m
        JOIN entity e ON e.id = m.entity_id
        JOIN document d ON d.id = m.document_id
    """)
    op.execute("""
        CREATE VIEW v_indicator_values AS
        SELECT e.name AS entity, e.local_name AS entity_local, e.country AS country,
               v.indicator_code AS indicator, i.name_en AS indicator_name, v.period AS period,
               v.value AS value, v.unit AS unit, v.qualifier AS qualifier, v.status AS status,
               d.url AS url, d.title AS title, d.source_code AS source, d.published_at AS published_at,
               v.evidence AS evidence, v.start AS start_offset, v."end" AS end_offset,
               v.extractor_version AS extractor_version, v.document_id AS document_id, v.id AS value_id
        FROM indicator_value v
        JOIN entity e ON e.id = v.entity_id
        JOIN indicator i ON i.code = v.indicator_code
        JOIN document d ON d.id = v.document_id
    """)
    # "Latest" is per status too: a recent target must not hide the actual figure for the same period.
    op.execute("""
        CREATE VIEW v_indicator_latest AS
        SELECT entity, entity_local, country, indicator, indicator_name, period, value, unit, qualifier,
               status, url, source, published_at, evidence
        FROM (
            SELECT e.name AS entity, e.local_name AS entity_local, e.country AS country,
                   v.indicator_code AS indicator, i.name_en AS indicator_name, v.period AS period,
                   v.value AS value, v.unit AS unit, v.qualifier AS qualifier, v.status AS status,
                   d.url AS url, d.source_code AS source, d.published_at AS published_at, v.evidence AS evidence,
                   ROW_NUMBER() OVER (
                       PARTITION BY v.entity_id, v.indicator_code, v.period_key, v.status
                       ORDER BY COALESCE(d.published_at, d.fetched_at) DESC, v.document_id DESC, v.value DESC
                   ) AS recency
            FROM indicator_value v
            JOIN entity e ON e.id = v.entity_id
            JOIN indicator i ON i.code = v.indicator_code
            JOIN document d ON d.id = v.document_id
        ) ranked
        WHERE recency = 1
    """)


def downgrade() -> None:
    for view in VIEWS:
        op.execute(f"DROP VIEW IF EXISTS {view}")
