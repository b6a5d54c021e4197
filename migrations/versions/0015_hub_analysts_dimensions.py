"""the RILO A/P hub's rollups gain the analysts' tables (direction, mode x commodity, office, port,
size band): recomputed from the reports counted

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-08 00:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # the rollups are derived from the stored reports: rebuilt with the code's cells, as
    # migration 0012 did (the reports themselves are not changed)
    from gateway.rilo.hub import rebuild_rollups

    rebuild_rollups(op.get_bind())


def downgrade() -> None:
    # the new tables' rows are harmless to the code of 0014 (it reads the dimensions it knows)
    op.execute(
        "DELETE FROM hub_rollup WHERE dimension IN "
        "('direction', 'mode-commodity', 'office', 'port', 'size')"
    )
