"""offices: the kabupaten/kota a database serves, chosen with ``tepat init --office CODE`` (issue 14 point 1)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 06:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "offices",
        sa.Column("code", sa.String(length=13), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("province_name", sa.String(length=120), nullable=False),
        sa.Column("agency", sa.String(length=160), nullable=False),
        sa.Column("short_agency", sa.String(length=80), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=True),
        sa.Column("chosen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_offices")),
    )


def downgrade() -> None:
    op.drop_table("offices")
