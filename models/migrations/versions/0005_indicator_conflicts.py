"""v_indicator_conflicts: entity × indicator × period × status where documents disagree beyond rounding."""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# Powers of ten a figure can be rounded to, from thousandths (rates such as 95,55%) to trillions (VND).
STEPS = ", ".join(f"({10.0**k!r})" for k in range(-3, 13))
# Bounds ("hơn 3 tỷ", "at least 90%") say where the figure lies, not what it is: they contradict nothing.
BOUNDS = "('over', 'at_least')"

# A figure's rounding step is the largest power of ten it is a whole multiple of, taken no coarser than a
# tenth of its magnitude: the press writes at least two significant digits ("3,5 tỷ USD"), so "3 tỷ" is read
# as 3,0 tỷ. Two figures agree when the finer one rounds to the coarser one, i.e. they are at most half the
# coarser step apart; "3,5 tỷ" and "3,54 tỷ" agree, "3,5 tỷ" and "3,6 tỷ" or "95%" and "96%" do not.
# Figures with an open label (no indicator code) are left out: a label is too loose to say that two figures
# measure the same thing.
VIEW = f"""
CREATE VIEW v_indicator_conflicts AS
WITH steps(p) AS (VALUES {STEPS}),
figures AS (
    SELECT v.id, v.document_id, v.entity_id, v.indicator_code, v.period, v.period_key, v.status, v.unit,
           v.value, v.qualifier, v.evidence,
           COALESCE((SELECT MAX(s.p) FROM steps s
                     WHERE ABS(v.value) >= 10 * s.p
                       AND ABS(v.value / s.p - ROUND(v.value / s.p)) < 1e-6), 0) AS step
    FROM indicator_value v
    WHERE v.period IS NOT NULL AND (v.qualifier IS NULL OR v.qualifier NOT IN {BOUNDS})
),
conflicting AS (
    SELECT DISTINCT a.entity_id, a.indicator_code, a.period_key, a.status, a.unit
    FROM figures a
    JOIN figures b
      ON b.entity_id = a.entity_id AND b.indicator_code = a.indicator_code AND b.period_key = a.period_key
     AND b.status = a.status AND b.unit = a.unit AND b.document_id <> a.document_id AND b.value > a.value
    WHERE b.value - a.value > 0.5 * (CASE WHEN a.step > b.step THEN a.step ELSE b.step END)
                              + 1e-9 * ABS(b.value)
)
SELECT e.name AS entity, e.local_name AS entity_local, e.country AS country,
       f.indicator_code AS indicator, i.name_en AS indicator_name, f.period AS period, f.status AS status,
       f.unit AS unit, f.value AS value, f.qualifier AS qualifier,
       MIN(f.value) OVER (PARTITION BY f.entity_id, f.indicator_code, f.period_key, f.status, f.unit) AS low,
       MAX(f.value) OVER (PARTITION BY f.entity_id, f.indicator_code, f.period_key, f.status, f.unit) AS high,
       COUNT(*) OVER (PARTITION BY f.entity_id, f.indicator_code, f.period_key, f.status, f.unit) AS figures,
       d.source_code AS source, d.url AS url, d.title AS title, d.published_at AS published_at,
       f.evidence AS evidence, f.document_id AS document_id, f.id AS value_id
FROM figures f
JOIN conflicting c
  ON c.entity_id = f.entity_id AND c.indicator_code = f.indicator_code AND c.period_key = f.period_key
 AND c.status = f.status AND c.unit = f.unit
JOIN entity e ON e.id = f.entity_id
JOIN indicator i ON i.code = f.indicator_code
JOIN document d ON d.id = f.document_id
"""


def upgrade() -> None:
    op.execute(VIEW)


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS v_indicator_conflicts")
