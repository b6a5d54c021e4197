"""the RILO A/P hub counts as the world seizes: one administration's reports are never merged;
across administrations a match is a candidate duplicate for an analyst (hub_duplicate_candidate);
every held report's match key, copy-of and candidates and the rollups are re-derived

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 15:00:00
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hub_duplicate_candidate",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("report", sa.Integer(), nullable=False),
        sa.Column("original", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("found_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hub_duplicate_candidate")),
        sa.UniqueConstraint("report", "original", name=op.f("uq_hub_duplicate_candidate_report")),
    )
    op.create_index(
        op.f("ix_hub_duplicate_candidate_original"),
        "hub_duplicate_candidate",
        ["original"],
        unique=False,
    )
    op.create_index(
        op.f("ix_hub_duplicate_candidate_state"), "hub_duplicate_candidate", ["state"], unique=False
    )
    # The rule as the code holds it (gateway.rilo.hub): the rows are re-derived the way a fresh
    # ingest of the same reports in the same order would store them.
    from gateway.rilo.hub import rederive

    rederive(op.get_bind(), now=datetime.now(UTC))


# --- the rule before 0012, for the downgrade ------------------------------------------------------

_UNITS = {
    "kg": ("kg", 1.0),
    "g": ("kg", 0.001),
    "l": ("litres", 1.0),
    "ml": ("litres", 0.001),
    "tablets": ("tablets", 1.0),
    "pieces": ("pieces", 1.0),
    "sticks": ("pieces", 1.0),
    "items": ("pieces", 1.0),
    "ampoules": ("pieces", 1.0),
}


def _old_key(document: dict) -> str:
    name, factor = _UNITS[document["quantity"]["unit"]]
    amount = round(float(document["quantity"]["amount"]) * factor, 6)
    route = document.get("route") or {}
    return "|".join(
        (
            document["seizure_date"],
            document["commodity"]["type"],
            route.get("departure", "??"),
            route.get("destination", "??"),
            f"{amount:.3f}{name}",
        )
    )


def downgrade() -> None:
    from gateway.rilo.hub import rollup_rows

    connection = op.get_bind()
    report = sa.table(
        "hub_report",
        sa.column("id", sa.Integer),
        sa.column("document", sa.JSON),
        sa.column("withdrawn_at", sa.DateTime(timezone=True)),
        sa.column("seizure_key", sa.String),
        sa.column("duplicate_of", sa.Integer),
    )
    rollup = sa.table(
        "hub_rollup",
        *(sa.column(c) for c in ("month", "dimension", "value", "member", "cases")),
        *(sa.column(q) for q in ("kg", "litres", "tablets", "pieces")),
    )
    firsts: dict[str, int] = {}
    counted = []
    rows = connection.execute(
        sa.select(report.c.id, report.c.document, report.c.withdrawn_at).order_by(report.c.id)
    ).all()
    for row_id, document, withdrawn_at in rows:
        key = _old_key(document)
        first = firsts.get(key)
        connection.execute(
            sa.update(report)
            .where(report.c.id == row_id)
            .values(seizure_key=key, duplicate_of=first)
        )
        if withdrawn_at is None and first is None:
            firsts[key] = row_id
            counted.append(document)
    connection.execute(rollup.delete())
    cells = rollup_rows(counted)
    if cells:
        connection.execute(sa.insert(rollup), cells)
    op.drop_index(op.f("ix_hub_duplicate_candidate_state"), table_name="hub_duplicate_candidate")
    op.drop_index(op.f("ix_hub_duplicate_candidate_original"), table_name="hub_duplicate_candidate")
    op.drop_table("hub_duplicate_candidate")
