"""linkage_models and duplicate_pairs: the duplicate search and its review queue (issue 15)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 09:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "linkage_models",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("area_code", sa.String(length=13), nullable=False),
        sa.Column("model", sa.JSON(), nullable=False),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("pairs", sa.Integer(), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_linkage_models")),
    )
    op.create_table(
        "duplicate_pairs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_l", sa.Integer(), nullable=False),
        sa.Column("member_r", sa.Integer(), nullable=False),
        sa.Column("version_l", sa.Integer(), nullable=False),
        sa.Column("version_r", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("match_probability", sa.Float(), nullable=False),
        sa.Column("match_weight", sa.Float(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("decision", sa.String(length=10), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("found_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_l"], ["members.id"], name=op.f("fk_duplicate_pairs_member_l_members")
        ),
        sa.ForeignKeyConstraint(
            ["member_r"], ["members.id"], name=op.f("fk_duplicate_pairs_member_r_members")
        ),
        sa.ForeignKeyConstraint(
            ["model_id"], ["linkage_models.id"], name=op.f("fk_duplicate_pairs_model_id_linkage_models")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duplicate_pairs")),
        sa.UniqueConstraint("member_l", "member_r", name="uq_duplicate_pairs_members"),
    )
    op.create_index(
        "ix_duplicate_pairs_decision_probability", "duplicate_pairs", ["decision", "match_probability"]
    )


def downgrade() -> None:
    op.drop_index("ix_duplicate_pairs_decision_probability", table_name="duplicate_pairs")
    op.drop_table("duplicate_pairs")
    op.drop_table("linkage_models")
