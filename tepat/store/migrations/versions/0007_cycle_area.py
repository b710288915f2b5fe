"""cycle area: a benefit cycle covers a region, and only admins whose area contains it act on it (issue 13 point 3)

Existing cycles get the area of the account that created them (the area their list was generated for),
or the whole country when that account is gone.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 00:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Added in place with a default (SQLite cannot recreate a table others reference while foreign keys are on),
    # then filled; PostgreSQL then drops the default, SQLite keeps it (the application always sets the area).
    op.add_column(
        "benefit_cycles", sa.Column("area_code", sa.String(length=13), nullable=False, server_default="")
    )
    op.execute(
        "UPDATE benefit_cycles SET area_code = COALESCE("
        "(SELECT users.area_code FROM users WHERE users.username = benefit_cycles.created_by), '')"
    )
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("benefit_cycles", "area_code", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("benefit_cycles") as batch_op:
        batch_op.drop_column("area_code")
