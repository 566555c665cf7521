"""Backfill chunks: which source × month slices a backfill has finished, so a resumed one skips them."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "backfill_chunk",
        sa.Column("source_code", sa.String(length=64), nullable=False),
        sa.Column("chunk", sa.String(length=32), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("documents", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("source_code", "chunk"),
    )


def downgrade() -> None:
    op.drop_table("backfill_chunk")
