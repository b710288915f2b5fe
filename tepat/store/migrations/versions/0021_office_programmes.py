"""each office its own programme catalogue: ``programmes.office_code``, a code unique within its office (issue 17)

An APBD programme is one kabupaten/kota's: its amount, its budget and the families its cycles pay are that
office's. A province's database held one catalogue for every office (named after the first), so a second office's
cycles drew on the first office's budget. The programmes there are the first office's now; each other office gets
its own catalogue with ``tepat program seed --office CODE`` (or ``tepat init --office CODE --seed-programmes``).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

_NAMES = {"uq": "uq_%(table_name)s_%(column_0_N_name)s"}
_FIRST_OFFICE = "COALESCE((SELECT code FROM offices ORDER BY chosen_at, code LIMIT 1), '')"


def upgrade() -> None:
    op.add_column("programmes", sa.Column("office_code", sa.String(5), nullable=True))
    op.execute(f"UPDATE programmes SET office_code = {_FIRST_OFFICE}")
    with op.batch_alter_table("programmes", naming_convention=_NAMES) as batch:
        batch.alter_column("office_code", existing_type=sa.String(5), nullable=False)
        batch.drop_constraint("uq_programmes_code", type_="unique")
        batch.create_unique_constraint("uq_programmes_office_code_code", ["office_code", "code"])


def downgrade() -> None:
    """Refused while two offices hold the same code (one catalogue cannot hold both)."""
    with op.batch_alter_table("programmes", naming_convention=_NAMES) as batch:
        batch.drop_constraint("uq_programmes_office_code_code", type_="unique")
        batch.create_unique_constraint("uq_programmes_code", ["code"])
        batch.drop_column("office_code")
