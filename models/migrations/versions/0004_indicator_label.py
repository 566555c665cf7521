"""Open indicators: a figure whose phrase is in no catalogue keeps its noun phrase as `label`, with no code.

`indicator_key` (the code, or "label:<label>") stands in for the indicator in the natural key, because NULL codes
never collide in a unique index; the views expose `label`.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

VIEWS = ("v_indicator_latest", "v_indicator_values")
OLD_KEY = ("document_id", "entity_id", "indicator_code", "period_key", "value")
NEW_KEY = ("document_id", "entity_id", "indicator_key", "period_key", "value")


def _drop_views() -> None:
    for view in VIEWS:
        op.execute(f"DROP VIEW IF EXISTS {view}")


def _create_views() -> None:
    # LEFT JOIN: an open figure has no indicator row; its name is its label.
    op.execute("""
        CREATE VIEW v_indicator_values AS
        SELECT e.name AS entity, e.local_name AS entity_local, e.country AS country,
               v.indicator_code AS indicator, v.label AS label,
               COALESCE(i.name_en, v.label) AS indicator_name, v.period AS period,
               v.value AS value, v.unit AS unit, v.qualifier AS qualifier, v.status AS status,
               d.url AS url, d.title AS title, d.source_code AS source, d.published_at AS published_at,
               v.evidence AS evidence, v.start AS start_offset, v."end" AS end_offset,
               v.extractor_version AS extractor_version, v.document_id AS document_id, v.id AS value_id
        FROM indicator_value v
        JOIN entity e ON e.id = v.entity_id
        LEFT JOIN indicator i ON i.code = v.indicator_code
        JOIN document d ON d.id = v.document_id
    """)
    # "Latest" is per status too: a recent target must not hide the actual figure for the same period.
    op.execute("""
        CREATE VIEW v_indicator_latest AS
        SELECT entity, entity_local, country, indicator, label, indicator_name, period, value, unit, qualifier,
               status, url, source, published_at, evidence
        FROM (
            SELECT e.name AS entity, e.local_name AS entity_local, e.country AS country,
                   v.indicator_code AS indicator, v.label AS label,
                   COALESCE(i.name_en, v.label) AS indicator_name, v.period AS period,
                   v.value AS value, v.unit AS unit, v.qualifier AS qualifier, v.status AS status,
                   d.url AS url, d.source_code AS source, d.published_at AS published_at, v.evidence AS evidence,
                   ROW_NUMBER() OVER (
                       PARTITION BY v.entity_id, v.indicator_key, v.period_key, v.status
                       ORDER BY COALESCE(d.published_at, d.fetched_at) DESC, v.document_id DESC, v.value DESC
                   ) AS recency
            FROM indicator_value v
            JOIN entity e ON e.id = v.entity_id
            LEFT JOIN indicator i ON i.code = v.indicator_code
            JOIN document d ON d.id = v.document_id
        ) ranked
        WHERE recency = 1
    """)


def upgrade() -> None:
    _drop_views()
    with op.batch_alter_table("indicator_value") as batch:
        batch.add_column(sa.Column("label", sa.Text(), nullable=True))
        batch.add_column(sa.Column("indicator_key", sa.String(length=300), nullable=False, server_default=""))
        batch.alter_column("indicator_code", existing_type=sa.String(length=64), nullable=True)
    op.execute("UPDATE indicator_value SET indicator_key = indicator_code")
    with op.batch_alter_table("indicator_value") as batch:
        batch.drop_constraint("uq_indicator_value_natural", type_="unique")
        batch.create_unique_constraint("uq_indicator_value_natural", list(NEW_KEY))
        batch.create_check_constraint(
            "ck_indicator_value_named", "indicator_code IS NOT NULL OR label IS NOT NULL"
        )
    _create_views()


def _views_0002() -> object:
    """The views as migration 0002 defines them (the downgrade target)."""
    path = Path(__file__).with_name("0002_views.py")
    spec = importlib.util.spec_from_file_location("chiso_migration_0002", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def downgrade() -> None:
    _drop_views()
    # Open figures have no code to go back to: they cannot exist under the older schema.
    op.execute("DELETE FROM indicator_value WHERE indicator_code IS NULL")
    with op.batch_alter_table("indicator_value") as batch:
        batch.drop_constraint("ck_indicator_value_named", type_="check")
        batch.drop_constraint("uq_indicator_value_natural", type_="unique")
        batch.create_unique_constraint("uq_indicator_value_natural", list(OLD_KEY))
        batch.alter_column("indicator_code", existing_type=sa.String(length=64), nullable=False)
        batch.drop_column("indicator_key")
        batch.drop_column("label")
    views = _views_0002()
    for view in ("v_ranking_evidence", "v_rankings"):
        op.execute(f"DROP VIEW IF EXISTS {view}")
    views.upgrade()  # type: ignore[attr-defined]
