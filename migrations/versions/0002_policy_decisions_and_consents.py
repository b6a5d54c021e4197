"""policy decisions, markings and originator consents

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 22:38:16.795635
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "originator_consent",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("message_id", sa.String(length=36), nullable=False),
        sa.Column("recipient", sa.String(length=16), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=False),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["message.message_id"],
            name=op.f("fk_originator_consent_message_id_message"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_originator_consent")),
        sa.UniqueConstraint(
            "message_id", "recipient", name=op.f("uq_originator_consent_message_id")
        ),
    )
    with op.batch_alter_table("originator_consent", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_originator_consent_message_id"), ["message_id"], unique=False
        )

    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("decision", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("originator", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("handling_code", sa.String(length=2), nullable=True))
        batch_op.add_column(sa.Column("tlp", sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.drop_column("tlp")
        batch_op.drop_column("handling_code")
        batch_op.drop_column("originator")
        batch_op.drop_column("decision")

    with op.batch_alter_table("originator_consent", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_originator_consent_message_id"))

    op.drop_table("originator_consent")
