"""programmes: catalogue, enrolment overrides, benefit cycles, entitlements, payments, results, facilities (issue 4)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 19:46:53.827535
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "facilities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("key_prefix", sa.String(length=12), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_facilities")),
        sa.UniqueConstraint("code", name=op.f("uq_facilities_code")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_facilities_key_hash")),
    )
    op.create_table(
        "programmes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=24), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("description", sa.String(length=1000), nullable=True),
        sa.Column("unit", sa.String(length=10), nullable=False),
        sa.Column("benefit_type", sa.String(length=12), nullable=False),
        sa.Column("funding_source", sa.String(length=8), nullable=False),
        sa.Column("frequency", sa.String(length=10), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("amounts_by_level", sa.JSON(), nullable=True),
        sa.Column("budget_year", sa.Integer(), nullable=False),
        sa.Column("annual_budget", sa.BigInteger(), nullable=True),
        sa.Column("quota", sa.Integer(), nullable=True),
        sa.Column("rule", sa.String(length=4000), nullable=False),
        sa.Column("member_rule", sa.String(length=4000), nullable=True),
        sa.Column("exclusions", sa.JSON(), nullable=False),
        sa.Column("coverage_months", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programmes")),
        sa.UniqueConstraint("code", name=op.f("uq_programmes_code")),
    )
    op.create_table(
        "benefit_cycles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("reference_date", sa.Date(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=True),
        sa.Column("programme_snapshot", sa.JSON(), nullable=False),
        sa.Column("budget_cap", sa.BigInteger(), nullable=True),
        sa.Column("quota", sa.Integer(), nullable=True),
        sa.Column("entitlements", sa.Integer(), server_default="0", nullable=False),
        sa.Column("total_amount", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("blocked", sa.Integer(), server_default="0", nullable=False),
        sa.Column("snapshot_sha256", sa.String(length=64), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("generated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("submitted_by", sa.String(length=64), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_by", sa.String(length=64), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=64), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancel_reason", sa.String(length=1000), nullable=True),
        sa.ForeignKeyConstraint(
            ["model_id"], ["pmt_models.id"], name=op.f("fk_benefit_cycles_model_id_pmt_models")
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"], ["programmes.id"], name=op.f("fk_benefit_cycles_programme_id_programmes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_benefit_cycles")),
    )
    with op.batch_alter_table("benefit_cycles", schema=None) as batch_op:
        batch_op.create_index("ix_benefit_cycles_programme_id", ["programme_id"], unique=False)

    op.create_table(
        "coverage_checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("facility_id", sa.Integer(), nullable=False),
        sa.Column("nik_hash", sa.String(length=64), nullable=False),
        sa.Column("covered", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["facility_id"], ["facilities.id"], name=op.f("fk_coverage_checks_facility_id_facilities")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coverage_checks")),
    )
    with op.batch_alter_table("coverage_checks", schema=None) as batch_op:
        batch_op.create_index("ix_coverage_checks_facility_at", ["facility_id", "at"], unique=False)

    op.create_table(
        "entitlements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("unit_key", sa.Integer(), nullable=False),
        sa.Column("family_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("kk_number", sa.String(length=16), nullable=False),
        sa.Column("recipient_nik", sa.String(length=16), nullable=True),
        sa.Column("recipient_name", sa.String(length=120), nullable=True),
        sa.Column("kelurahan_code", sa.String(length=13), nullable=False),
        sa.Column("kecamatan_code", sa.String(length=8), nullable=False),
        sa.Column("rw", sa.SmallInteger(), nullable=False),
        sa.Column("rt", sa.SmallInteger(), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=True),
        sa.Column("desil", sa.SmallInteger(), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("rank", sa.Integer(), nullable=True),
        sa.Column("level", sa.String(length=8), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("block_reason", sa.String(length=40), nullable=True),
        sa.Column("cancel_reason", sa.String(length=1000), nullable=True),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["cycle_id"], ["benefit_cycles.id"], name=op.f("fk_entitlements_cycle_id_benefit_cycles")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entitlements")),
        sa.UniqueConstraint("cycle_id", "unit_key", name="uq_entitlements_cycle_unit"),
    )
    with op.batch_alter_table("entitlements", schema=None) as batch_op:
        batch_op.create_index("ix_entitlements_cycle_kelurahan", ["cycle_id", "kelurahan_code"], unique=False)
        batch_op.create_index("ix_entitlements_family_id", ["family_id"], unique=False)
        batch_op.create_index("ix_entitlements_member_id", ["member_id"], unique=False)

    op.create_table(
        "payment_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("kelurahan_code", sa.String(length=13), nullable=True),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("control_count", sa.Integer(), nullable=False),
        sa.Column("control_total", sa.BigInteger(), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=True),
        sa.Column("file_sha256", sa.String(length=64), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("exported_by", sa.String(length=64), nullable=True),
        sa.Column("exported_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancel_reason", sa.String(length=1000), nullable=True),
        sa.ForeignKeyConstraint(
            ["cycle_id"], ["benefit_cycles.id"], name=op.f("fk_payment_batches_cycle_id_benefit_cycles")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_batches")),
        sa.UniqueConstraint("number", name=op.f("uq_payment_batches_number")),
    )
    with op.batch_alter_table("payment_batches", schema=None) as batch_op:
        batch_op.create_index("ix_payment_batches_cycle_id", ["cycle_id"], unique=False)

    op.create_table(
        "payment_result_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("rows", sa.Integer(), server_default="0", nullable=False),
        sa.Column("applied", sa.Integer(), server_default="0", nullable=False),
        sa.Column("already_applied", sa.Integer(), server_default="0", nullable=False),
        sa.Column("mismatches", sa.Integer(), server_default="0", nullable=False),
        sa.Column("control_count", sa.Integer(), nullable=True),
        sa.Column("control_total", sa.BigInteger(), nullable=True),
        sa.Column("message", sa.String(length=1000), nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["payment_batches.id"],
            name=op.f("fk_payment_result_imports_batch_id_payment_batches"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_result_imports")),
    )
    with op.batch_alter_table("payment_result_imports", schema=None) as batch_op:
        batch_op.create_index("ix_payment_result_imports_batch_id", ["batch_id"], unique=False)

    op.create_table(
        "payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("entitlement_id", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.SmallInteger(), nullable=False),
        sa.Column("reference", sa.String(length=40), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("recipient_nik", sa.String(length=16), nullable=True),
        sa.Column("recipient_name", sa.String(length=120), nullable=True),
        sa.Column("kelurahan_code", sa.String(length=13), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("failure_reason", sa.String(length=200), nullable=True),
        sa.Column("bank_reference", sa.String(length=64), nullable=True),
        sa.Column("settled_on", sa.Date(), nullable=True),
        sa.Column("result_import_id", sa.Integer(), nullable=True),
        sa.Column("cancel_reason", sa.String(length=1000), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["payment_batches.id"], name=op.f("fk_payments_batch_id_payment_batches")
        ),
        sa.ForeignKeyConstraint(
            ["entitlement_id"], ["entitlements.id"], name=op.f("fk_payments_entitlement_id_entitlements")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint("reference", name=op.f("uq_payments_reference")),
    )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.create_index("ix_payments_batch_id", ["batch_id"], unique=False)
        batch_op.create_index("ix_payments_entitlement_id", ["entitlement_id"], unique=False)
        batch_op.create_index(
            "uq_payments_live_entitlement",
            ["entitlement_id"],
            unique=True,
            sqlite_where=sa.text("state IN ('dikirim', 'dibayar')"),
            postgresql_where=sa.text("state IN ('dikirim', 'dibayar')"),
        )

    op.create_table(
        "payment_result_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=40), nullable=True),
        sa.Column("recipient_nik", sa.String(length=16), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("bank_reference", sa.String(length=64), nullable=True),
        sa.Column("settled_on", sa.Date(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["payment_result_imports.id"],
            name=op.f("fk_payment_result_lines_import_id_payment_result_imports"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_result_lines")),
    )
    with op.batch_alter_table("payment_result_lines", schema=None) as batch_op:
        batch_op.create_index("ix_payment_result_lines_import_id", ["import_id"], unique=False)
        batch_op.create_index("ix_payment_result_lines_reference", ["reference"], unique=False)

    op.create_table(
        "enrolment_overrides",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("family_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=8), nullable=False),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.Column("evidence", sa.String(length=255), nullable=False),
        sa.Column("upload_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.String(length=1000), nullable=True),
        sa.ForeignKeyConstraint(
            ["family_id"], ["families.id"], name=op.f("fk_enrolment_overrides_family_id_families")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_enrolment_overrides_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"], ["programmes.id"], name=op.f("fk_enrolment_overrides_programme_id_programmes")
        ),
        sa.ForeignKeyConstraint(
            ["upload_id"], ["uploads.id"], name=op.f("fk_enrolment_overrides_upload_id_uploads")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrolment_overrides")),
    )
    with op.batch_alter_table("enrolment_overrides", schema=None) as batch_op:
        batch_op.create_index("ix_enrolment_overrides_family_id", ["family_id"], unique=False)
        batch_op.create_index(
            "ix_enrolment_overrides_programme_state", ["programme_id", "state"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("enrolment_overrides", schema=None) as batch_op:
        batch_op.drop_index("ix_enrolment_overrides_programme_state")
        batch_op.drop_index("ix_enrolment_overrides_family_id")

    op.drop_table("enrolment_overrides")
    with op.batch_alter_table("payment_result_lines", schema=None) as batch_op:
        batch_op.drop_index("ix_payment_result_lines_reference")
        batch_op.drop_index("ix_payment_result_lines_import_id")

    op.drop_table("payment_result_lines")
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_payments_live_entitlement",
            sqlite_where=sa.text("state IN ('dikirim', 'dibayar')"),
            postgresql_where=sa.text("state IN ('dikirim', 'dibayar')"),
        )
        batch_op.drop_index("ix_payments_entitlement_id")
        batch_op.drop_index("ix_payments_batch_id")

    op.drop_table("payments")
    with op.batch_alter_table("payment_result_imports", schema=None) as batch_op:
        batch_op.drop_index("ix_payment_result_imports_batch_id")

    op.drop_table("payment_result_imports")
    with op.batch_alter_table("payment_batches", schema=None) as batch_op:
        batch_op.drop_index("ix_payment_batches_cycle_id")

    op.drop_table("payment_batches")
    with op.batch_alter_table("entitlements", schema=None) as batch_op:
        batch_op.drop_index("ix_entitlements_member_id")
        batch_op.drop_index("ix_entitlements_family_id")
        batch_op.drop_index("ix_entitlements_cycle_kelurahan")

    op.drop_table("entitlements")
    with op.batch_alter_table("coverage_checks", schema=None) as batch_op:
        batch_op.drop_index("ix_coverage_checks_facility_at")

    op.drop_table("coverage_checks")
    with op.batch_alter_table("benefit_cycles", schema=None) as batch_op:
        batch_op.drop_index("ix_benefit_cycles_programme_id")

    op.drop_table("benefit_cycles")
    op.drop_table("programmes")
    op.drop_table("facilities")
