"""payment writes: exactly-once index on a derived ``live`` column, half-full pages, lean result ledger (issue 4)

* ``payments.live`` (stored, generated from ``state``) carries the exactly-once
  partial unique index instead of ``state``, so that a line going
  ``dikirim`` → ``dibayar`` changes no indexed column (a HOT update on PostgreSQL);
* ``entitlements`` and ``payments`` get ``fillfactor = 50`` on PostgreSQL (new
  pages only; ``VACUUM FULL`` rewrites old ones);
* ``payment_result_lines`` loses its foreign key to ``payment_result_imports`` and
  its ``reference`` index, which nothing reads (see the comments in schema.py).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 23:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_LIVE = "state IN ('dikirim', 'dibayar')"


def upgrade() -> None:
    op.drop_index("uq_payments_live_entitlement", table_name="payments")
    live: sa.Column[bool] = sa.Column(
        "live", sa.Boolean(), sa.Computed(_LIVE, persisted=True), nullable=False
    )
    if op.get_bind().dialect.name == "sqlite":  # SQLite cannot add a stored generated column: copy the table
        with op.batch_alter_table("payments", recreate="always") as batch_op:
            batch_op.add_column(live)
    else:  # PostgreSQL adds it in place (a rewrite), keeping the id sequence
        op.add_column("payments", live)
    op.create_index(
        "uq_payments_live_entitlement",
        "payments",
        ["entitlement_id"],
        unique=True,
        sqlite_where=sa.text("live"),
        postgresql_where=sa.text("live"),
    )
    op.drop_index(op.f("ix_payment_result_lines_reference"), table_name="payment_result_lines")
    with op.batch_alter_table("payment_result_lines") as batch_op:
        batch_op.drop_constraint(
            op.f("fk_payment_result_lines_import_id_payment_result_imports"), type_="foreignkey"
        )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE entitlements SET (fillfactor = 50)")
        op.execute("ALTER TABLE payments SET (fillfactor = 50)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE payments RESET (fillfactor)")
        op.execute("ALTER TABLE entitlements RESET (fillfactor)")
    with op.batch_alter_table("payment_result_lines") as batch_op:
        batch_op.create_foreign_key(
            op.f("fk_payment_result_lines_import_id_payment_result_imports"),
            "payment_result_imports",
            ["import_id"],
            ["id"],
        )
    op.create_index(
        op.f("ix_payment_result_lines_reference"), "payment_result_lines", ["reference"], unique=False
    )
    op.drop_index("uq_payments_live_entitlement", table_name="payments")
    with op.batch_alter_table("payments") as batch_op:
        batch_op.drop_column("live")
    op.create_index(
        "uq_payments_live_entitlement",
        "payments",
        ["entitlement_id"],
        unique=True,
        sqlite_where=sa.text(_LIVE),
        postgresql_where=sa.text(_LIVE),
    )
