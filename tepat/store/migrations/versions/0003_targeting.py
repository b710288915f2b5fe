"""targeting: PMT model versions, evaluations, ranking runs and family scores (issue 3)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 17:49:08.441299
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
        "pmt_models",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("target", sa.String(length=64), nullable=False),
        sa.Column("weight", sa.String(length=64), nullable=True),
        sa.Column("features", sa.JSON(), nullable=False),
        sa.Column("reference_levels", sa.JSON(), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("r2", sa.Float(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("source_file", sa.String(length=255), nullable=False),
        sa.Column("source_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("first_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pmt_models")),
    )
    op.create_table(
        "pmt_evaluations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("source_file", sa.String(length=255), nullable=False),
        sa.Column("source_sha256", sa.String(length=64), nullable=False),
        sa.Column("households", sa.Integer(), nullable=False),
        sa.Column("results", sa.JSON(), nullable=False),
        sa.Column("evaluated_by", sa.String(length=64), nullable=False),
        sa.Column("evaluated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id"], ["pmt_models.id"], name=op.f("fk_pmt_evaluations_model_id_pmt_models")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pmt_evaluations")),
    )
    with op.batch_alter_table("pmt_evaluations", schema=None) as batch_op:
        batch_op.create_index("ix_pmt_evaluations_model_id", ["model_id"], unique=False)

    op.create_table(
        "ranking_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("reference_date", sa.Date(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("families", sa.Integer(), nullable=False),
        sa.Column("inserted", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("deleted", sa.Integer(), nullable=False),
        sa.Column("unknown_levels", sa.Integer(), nullable=False),
        sa.Column("imputed", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id"], ["pmt_models.id"], name=op.f("fk_ranking_runs_model_id_pmt_models")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ranking_runs")),
    )
    with op.batch_alter_table("ranking_runs", schema=None) as batch_op:
        batch_op.create_index("ix_ranking_runs_model_id", ["model_id"], unique=False)

    op.create_table(
        "family_scores",
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("family_id", sa.Integer(), nullable=False),
        sa.Column("family_version", sa.Integer(), nullable=False),
        sa.Column("predicted", sa.Float(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("desil", sa.SmallInteger(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("model_id", "family_id", name="pk_family_scores"),
    )
    with op.batch_alter_table("family_scores", schema=None) as batch_op:
        batch_op.create_index("ix_family_scores_model_desil", ["model_id", "desil"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("family_scores", schema=None) as batch_op:
        batch_op.drop_index("ix_family_scores_model_desil")

    op.drop_table("family_scores")
    with op.batch_alter_table("ranking_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_ranking_runs_model_id")

    op.drop_table("ranking_runs")
    with op.batch_alter_table("pmt_evaluations", schema=None) as batch_op:
        batch_op.drop_index("ix_pmt_evaluations_model_id")

    op.drop_table("pmt_evaluations")
    op.drop_table("pmt_models")
