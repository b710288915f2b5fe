"""payments ledger: a result import writes only the judged rows; states are read from them (issue 18)

* ``payment_result_lines`` gets the line (``payment_id``) and entitlement each row was judged against and
  ``paid_open`` (an applied payment not returned since), with three partial indexes: the applied rows by line
  (how a state is read), the mismatched rows by import (what reconciliation lists) and at most one open payment
  per entitlement (a second payment is refused by the database);
* ``payment_result_imports``: one applied import per batch and file (``uq_payment_result_imports_once``);
* ``payment_batch_totals``: lines and amount of each batch per kelurahan and state.

Rows written before keep their meaning: the stored states agree with the ledger (the old import wrote both), so
the new rows are filled from them. The downgrade writes every state as it reads now back into the stored columns
before dropping what this adds, so the older code finds them where it looked.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 06:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

_APPLIED = "outcome = 'diterapkan'"
_MISMATCHED = (
    "outcome = 'ganda' OR outcome = 'konflik' OR outcome = 'tidak_cocok' OR outcome = 'tidak_dikenal'"
)


def _result(column: str, *, present: bool = False) -> str:
    """``column`` of the latest applied ledger row of the ``payments`` row being updated (``present``: of the latest
    one where it is set): the rule of tepat.store.payment_states, frozen here."""
    extra = f" AND r.{column} IS NOT NULL" if present else ""
    return (
        f"(SELECT r.{column} FROM payment_result_lines r WHERE r.payment_id = payments.id "
        f"AND r.outcome = 'diterapkan'{extra} ORDER BY r.id DESC LIMIT 1)"
    )


def upgrade() -> None:
    with op.batch_alter_table("payment_result_lines") as batch_op:
        batch_op.add_column(sa.Column("payment_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("entitlement_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("paid_open", sa.Boolean(), nullable=True))
    op.execute(
        "UPDATE payment_result_lines SET payment_id = (SELECT p.id FROM payments p JOIN payment_result_imports i "
        "ON i.batch_id = p.batch_id WHERE i.id = payment_result_lines.import_id "
        "AND p.reference = payment_result_lines.reference) WHERE reference IS NOT NULL"
    )
    op.execute(
        "UPDATE payment_result_lines SET entitlement_id = (SELECT p.entitlement_id FROM payments p "
        "WHERE p.id = payment_result_lines.payment_id) WHERE payment_id IS NOT NULL"
    )
    op.execute(
        "UPDATE payment_result_lines SET paid_open = TRUE WHERE outcome = 'diterapkan' AND status = 'dibayar' "
        "AND payment_id IN (SELECT id FROM payments WHERE state = 'dibayar')"
    )
    op.create_index(
        "ix_payment_result_lines_applied",
        "payment_result_lines",
        ["payment_id"],
        sqlite_where=sa.text(f"{_APPLIED} AND paid_open IS NULL"),
        postgresql_where=sa.text(f"{_APPLIED} AND paid_open IS NULL"),
    )
    op.create_index(
        "ix_payment_result_lines_mismatches",
        "payment_result_lines",
        ["import_id"],
        sqlite_where=sa.text(_MISMATCHED),
        postgresql_where=sa.text(_MISMATCHED),
    )
    op.create_index(
        "uq_payment_result_lines_paid_once",
        "payment_result_lines",
        ["entitlement_id"],
        unique=True,
        sqlite_where=sa.text("paid_open IS 1"),
        postgresql_where=sa.text("paid_open IS true"),
    )
    op.create_index(
        "uq_payment_result_imports_once",
        "payment_result_imports",
        ["batch_id", "file_sha256"],
        unique=True,
        sqlite_where=sa.text("status = 'selesai'"),
        postgresql_where=sa.text("status = 'selesai'"),
    )
    op.create_table(
        "payment_batch_totals",
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("kelurahan_code", sa.String(length=13), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("lines", sa.Integer(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["payment_batches.id"],
            name=op.f("fk_payment_batch_totals_batch_id_payment_batches"),
        ),
        sa.PrimaryKeyConstraint("batch_id", "kelurahan_code", "state", name=op.f("pk_payment_batch_totals")),
    )
    op.execute(
        "INSERT INTO payment_batch_totals (batch_id, kelurahan_code, state, lines, amount) "
        "SELECT batch_id, kelurahan_code, state, count(*), coalesce(sum(amount), 0) FROM payments "
        "GROUP BY batch_id, kelurahan_code, state"
    )


def downgrade() -> None:
    # entitlements first: theirs is read through their latest line, still as the ledger tells it
    latest = "(SELECT max(l.id) FROM payments l WHERE l.entitlement_id = entitlements.id)"
    effect = (
        "(SELECT CASE r.status WHEN 'dibayar' THEN 'dibayar' ELSE 'gagal' END FROM payment_result_lines r "
        f"WHERE r.payment_id = {latest} AND r.outcome = 'diterapkan' ORDER BY r.id DESC LIMIT 1)"
    )
    op.execute(f"UPDATE entitlements SET state = {effect} WHERE state = 'diproses' AND {effect} IS NOT NULL")
    op.execute(
        "UPDATE entitlements SET paid_at = (SELECT i.started_at FROM payment_result_lines r "
        "JOIN payment_result_imports i ON i.id = r.import_id "
        f"WHERE r.payment_id = {latest} AND r.outcome = 'diterapkan' AND r.status = 'dibayar' LIMIT 1) "
        "WHERE state = 'dibayar' AND paid_at IS NULL"
    )
    for column in ("bank_reference", "settled_on"):
        found = _result(column, present=True)
        op.execute(f"UPDATE payments SET {column} = coalesce({found}, {column}) WHERE state = 'dikirim'")
    status = _result("status")
    op.execute(
        f"UPDATE payments SET state = {status}, result_import_id = {_result('import_id')} "
        f"WHERE state = 'dikirim' AND {status} IS NOT NULL"
    )
    op.drop_table("payment_batch_totals")
    op.drop_index("uq_payment_result_imports_once", table_name="payment_result_imports")
    op.drop_index("uq_payment_result_lines_paid_once", table_name="payment_result_lines")
    op.drop_index("ix_payment_result_lines_applied", table_name="payment_result_lines")
    op.drop_index("ix_payment_result_lines_mismatches", table_name="payment_result_lines")
    with op.batch_alter_table("payment_result_lines") as batch_op:
        batch_op.drop_column("paid_open")
        batch_op.drop_column("entitlement_id")
        batch_op.drop_column("payment_id")
