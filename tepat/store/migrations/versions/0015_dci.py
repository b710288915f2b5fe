"""dci_clients, dci_transactions, dci_subscriptions, dci_deliveries: the DCI Social Registry interface (issue 16)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 13:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "dci_clients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("callback_urls", sa.JSON(), nullable=False),
        sa.Column("public_key", sa.Text(), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("revoked_at", _TS, nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_dci_clients_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dci_clients")),
        sa.UniqueConstraint("name", name=op.f("uq_dci_clients_name")),
        sa.UniqueConstraint("user_id", name=op.f("uq_dci_clients_user_id")),
    )
    op.create_table(
        "dci_transactions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("transaction_id", sa.String(length=99), nullable=False),
        sa.Column("correlation_id", sa.String(length=99), nullable=False),
        sa.Column("message_id", sa.String(length=99), nullable=False),
        sa.Column("reference_ids", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=4), nullable=False),
        sa.Column("request", sa.JSON(), nullable=True),
        sa.Column("callback_url", sa.String(length=500), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("completed_at", _TS, nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"], ["dci_clients.id"], name=op.f("fk_dci_transactions_client_id_dci_clients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dci_transactions")),
        sa.UniqueConstraint("correlation_id", name=op.f("uq_dci_transactions_correlation_id")),
    )
    op.create_index("ix_dci_transactions_client_txn", "dci_transactions", ["client_id", "transaction_id"])
    op.create_table(
        "dci_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=99), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("transaction_id", sa.String(length=99), nullable=False),
        sa.Column("reference_id", sa.String(length=99), nullable=False),
        sa.Column("event_type", sa.String(length=20), nullable=False),
        sa.Column("filter", sa.JSON(), nullable=False),
        sa.Column("notify_record_type", sa.String(length=40), nullable=False),
        sa.Column("area_code", sa.String(length=13), nullable=False),
        sa.Column("callback_url", sa.String(length=500), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("ended_at", _TS, nullable=True),
        sa.Column("seen_until", _TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"], ["dci_clients.id"], name=op.f("fk_dci_subscriptions_client_id_dci_clients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dci_subscriptions")),
        sa.UniqueConstraint("code", name=op.f("uq_dci_subscriptions_code")),
    )
    op.create_index("ix_dci_subscriptions_client_id", "dci_subscriptions", ["client_id"])
    op.create_table(
        "dci_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("transaction_pk", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("part", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", _TS, nullable=False),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("delivered_at", _TS, nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"], ["dci_clients.id"], name=op.f("fk_dci_deliveries_client_id_dci_clients")
        ),
        sa.ForeignKeyConstraint(
            ["transaction_pk"],
            ["dci_transactions.id"],
            name=op.f("fk_dci_deliveries_transaction_pk_dci_transactions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dci_deliveries")),
    )
    op.create_index("ix_dci_deliveries_due", "dci_deliveries", ["state", "next_attempt_at"])
    op.create_index("ix_dci_deliveries_client_id", "dci_deliveries", ["client_id"])


def downgrade() -> None:
    op.drop_index("ix_dci_deliveries_client_id", table_name="dci_deliveries")
    op.drop_index("ix_dci_deliveries_due", table_name="dci_deliveries")
    op.drop_table("dci_deliveries")
    op.drop_index("ix_dci_subscriptions_client_id", table_name="dci_subscriptions")
    op.drop_table("dci_subscriptions")
    op.drop_index("ix_dci_transactions_client_txn", table_name="dci_transactions")
    op.drop_table("dci_transactions")
    op.drop_table("dci_clients")
