"""the RILO A/P hub keeps every release to a disclosure-controlled audience (hub_release): the
ledger each later release is planned against

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 19:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hub_release",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("audience", sa.String(length=16), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("released_by", sa.String(length=100), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("truth", sa.JSON(), nullable=False),
        sa.Column("fingerprints", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hub_release")),
    )
    op.create_index(
        "ix_hub_release_audience_period", "hub_release", ["audience", "period"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_hub_release_audience_period", table_name="hub_release")
    op.drop_table("hub_release")
