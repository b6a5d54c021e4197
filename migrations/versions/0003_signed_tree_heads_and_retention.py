"""signed tree heads and retention

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 22:51:14.340530
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signed_tree_head",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("root_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("token", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signed_tree_head")),
    )
    with op.batch_alter_table("signed_tree_head", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_signed_tree_head_tree_size"), ["tree_size"], unique=False
        )

    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("body_deleted_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.drop_column("body_deleted_at")

    with op.batch_alter_table("signed_tree_head", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_signed_tree_head_tree_size"))

    op.drop_table("signed_tree_head")
