"""office keys: the tables that name a family, member or entitlement carry its office, and their foreign keys
name it by (id, office) (issue 17)

Migration 0019 partitioned the large tables by office; on PostgreSQL a foreign key can name a partitioned table
only by a key that holds the partition key, so the single-column foreign keys into them were dropped there. This
gives them back, on both databases: ``office_code`` on cases, verification visits, move requests, enrolment
overrides and training seats and attendance, filled from the family (or entitlement) each names, and composite
foreign keys ``(family_id, office_code) → families (id, office_code)`` (members, entitlements likewise) with
``ON UPDATE CASCADE``, so a family moving to another office takes them along. Members get the ``(id, office_code)``
key these name (on PostgreSQL it replaces the primary key of the same columns).

Duplicate pairs and merges keep no foreign key into members on PostgreSQL: a pair may join two offices' people.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05 11:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

_FAMILY = "(SELECT f.office_code FROM families f WHERE f.id = {table}.{column})"
_ENTITLEMENT = "(SELECT e.office_code FROM entitlements e WHERE e.id = {table}.entitlement_id)"
_FILL = {
    "cases": "COALESCE({}, {}, substr(kelurahan_code, 1, 5))".format(
        _FAMILY.format(table="cases", column="subject_family_id"),
        _FAMILY.format(table="cases", column="created_family_id"),
    ),
    "verification_visits": _FAMILY.format(table="verification_visits", column="family_id"),
    "move_requests": _FAMILY.format(table="move_requests", column="family_id"),
    "enrolment_overrides": _FAMILY.format(table="enrolment_overrides", column="family_id"),
    "training_participation": _ENTITLEMENT.format(table="training_participation"),
    "training_attendance": _ENTITLEMENT.format(table="training_attendance"),
}
# (table, column, target): each becomes (column, office_code) → target (id, office_code)
_KEYS = [
    ("cases", "subject_family_id", "families"),
    ("cases", "created_family_id", "families"),
    ("verification_visits", "family_id", "families"),
    ("move_requests", "family_id", "families"),
    ("move_requests", "member_id", "members"),
    ("enrolment_overrides", "family_id", "families"),
    ("enrolment_overrides", "member_id", "members"),
    ("training_participation", "entitlement_id", "entitlements"),
    ("training_attendance", "entitlement_id", "entitlements"),
]
_NAMES = {
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
}


# SQLite's rebuild of ``members`` (a new table, the rows copied) loses the triggers that keep ``active_niks``
# (migration 0019): they are created again, as 0019 wrote them.
_SQLITE_TRIGGERS = [
    (
        "CREATE TRIGGER active_niks_insert AFTER INSERT ON members WHEN NEW.status = 'aktif' BEGIN "
        "INSERT INTO active_niks (nik, member_id, office_code) VALUES (NEW.nik, NEW.id, NEW.office_code); END"
    ),
    (
        "CREATE TRIGGER active_niks_update AFTER UPDATE OF nik, status, office_code ON members BEGIN "
        "DELETE FROM active_niks WHERE nik = OLD.nik AND member_id = OLD.id; "
        "INSERT INTO active_niks (nik, member_id, office_code) SELECT NEW.nik, NEW.id, NEW.office_code "
        "WHERE NEW.status = 'aktif'; END"
    ),
    (
        "CREATE TRIGGER active_niks_delete AFTER DELETE ON members BEGIN "
        "DELETE FROM active_niks WHERE nik = OLD.nik AND member_id = OLD.id; END"
    ),
]


def _rebuild_members(change: str) -> None:
    """On SQLite, ``change`` (``create`` or ``drop``) the (id, office) key by rebuilding ``members``, then its
    triggers again."""
    with op.batch_alter_table("members", naming_convention=_NAMES) as batch:
        if change == "create":
            batch.create_unique_constraint("uq_members_id_office_code", ["id", "office_code"])
        else:
            batch.drop_constraint("uq_members_id_office_code", type_="unique")
    for statement in _SQLITE_TRIGGERS:
        op.execute(statement)


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    if (
        _postgres()
    ):  # the partitioned members' primary key (id, office_code) becomes the key foreign keys name
        op.execute(
            "ALTER TABLE members DROP CONSTRAINT pk_members, "
            "ADD CONSTRAINT uq_members_id_office_code UNIQUE (id, office_code)"
        )
    else:
        _rebuild_members("create")
    for table, fill in _FILL.items():
        op.add_column(table, sa.Column("office_code", sa.String(5), nullable=True))
        op.execute(f"UPDATE {table} SET office_code = {fill}")
        with op.batch_alter_table(table, naming_convention=_NAMES) as batch:
            batch.alter_column("office_code", existing_type=sa.String(5), nullable=False)
            for source, column, target in _KEYS:
                if source != table:
                    continue
                name = f"fk_{table}_{column}_{target}"
                if not _postgres():  # PostgreSQL dropped these in 0019
                    batch.drop_constraint(name, type_="foreignkey")
                batch.create_foreign_key(
                    name, target, [column, "office_code"], ["id", "office_code"], onupdate="CASCADE"
                )


def downgrade() -> None:
    for table in reversed(list(_FILL)):
        with op.batch_alter_table(table, naming_convention=_NAMES) as batch:
            for source, column, target in _KEYS:
                if source != table:
                    continue
                name = f"fk_{table}_{column}_{target}"
                batch.drop_constraint(name, type_="foreignkey")
                if not _postgres():  # as 0019 left them: single-column on SQLite, none on PostgreSQL
                    batch.create_foreign_key(name, target, [column], ["id"])
            batch.drop_column("office_code")
    if _postgres():
        op.execute(
            "ALTER TABLE members DROP CONSTRAINT uq_members_id_office_code, "
            "ADD CONSTRAINT pk_members PRIMARY KEY (id, office_code)"
        )
    else:
        _rebuild_members("drop")
