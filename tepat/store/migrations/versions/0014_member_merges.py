"""member_merges: merging a found pair, with maker-checker and undo (issue 15)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 09:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "member_merges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pair_id", sa.Integer(), nullable=False),
        sa.Column("survivor_id", sa.Integer(), nullable=False),
        sa.Column("merged_id", sa.Integer(), nullable=False),
        sa.Column("family_closed", sa.Boolean(), nullable=False),
        sa.Column("paid", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_by", sa.String(length=64), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("undone_by", sa.String(length=64), nullable=True),
        sa.Column("undone_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["pair_id"], ["duplicate_pairs.id"], name=op.f("fk_member_merges_pair_id_duplicate_pairs")
        ),
        sa.ForeignKeyConstraint(
            ["survivor_id"], ["members.id"], name=op.f("fk_member_merges_survivor_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["merged_id"], ["members.id"], name=op.f("fk_member_merges_merged_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_merges")),
    )
    op.create_index("ix_member_merges_merged_id", "member_merges", ["merged_id"])


def downgrade() -> None:
    op.drop_index("ix_member_merges_merged_id", table_name="member_merges")
    op.drop_table("member_merges")
