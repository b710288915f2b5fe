"""The database schema (SQLAlchemy Core), shared by SQLite and PostgreSQL.

History is kept the way SQL:2011 system-versioned tables keep it: ``families``
and ``members`` hold the current version of each row (``version``,
``valid_from``, ``changed_by``, ``change_reason``); before a row changes, its
old version is copied to ``family_versions`` / ``member_versions`` with
``valid_to`` set. Creating a row therefore writes one row, and "what did this
family look like on 1 March" is one query over the current and old versions.
"""

from __future__ import annotations

import sqlalchemy as sa

from tepat.domain.households import ASSETS

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_N_label)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

Timestamp = sa.DateTime(timezone=True)

regions = sa.Table(
    "regions",
    metadata,
    sa.Column("code", sa.String(13), primary_key=True),
    sa.Column("name", sa.String(120), nullable=False),
    sa.Column("level", sa.String(12), nullable=False),
    sa.Column("parent_code", sa.String(13), nullable=True, index=True),
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("full_name", sa.String(120), nullable=False),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("area_code", sa.String(13), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("created_at", Timestamp, nullable=False),
)

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("token_hash", sa.String(128), nullable=False, unique=True),
    sa.Column("label", sa.String(80), nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("last_used_at", Timestamp),
    sa.Column("revoked_at", Timestamp),
)


def _versioning_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("valid_from", Timestamp, nullable=False),
        sa.Column("changed_by", sa.String(64), nullable=False),
        sa.Column("change_reason", sa.String(200), nullable=False),
        sa.Column("import_id", sa.Integer, nullable=True),
    ]


def _family_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("kk_number", sa.String(16), nullable=False),
        sa.Column("kelurahan_code", sa.String(13), nullable=False),
        sa.Column("kecamatan_code", sa.String(8), nullable=False),
        sa.Column("rw", sa.SmallInteger, nullable=False),
        sa.Column("rt", sa.SmallInteger, nullable=False),
        sa.Column("address", sa.String(200)),
        sa.Column("tenure", sa.String(20)),
        sa.Column("floor_area_m2", sa.Integer),
        sa.Column("floor_material", sa.String(24)),
        sa.Column("wall_material", sa.String(24)),
        sa.Column("roof_material", sa.String(24)),
        sa.Column("water_source", sa.String(24)),
        sa.Column("lighting", sa.String(24)),
        sa.Column("power_va", sa.String(16)),
        sa.Column("cooking_fuel", sa.String(24)),
        sa.Column("toilet", sa.String(16)),
        sa.Column("septic", sa.String(24)),
        *(sa.Column(name, sa.Boolean) for name, _, _ in ASSETS),
        sa.Column("registry_status", sa.String(10), nullable=False),
        sa.Column("inactive_reason", sa.String(20)),
        sa.Column("verification_status", sa.String(16), nullable=False),
        sa.Column("verified_on", sa.Date),
        *_versioning_columns(),
    ]


def _member_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("family_id", sa.Integer, nullable=False),
        sa.Column("nik", sa.String(16), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("sex", sa.String(1), nullable=False),
        sa.Column("birth_place", sa.String(80)),
        sa.Column("birth_date", sa.Date, nullable=False),
        sa.Column("relationship", sa.String(20), nullable=False),
        sa.Column("marital_status", sa.String(16)),
        sa.Column("education", sa.String(24)),
        sa.Column("school_participation", sa.String(24)),
        sa.Column("work_status", sa.String(24)),
        sa.Column("disability", sa.String(16)),
        sa.Column("chronic_illness", sa.String(16)),
        sa.Column("pregnant", sa.Boolean),
        sa.Column("life_status", sa.String(10), nullable=False),
        sa.Column("death_date", sa.Date),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("inactive_reason", sa.String(20)),
        *_versioning_columns(),
    ]


families = sa.Table(
    "families",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    *_family_columns(),
    sa.ForeignKeyConstraint(["kelurahan_code"], ["regions.code"]),
    sa.Index("ix_families_kk_number", "kk_number"),
    sa.Index(
        "uq_families_active_kk",
        "kk_number",
        unique=True,
        sqlite_where=sa.text("registry_status = 'aktif'"),
        postgresql_where=sa.text("registry_status = 'aktif'"),
    ),
    sa.Index("ix_families_area", "kelurahan_code", "rw", "rt"),
    sa.Index("ix_families_kecamatan", "kecamatan_code"),
)

family_versions = sa.Table(
    "family_versions",
    metadata,
    sa.Column("id", sa.Integer, nullable=False, autoincrement=False),
    *_family_columns(),
    sa.Column("valid_to", Timestamp, nullable=False),
    sa.PrimaryKeyConstraint("id", "version", name="pk_family_versions"),
)

members = sa.Table(
    "members",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    *_member_columns(),
    sa.ForeignKeyConstraint(["family_id"], ["families.id"]),
    sa.Index("ix_members_nik", "nik"),
    sa.Index(
        "uq_members_active_nik",
        "nik",
        unique=True,
        sqlite_where=sa.text("status = 'aktif'"),
        postgresql_where=sa.text("status = 'aktif'"),
    ),
    sa.Index("ix_members_family_id", "family_id"),
    sa.Index("ix_members_name", "name"),
)

member_versions = sa.Table(
    "member_versions",
    metadata,
    sa.Column("id", sa.Integer, nullable=False, autoincrement=False),
    *_member_columns(),
    sa.Column("valid_to", Timestamp, nullable=False),
    sa.PrimaryKeyConstraint("id", "version", name="pk_member_versions"),
    sa.Index("ix_member_versions_family_id", "family_id"),
)

imports = sa.Table(
    "imports",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("started_at", Timestamp, nullable=False),
    sa.Column("finished_at", Timestamp),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("filename", sa.String(255), nullable=False),
    sa.Column("mode", sa.String(12), nullable=False),
    sa.Column("status", sa.String(12), nullable=False),  # running | done | rejected | failed
    sa.Column("rows_read", sa.Integer, nullable=False, server_default="0"),
    sa.Column("rows_rejected", sa.Integer, nullable=False, server_default="0"),
    sa.Column("families_created", sa.Integer, nullable=False, server_default="0"),
    sa.Column("families_updated", sa.Integer, nullable=False, server_default="0"),
    sa.Column("members_created", sa.Integer, nullable=False, server_default="0"),
    sa.Column("members_updated", sa.Integer, nullable=False, server_default="0"),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", Timestamp, nullable=False),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("action", sa.String(40), nullable=False),
    sa.Column("entity", sa.String(24), nullable=False),
    sa.Column("entity_id", sa.String(40)),
    sa.Column("area_code", sa.String(13)),
    sa.Column("detail", sa.JSON),
    sa.Index("ix_audit_log_entity", "entity", "entity_id"),
    sa.Index("ix_audit_log_at", "at"),
)

VERSIONED = {"families": family_versions, "members": member_versions}
