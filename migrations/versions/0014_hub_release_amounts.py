"""the release ledger keeps the quantities of each release's sensitive cells (hub_release.amounts),
so that the audit judges amounts as well as seizures; releases made before have none

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08 00:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("hub_release") as batch:
        batch.add_column(sa.Column("amounts", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("hub_release") as batch:
        batch.drop_column("amounts")
