"""registry

Revision ID: 0001
Revises:
Create Date: 2026-11-28 17:25:53.915617
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("entity", sa.String(length=24), nullable=False),
        sa.Column("entity_id", sa.String(length=40), nullable=True),
        sa.Column("area_code", sa.String(length=13), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index("ix_audit_log_at", ["at"], unique=False)
        batch_op.create_index("ix_audit_log_entity", ["entity", "entity_id"], unique=False)

    op.create_table(
        "family_versions",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("kk_number", sa.String(length=16), nullable=False),
        sa.Column("kelurahan_code", sa.String(length=13), nullable=False),
        sa.Column("kecamatan_code", sa.String(length=8), nullable=False),
        sa.Column("rw", sa.SmallInteger(), nullable=False),
        sa.Column("rt", sa.SmallInteger(), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=True),
        sa.Column("tenure", sa.String(length=20), nullable=True),
        sa.Column("floor_area_m2", sa.Integer(), nullable=True),
        sa.Column("floor_material", sa.String(length=24), nullable=True),
        sa.Column("wall_material", sa.String(length=24), nullable=True),
        sa.Column("roof_material", sa.String(length=24), nullable=True),
        sa.Column("water_source", sa.String(length=24), nullable=True),
        sa.Column("lighting", sa.String(length=24), nullable=True),
        sa.Column("power_va", sa.String(length=16), nullable=True),
        sa.Column("cooking_fuel", sa.String(length=24), nullable=True),
        sa.Column("toilet", sa.String(length=16), nullable=True),
        sa.Column("septic", sa.String(length=24), nullable=True),
        sa.Column("asset_gas_cylinder", sa.Boolean(), nullable=True),
        sa.Column("asset_refrigerator", sa.Boolean(), nullable=True),
        sa.Column("asset_ac", sa.Boolean(), nullable=True),
        sa.Column("asset_water_heater", sa.Boolean(), nullable=True),
        sa.Column("asset_landline", sa.Boolean(), nullable=True),
        sa.Column("asset_tv", sa.Boolean(), nullable=True),
        sa.Column("asset_gold", sa.Boolean(), nullable=True),
        sa.Column("asset_computer", sa.Boolean(), nullable=True),
        sa.Column("asset_bicycle", sa.Boolean(), nullable=True),
        sa.Column("asset_motorcycle", sa.Boolean(), nullable=True),
        sa.Column("asset_car", sa.Boolean(), nullable=True),
        sa.Column("asset_boat", sa.Boolean(), nullable=True),
        sa.Column("asset_land", sa.Boolean(), nullable=True),
        sa.Column("asset_other_house", sa.Boolean(), nullable=True),
        sa.Column("asset_livestock", sa.Boolean(), nullable=True),
        sa.Column("registry_status", sa.String(length=10), nullable=False),
        sa.Column("inactive_reason", sa.String(length=20), nullable=True),
        sa.Column("verification_status", sa.String(length=16), nullable=False),
        sa.Column("verified_on", sa.Date(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.String(length=64), nullable=False),
        sa.Column("change_reason", sa.String(length=200), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=True),
        sa.Column("valid_to", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", "version", name="pk_family_versions"),
    )
    op.create_table(
        "imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("mode", sa.String(length=12), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("rows_read", sa.Integer(), server_default="0", nullable=False),
        sa.Column("rows_rejected", sa.Integer(), server_default="0", nullable=False),
        sa.Column("families_created", sa.Integer(), server_default="0", nullable=False),
        sa.Column("families_updated", sa.Integer(), server_default="0", nullable=False),
        sa.Column("members_created", sa.Integer(), server_default="0", nullable=False),
        sa.Column("members_updated", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_imports")),
    )
    op.create_table(
        "member_versions",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("family_id", sa.Integer(), nullable=False),
        sa.Column("nik", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("sex", sa.String(length=1), nullable=False),
        sa.Column("birth_place", sa.String(length=80), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("relationship", sa.String(length=20), nullable=False),
        sa.Column("marital_status", sa.String(length=16), nullable=True),
        sa.Column("education", sa.String(length=24), nullable=True),
        sa.Column("school_participation", sa.String(length=24), nullable=True),
        sa.Column("work_status", sa.String(length=24), nullable=True),
        sa.Column("disability", sa.String(length=16), nullable=True),
        sa.Column("chronic_illness", sa.String(length=16), nullable=True),
        sa.Column("pregnant", sa.Boolean(), nullable=True),
        sa.Column("life_status", sa.String(length=10), nullable=False),
        sa.Column("death_date", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("inactive_reason", sa.String(length=20), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.String(length=64), nullable=False),
        sa.Column("change_reason", sa.String(length=200), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=True),
        sa.Column("valid_to", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", "version", name="pk_member_versions"),
    )
    with op.batch_alter_table("member_versions", schema=None) as batch_op:
        batch_op.create_index("ix_member_versions_family_id", ["family_id"], unique=False)

    op.create_table(
        "regions",
        sa.Column("code", sa.String(length=13), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("level", sa.String(length=12), nullable=False),
        sa.Column("parent_code", sa.String(length=13), nullable=True),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_regions")),
    )
    with op.batch_alter_table("regions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_regions_parent_code"), ["parent_code"], unique=False)

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("full_name", sa.String(length=120), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("area_code", sa.String(length=13), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=128), nullable=False),
        sa.Column("label", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_table(
        "families",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kk_number", sa.String(length=16), nullable=False),
        sa.Column("kelurahan_code", sa.String(length=13), nullable=False),
        sa.Column("kecamatan_code", sa.String(length=8), nullable=False),
        sa.Column("rw", sa.SmallInteger(), nullable=False),
        sa.Column("rt", sa.SmallInteger(), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=True),
        sa.Column("tenure", sa.String(length=20), nullable=True),
        sa.Column("floor_area_m2", sa.Integer(), nullable=True),
        sa.Column("floor_material", sa.String(length=24), nullable=True),
        sa.Column("wall_material", sa.String(length=24), nullable=True),
        sa.Column("roof_material", sa.String(length=24), nullable=True),
        sa.Column("water_source", sa.String(length=24), nullable=True),
        sa.Column("lighting", sa.String(length=24), nullable=True),
        sa.Column("power_va", sa.String(length=16), nullable=True),
        sa.Column("cooking_fuel", sa.String(length=24), nullable=True),
        sa.Column("toilet", sa.String(length=16), nullable=True),
        sa.Column("septic", sa.String(length=24), nullable=True),
        sa.Column("asset_gas_cylinder", sa.Boolean(), nullable=True),
        sa.Column("asset_refrigerator", sa.Boolean(), nullable=True),
        sa.Column("asset_ac", sa.Boolean(), nullable=True),
        sa.Column("asset_water_heater", sa.Boolean(), nullable=True),
        sa.Column("asset_landline", sa.Boolean(), nullable=True),
        sa.Column("asset_tv", sa.Boolean(), nullable=True),
        sa.Column("asset_gold", sa.Boolean(), nullable=True),
        sa.Column("asset_computer", sa.Boolean(), nullable=True),
        sa.Column("asset_bicycle", sa.Boolean(), nullable=True),
        sa.Column("asset_motorcycle", sa.Boolean(), nullable=True),
        sa.Column("asset_car", sa.Boolean(), nullable=True),
        sa.Column("asset_boat", sa.Boolean(), nullable=True),
        sa.Column("asset_land", sa.Boolean(), nullable=True),
        sa.Column("asset_other_house", sa.Boolean(), nullable=True),
        sa.Column("asset_livestock", sa.Boolean(), nullable=True),
        sa.Column("registry_status", sa.String(length=10), nullable=False),
        sa.Column("inactive_reason", sa.String(length=20), nullable=True),
        sa.Column("verification_status", sa.String(length=16), nullable=False),
        sa.Column("verified_on", sa.Date(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.String(length=64), nullable=False),
        sa.Column("change_reason", sa.String(length=200), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["kelurahan_code"], ["regions.code"], name=op.f("fk_families_kelurahan_code_regions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_families")),
    )
    with op.batch_alter_table("families", schema=None) as batch_op:
        batch_op.create_index("ix_families_area", ["kelurahan_code", "rw", "rt"], unique=False)
        batch_op.create_index("ix_families_kecamatan", ["kecamatan_code"], unique=False)
        batch_op.create_index("ix_families_kk_number", ["kk_number"], unique=False)
        batch_op.create_index(
            "uq_families_active_kk",
            ["kk_number"],
            unique=True,
            sqlite_where=sa.text("registry_status = 'aktif'"),
            postgresql_where=sa.text("registry_status = 'aktif'"),
        )

    op.create_table(
        "members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("family_id", sa.Integer(), nullable=False),
        sa.Column("nik", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("sex", sa.String(length=1), nullable=False),
        sa.Column("birth_place", sa.String(length=80), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("relationship", sa.String(length=20), nullable=False),
        sa.Column("marital_status", sa.String(length=16), nullable=True),
        sa.Column("education", sa.String(length=24), nullable=True),
        sa.Column("school_participation", sa.String(length=24), nullable=True),
        sa.Column("work_status", sa.String(length=24), nullable=True),
        sa.Column("disability", sa.String(length=16), nullable=True),
        sa.Column("chronic_illness", sa.String(length=16), nullable=True),
        sa.Column("pregnant", sa.Boolean(), nullable=True),
        sa.Column("life_status", sa.String(length=10), nullable=False),
        sa.Column("death_date", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("inactive_reason", sa.String(length=20), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.String(length=64), nullable=False),
        sa.Column("change_reason", sa.String(length=200), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["family_id"], ["families.id"], name=op.f("fk_members_family_id_families")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_members")),
    )
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.create_index("ix_members_family_id", ["family_id"], unique=False)
        batch_op.create_index("ix_members_name", ["name"], unique=False)
        batch_op.create_index("ix_members_nik", ["nik"], unique=False)
        batch_op.create_index(
            "uq_members_active_nik",
            ["nik"],
            unique=True,
            sqlite_where=sa.text("status = 'aktif'"),
            postgresql_where=sa.text("status = 'aktif'"),
        )


def downgrade() -> None:
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_members_active_nik",
            sqlite_where=sa.text("status = 'aktif'"),
            postgresql_where=sa.text("status = 'aktif'"),
        )
        batch_op.drop_index("ix_members_nik")
        batch_op.drop_index("ix_members_name")
        batch_op.drop_index("ix_members_family_id")

    op.drop_table("members")
    with op.batch_alter_table("families", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_families_active_kk",
            sqlite_where=sa.text("registry_status = 'aktif'"),
            postgresql_where=sa.text("registry_status = 'aktif'"),
        )
        batch_op.drop_index("ix_families_kk_number")
        batch_op.drop_index("ix_families_kecamatan")
        batch_op.drop_index("ix_families_area")

    op.drop_table("families")
    op.drop_table("api_tokens")
    op.drop_table("users")
    with op.batch_alter_table("regions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_regions_parent_code"))

    op.drop_table("regions")
    with op.batch_alter_table("member_versions", schema=None) as batch_op:
        batch_op.drop_index("ix_member_versions_family_id")

    op.drop_table("member_versions")
    op.drop_table("imports")
    op.drop_table("family_versions")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_log_entity")
        batch_op.drop_index("ix_audit_log_at")

    op.drop_table("audit_log")
