"""move requests: registry writes refused because the record belongs to another area (issue 13 point 1)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 23:50:00
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
        "move_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=True),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.Column("to_kelurahan_code", sa.String(length=13), nullable=False),
        sa.Column("kk_number", sa.String(length=16), nullable=False),
        sa.Column("nik", sa.String(length=16), nullable=True),
        sa.Column("family_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("from_kelurahan_code", sa.String(length=13), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["family_id"], ["families.id"], name=op.f("fk_move_requests_family_id_families")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_move_requests_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_move_requests")),
    )
    op.create_index("ix_move_requests_from", "move_requests", ["from_kelurahan_code", "state"], unique=False)
    op.create_index("ix_move_requests_to", "move_requests", ["to_kelurahan_code", "state"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_move_requests_to", table_name="move_requests")
    op.drop_index("ix_move_requests_from", table_name="move_requests")
    op.drop_table("move_requests")
