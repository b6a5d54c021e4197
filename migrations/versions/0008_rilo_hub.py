"""the RILO A/P hub: reports and rollups

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 02:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hub_report",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("member", sa.String(length=16), nullable=False),
        sa.Column("reported_by", sa.String(length=16), nullable=False),
        sa.Column("report_id", sa.String(length=64), nullable=False),
        sa.Column("message_id", sa.String(length=36), nullable=False),
        sa.Column("seizure_date", sa.Date(), nullable=False),
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=24), nullable=False),
        sa.Column("commodity_type", sa.String(length=100), nullable=False),
        sa.Column("origin", sa.String(length=2), nullable=True),
        sa.Column("departure", sa.String(length=2), nullable=True),
        sa.Column("destination", sa.String(length=2), nullable=True),
        sa.Column("mode", sa.String(length=24), nullable=False),
        sa.Column("unit", sa.String(length=8), nullable=False),
        sa.Column("amount", sa.Float(), nullable=False),
        sa.Column("validation", sa.String(length=20), nullable=False),
        sa.Column("seizure_key", sa.String(length=200), nullable=False),
        sa.Column("duplicate_of", sa.Integer(), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hub_report")),
        sa.UniqueConstraint("member", "report_id", name=op.f("uq_hub_report_member")),
    )
    op.create_index(op.f("ix_hub_report_seizure_key"), "hub_report", ["seizure_key"], unique=False)
    op.create_index(
        "ix_hub_report_month_unit_amount", "hub_report", ["month", "unit", "amount"], unique=False
    )
    op.create_table(
        "hub_rollup",
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("dimension", sa.String(length=24), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("member", sa.String(length=16), nullable=False),
        sa.Column("cases", sa.Integer(), nullable=False),
        sa.Column("kg", sa.Float(), nullable=False),
        sa.Column("litres", sa.Float(), nullable=False),
        sa.Column("tablets", sa.Float(), nullable=False),
        sa.Column("pieces", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint(
            "month", "dimension", "value", "member", name=op.f("pk_hub_rollup")
        ),
    )

    op.create_table(
        "hub_feed_item",
        sa.Column("source_message_id", sa.String(length=36), nullable=False),
        sa.Column("batch_message_id", sa.String(length=36), nullable=False),
        sa.Column("report_id", sa.String(length=64), nullable=False),
        sa.Column("fed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("source_message_id", name=op.f("pk_hub_feed_item")),
    )
    op.create_index(
        op.f("ix_hub_feed_item_batch_message_id"),
        "hub_feed_item",
        ["batch_message_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_hub_feed_item_batch_message_id"), table_name="hub_feed_item")
    op.drop_table("hub_feed_item")
    op.drop_table("hub_rollup")
    op.drop_index("ix_hub_report_month_unit_amount", table_name="hub_report")
    op.drop_index(op.f("ix_hub_report_seizure_key"), table_name="hub_report")
    op.drop_table("hub_report")
