"""certificates of origin, their versions and verification requests

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 01:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "certificate_of_origin",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("exporting_party", sa.String(length=16), nullable=False),
        sa.Column("importing_party", sa.String(length=16), nullable=False),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("issue_date", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("agreement", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("usage", sa.String(length=24), nullable=True),
        sa.Column("declaration_number", sa.String(length=64), nullable=True),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificate_of_origin")),
        sa.UniqueConstraint(
            "exporting_party",
            "number",
            "issue_date",
            name=op.f("uq_certificate_of_origin_exporting_party"),
        ),
    )
    op.create_index(
        "ix_certificate_of_origin_number_issue_date",
        "certificate_of_origin",
        ["number", "issue_date"],
        unique=False,
    )
    op.create_table(
        "certificate_version",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("certificate_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=36), nullable=False),
        sa.Column("body_sha256", sa.String(length=64), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("signed_by", sa.JSON(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["certificate_id"],
            ["certificate_of_origin.id"],
            name=op.f("fk_certificate_version_certificate_id_certificate_of_origin"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificate_version")),
        sa.UniqueConstraint(
            "certificate_id", "version", name=op.f("uq_certificate_version_certificate_id")
        ),
        sa.UniqueConstraint("message_id", name=op.f("uq_certificate_version_message_id")),
    )
    op.create_table(
        "origin_verification",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("request_id", sa.String(length=36), nullable=False),
        sa.Column("certificate_id", sa.Integer(), nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("partner", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("questions", sa.JSON(), nullable=False),
        sa.Column("items", sa.JSON(), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("result", sa.String(length=24), nullable=True),
        sa.Column("findings", sa.JSON(), nullable=True),
        sa.Column("answer_id", sa.String(length=36), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["certificate_id"],
            ["certificate_of_origin.id"],
            name=op.f("fk_origin_verification_certificate_id_certificate_of_origin"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_origin_verification")),
        sa.UniqueConstraint("request_id", name=op.f("uq_origin_verification_request_id")),
    )
    op.create_index(
        op.f("ix_origin_verification_certificate_id"),
        "origin_verification",
        ["certificate_id"],
        unique=False,
    )
    op.create_index(
        "ix_origin_verification_state_due_date",
        "origin_verification",
        ["state", "due_date"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_origin_verification_state_due_date", table_name="origin_verification")
    op.drop_index(op.f("ix_origin_verification_certificate_id"), table_name="origin_verification")
    op.drop_table("origin_verification")
    op.drop_table("certificate_version")
    op.drop_index("ix_certificate_of_origin_number_issue_date", table_name="certificate_of_origin")
    op.drop_table("certificate_of_origin")
