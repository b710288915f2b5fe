"""dci_transaction_references: a transaction-status request by reference id finds every transaction that named it

Before, the lookup read a client's last 500 transactions and looked inside their JSON ``reference_ids``: an older
one was answered "not found". Existing transactions are indexed here from their JSON.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04 23:30:00
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

BATCH = 5_000


def upgrade() -> None:
    references = op.create_table(
        "dci_transaction_references",
        sa.Column("transaction_pk", sa.Integer(), nullable=False),
        sa.Column("reference_id", sa.String(length=99), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["transaction_pk"],
            ["dci_transactions.id"],
            name=op.f("fk_dci_transaction_references_transaction_pk_dci_transactions"),
        ),
        sa.PrimaryKeyConstraint("transaction_pk", "reference_id", name=op.f("pk_dci_transaction_references")),
    )
    op.create_index(
        "ix_dci_transaction_references_client_reference",
        "dci_transaction_references",
        ["client_id", "reference_id"],
    )
    conn = op.get_bind()
    found = conn.execute(sa.text("SELECT id, client_id, reference_ids FROM dci_transactions ORDER BY id"))
    rows: list[dict[str, object]] = []
    for pk, client_id, stored in found:
        ids = json.loads(stored) if isinstance(stored, str) else (stored or [])
        rows += [
            {"transaction_pk": pk, "reference_id": str(r), "client_id": client_id} for r in dict.fromkeys(ids)
        ]
    for start in range(0, len(rows), BATCH):
        op.bulk_insert(references, rows[start : start + BATCH])


def downgrade() -> None:
    op.drop_index("ix_dci_transaction_references_client_reference", table_name="dci_transaction_references")
    op.drop_table("dci_transaction_references")
