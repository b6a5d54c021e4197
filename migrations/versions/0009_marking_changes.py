"""marking changes: the markings in force on a received message, where its originator changed them

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("changed_markings", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("markings_changed_by", sa.String(length=36), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.drop_column("markings_changed_by")
        batch_op.drop_column("changed_markings")
