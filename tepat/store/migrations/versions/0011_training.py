"""training seats and attendance; service coverage 'aktif' (issue 18 point 4)

A training cycle's seats are enrolled, attended and finished (``training_participation``,
``training_attendance``); a service cycle's entitlements are ``aktif`` from approval, so the
frozen ones approved before this revision become ``aktif`` (closed ones ``selesai``).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 06:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_SERVICE_CYCLES = (
    "SELECT c.id FROM benefit_cycles c JOIN programmes p ON p.id = c.programme_id "
    "WHERE p.benefit_type = 'layanan' AND c.state IN ({states})"
)


def upgrade() -> None:
    op.create_table(
        "training_participation",
        sa.Column("entitlement_id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("enrolled_by", sa.String(length=64), nullable=False),
        sa.Column("enrolled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_by", sa.String(length=64), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.String(length=1000), nullable=True),
        sa.ForeignKeyConstraint(
            ["cycle_id"],
            ["benefit_cycles.id"],
            name=op.f("fk_training_participation_cycle_id_benefit_cycles"),
        ),
        sa.ForeignKeyConstraint(
            ["entitlement_id"],
            ["entitlements.id"],
            name=op.f("fk_training_participation_entitlement_id_entitlements"),
        ),
        sa.PrimaryKeyConstraint("entitlement_id", name=op.f("pk_training_participation")),
    )
    op.create_index(
        "ix_training_participation_cycle_id", "training_participation", ["cycle_id"], unique=False
    )
    op.create_table(
        "training_attendance",
        sa.Column("entitlement_id", sa.Integer(), nullable=False),
        sa.Column("session_date", sa.Date(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("present", sa.Boolean(), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["cycle_id"], ["benefit_cycles.id"], name=op.f("fk_training_attendance_cycle_id_benefit_cycles")
        ),
        sa.ForeignKeyConstraint(
            ["entitlement_id"],
            ["entitlements.id"],
            name=op.f("fk_training_attendance_entitlement_id_entitlements"),
        ),
        sa.PrimaryKeyConstraint("entitlement_id", "session_date", name=op.f("pk_training_attendance")),
    )
    op.create_index(
        "ix_training_attendance_cycle_id", "training_attendance", ["cycle_id", "session_date"], unique=False
    )
    open_ = _SERVICE_CYCLES.format(states="'disetujui', 'pembayaran'")
    closed = _SERVICE_CYCLES.format(states="'ditutup'")
    op.execute(f"UPDATE entitlements SET state = 'aktif' WHERE state = 'terjadwal' AND cycle_id IN ({open_})")
    op.execute(
        f"UPDATE entitlements SET state = 'selesai' WHERE state = 'terjadwal' AND cycle_id IN ({closed})"
    )


def downgrade() -> None:
    every = _SERVICE_CYCLES.format(states="'disetujui', 'pembayaran', 'ditutup'")
    op.execute(
        f"UPDATE entitlements SET state = 'terjadwal' WHERE state IN ('aktif', 'selesai') AND cycle_id IN ({every})"
    )
    op.drop_index("ix_training_attendance_cycle_id", table_name="training_attendance")
    op.drop_table("training_attendance")
    op.drop_index("ix_training_participation_cycle_id", table_name="training_participation")
    op.drop_table("training_participation")
