"""case outcomes in the answer's words: a request decided approved is now "answered" (as the
message says), partially-approved "partially-answered", and a released answer "released"

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 14:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# In this order: "answered" meant released before it means decided.
UP = (
    ("answered", "released"),
    ("approved", "answered"),
    ("partially-approved", "partially-answered"),
)


def _rename(pairs: tuple[tuple[str, str], ...]) -> None:
    for before, after in pairs:
        op.execute(
            sa.text(
                "UPDATE review_case SET state = :after WHERE kind = 'request' AND state = :before"
            ).bindparams(before=before, after=after)
        )


def upgrade() -> None:
    _rename(UP)


def downgrade() -> None:
    _rename(tuple((after, before) for before, after in reversed(UP)))
