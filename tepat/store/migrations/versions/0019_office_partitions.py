"""office partitions: every large table carries its office; on PostgreSQL it is partitioned by it (issue 17)

* ``office_code`` (the kabupaten/kota, ``32.75``) on families, members, their versions, scores, entitlements,
  payment lines, the payments ledger and the audit log, filled from the rows themselves (a family's kelurahan, a
  member's family, a ledger row's payment line, an audit entry's area; ``""`` for an entry of no single office),
  then ``NOT NULL``. Families, entitlements and payment lines hold it equal to their kelurahan's office (a check).
* Every unique key of those tables includes it; members name their family, and payment lines their entitlement,
  by (id, office), so a row and what it names live in one office (one partition, one Citus shard).
* ``active_niks``: "a NIK is active in only one member", across all offices, as a table keyed by NIK that the
  database's own triggers on ``members`` keep (it replaces the partial unique index ``uq_members_active_nik``).
* PostgreSQL only: the nine tables are rebuilt as ``PARTITION BY LIST (office_code)``, one partition per office
  (``families_32_75``; the audit log also a default one, ``audit_log_other``), their rows copied. A
  unique key of a partitioned table must include the partition key, so each table's primary key becomes its old
  key plus ``office_code`` (families and entitlements keep only the (id, office) key the foreign keys name), and
  the foreign keys of other tables into these (cases, move requests, verification visits, enrolment overrides,
  training, duplicate pairs, merges: single-column) are dropped there; SQLite keeps them. docs/scaling.md.

The whole migration is one transaction on both databases (DDL is transactional on PostgreSQL and SQLite): an
interrupted run leaves the database at 0018, and running it again completes it. The downgrade rebuilds the plain
tables, restores the dropped foreign keys, and drops what this adds.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05 11:30:00
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

# The tables this migration partitions, in the order they are filled (members read their family's office) with
# the expression that fills office_code, and their primary key before it.
_FAMILY_OFFICE = "(SELECT f.office_code FROM families f WHERE f.id = {table}.family_id)"
_FILL = {
    "families": "substr(kelurahan_code, 1, 5)",
    "family_versions": "substr(kelurahan_code, 1, 5)",
    "members": _FAMILY_OFFICE.format(table="members"),
    "member_versions": _FAMILY_OFFICE.format(table="member_versions"),
    "family_scores": _FAMILY_OFFICE.format(table="family_scores"),
    "entitlements": "substr(kelurahan_code, 1, 5)",
    "payments": "substr(kelurahan_code, 1, 5)",
    "payment_result_lines": (
        "COALESCE((SELECT p.office_code FROM payments p WHERE p.id = payment_result_lines.payment_id), "
        "(SELECT p.office_code FROM payments p JOIN payment_result_imports i ON i.batch_id = p.batch_id "
        "WHERE i.id = payment_result_lines.import_id LIMIT 1), '')"
    ),
    "audit_log": "CASE WHEN area_code LIKE '__.__%' THEN substr(area_code, 1, 5) ELSE '' END",
}
_PRIMARY_KEY = {
    "families": ["id"],
    "family_versions": ["id", "version"],
    "members": ["id"],
    "member_versions": ["id", "version"],
    "family_scores": ["model_id", "family_id"],
    "entitlements": ["id"],
    "payments": ["id"],
    "payment_result_lines": ["id"],
    "audit_log": ["id"],
}
_KEYED_BY_ID_AND_OFFICE = {
    "families",
    "entitlements",
}  # their (id, office_code) key is what foreign keys name
# The audit log also has a default partition, ``audit_log_other``: entries of no office ("") and of an area no
# office of this database holds. Nothing names an audit row, so adding an office can move its rows out of it.
_WITH_DEFAULT = "audit_log"

# Single-column foreign keys of other tables into the partitioned ones: dropped on PostgreSQL (they cannot name
# a partitioned table without its partition key), restored by the downgrade.
_OUTSIDE_KEYS = [
    ("move_requests", "family_id", "families"),
    ("move_requests", "member_id", "members"),
    ("cases", "subject_family_id", "families"),
    ("cases", "created_family_id", "families"),
    ("verification_visits", "family_id", "families"),
    ("enrolment_overrides", "family_id", "families"),
    ("enrolment_overrides", "member_id", "members"),
    ("training_participation", "entitlement_id", "entitlements"),
    ("training_attendance", "entitlement_id", "entitlements"),
    ("duplicate_pairs", "member_l", "members"),
    ("duplicate_pairs", "member_r", "members"),
    ("member_merges", "survivor_id", "members"),
    ("member_merges", "merged_id", "members"),
]

_NAMES = {
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
}

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

# On PostgreSQL one statement-level trigger per kind of change, reading the statement's changed rows at once
# (transition tables): an import of a million members is one INSERT … SELECT here, not a million calls.
_CHANGED = "(n.nik, n.status, n.office_code) IS DISTINCT FROM (o.nik, o.status, o.office_code)"
_PG_TRIGGERS = [
    (
        "CREATE FUNCTION active_niks_inserted() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "INSERT INTO active_niks (nik, member_id, office_code) "
        "SELECT nik, id, office_code FROM new_members WHERE status = 'aktif'; RETURN NULL; END $$"
    ),
    (
        "CREATE FUNCTION active_niks_updated() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "DELETE FROM active_niks a USING old_members o JOIN new_members n ON n.id = o.id "
        f"WHERE a.nik = o.nik AND a.member_id = o.id AND {_CHANGED}; "
        "INSERT INTO active_niks (nik, member_id, office_code) SELECT n.nik, n.id, n.office_code "
        f"FROM new_members n JOIN old_members o ON o.id = n.id WHERE n.status = 'aktif' AND {_CHANGED}; "
        "RETURN NULL; END $$"
    ),
    (
        "CREATE FUNCTION active_niks_deleted() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "DELETE FROM active_niks a USING old_members o WHERE a.nik = o.nik AND a.member_id = o.id; "
        "RETURN NULL; END $$"
    ),
    (
        "CREATE TRIGGER active_niks_insert AFTER INSERT ON members REFERENCING NEW TABLE AS new_members "
        "FOR EACH STATEMENT EXECUTE FUNCTION active_niks_inserted()"
    ),
    (
        "CREATE TRIGGER active_niks_update AFTER UPDATE ON members "
        "REFERENCING OLD TABLE AS old_members NEW TABLE AS new_members "
        "FOR EACH STATEMENT EXECUTE FUNCTION active_niks_updated()"
    ),
    (
        "CREATE TRIGGER active_niks_delete AFTER DELETE ON members REFERENCING OLD TABLE AS old_members "
        "FOR EACH STATEMENT EXECUTE FUNCTION active_niks_deleted()"
    ),
]


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    # SQLite cannot copy the generated ``payments.live`` when it rebuilds a table: it is dropped and added again.
    live_apart = not _postgres()
    if live_apart:
        op.drop_index("uq_payments_live_entitlement", table_name="payments")
        with op.batch_alter_table("payments", recreate="always") as batch:
            batch.drop_column("live")
    for table, fill in _FILL.items():
        op.add_column(table, sa.Column("office_code", sa.String(5), nullable=True))
        op.execute(f"UPDATE {table} SET office_code = {fill}")
        with op.batch_alter_table(table, naming_convention=_NAMES) as batch:
            batch.alter_column("office_code", existing_type=sa.String(5), nullable=False)
    _keys_with_office(live_apart)
    op.create_table(
        "active_niks",
        sa.Column("nik", sa.String(16), primary_key=True),
        sa.Column("member_id", sa.Integer, nullable=False),
        sa.Column("office_code", sa.String(5), nullable=False),
        sa.PrimaryKeyConstraint("nik", name="pk_active_niks"),
    )
    op.execute(
        "INSERT INTO active_niks (nik, member_id, office_code) "
        "SELECT nik, id, office_code FROM members WHERE status = 'aktif'"
    )
    if _postgres():
        _partition_all()
        for statement in _PG_TRIGGERS:
            op.execute(statement)
    else:
        for statement in _SQLITE_TRIGGERS:
            op.execute(statement)


def _live() -> sa.Column[bool]:
    return sa.Column(
        "live", sa.Boolean(), sa.Computed("state IN ('dikirim', 'dibayar')", persisted=True), nullable=False
    )


def _keys_with_office(live_apart: bool) -> None:
    """Checks, unique keys and foreign keys with ``office_code`` (on SQLite by rebuilding each table)."""
    with op.batch_alter_table("families", naming_convention=_NAMES) as batch:
        batch.create_check_constraint(
            op.f("ck_families_office"), "office_code = substr(kelurahan_code, 1, 5)"
        )
        batch.create_unique_constraint("uq_families_id_office_code", ["id", "office_code"])
        batch.drop_index("uq_families_active_kk")
        batch.create_index(
            "uq_families_active_kk",
            ["kk_number", "office_code"],
            unique=True,
            sqlite_where=sa.text("registry_status = 'aktif'"),
            postgresql_where=sa.text("registry_status = 'aktif'"),
        )
    with op.batch_alter_table("members", naming_convention=_NAMES) as batch:
        batch.drop_index("uq_members_active_nik")
        batch.drop_constraint("fk_members_family_id_families", type_="foreignkey")
        batch.create_foreign_key(
            "fk_members_family_id_families",
            "families",
            ["family_id", "office_code"],
            ["id", "office_code"],
            onupdate="CASCADE",
        )
    with op.batch_alter_table("entitlements", naming_convention=_NAMES) as batch:
        batch.create_check_constraint(
            op.f("ck_entitlements_office"), "office_code = substr(kelurahan_code, 1, 5)"
        )
        batch.create_unique_constraint("uq_entitlements_id_office_code", ["id", "office_code"])
        batch.drop_constraint("uq_entitlements_cycle_unit", type_="unique")
        batch.create_unique_constraint("uq_entitlements_cycle_unit", ["cycle_id", "unit_key", "office_code"])
    with op.batch_alter_table("payments", naming_convention=_NAMES) as batch:
        batch.create_check_constraint(
            op.f("ck_payments_office"), "office_code = substr(kelurahan_code, 1, 5)"
        )
        batch.drop_constraint("fk_payments_entitlement_id_entitlements", type_="foreignkey")
        batch.create_foreign_key(
            "fk_payments_entitlement_id_entitlements",
            "entitlements",
            ["entitlement_id", "office_code"],
            ["id", "office_code"],
        )
        batch.drop_constraint("uq_payments_reference", type_="unique")
        batch.create_unique_constraint("uq_payments_reference_office_code", ["reference", "office_code"])
        if live_apart:
            batch.add_column(_live())
        else:
            batch.drop_index("uq_payments_live_entitlement")
    op.create_index(
        "uq_payments_live_entitlement",
        "payments",
        ["entitlement_id", "office_code"],
        unique=True,
        sqlite_where=sa.text("live"),
        postgresql_where=sa.text("live"),
    )
    with op.batch_alter_table("payment_result_lines", naming_convention=_NAMES) as batch:
        batch.drop_index("uq_payment_result_lines_paid_once")
        batch.create_index(
            "uq_payment_result_lines_paid_once",
            ["entitlement_id", "office_code"],
            unique=True,
            sqlite_where=sa.text("paid_open IS 1"),
            postgresql_where=sa.text("paid_open IS true"),
        )


# ---------------------------------------------------------------- PostgreSQL: partitions


def _rows(sql: str, **params: object) -> list[Any]:
    return list(op.get_bind().execute(sa.text(sql), params))


def _definitions(table: str) -> tuple[list[str], list[str], list[str]]:
    """The table's unique and foreign-key constraints (``ALTER TABLE`` clauses; not those PostgreSQL derives for a
    foreign key into a partitioned table, one per partition) and its other indexes (``CREATE INDEX`` statements),
    read from the catalogue before the table is rebuilt."""
    keys = _rows(
        "SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = CAST(:t AS regclass) AND contype IN ('u', 'f') AND conparentid = 0 ORDER BY conname",
        t=table,
    )
    uniques = [f'ADD CONSTRAINT "{name}" {definition}' for name, kind, definition in keys if kind == "u"]
    foreign = [f'ADD CONSTRAINT "{name}" {definition}' for name, kind, definition in keys if kind == "f"]
    indexes = _rows(
        "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i WHERE i.indrelid = CAST(:t AS regclass) "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid "
        "AND c.conrelid = i.indrelid AND c.contype IN ('p', 'u')) ORDER BY 1",
        t=table,
    )
    return uniques, foreign, [str(d).replace(" ON ONLY ", " ON ") for (d,) in indexes]


def _rebuild(table: str, *, partitioned: bool) -> None:
    """Rebuild ``table`` as a partitioned table (one partition per office) or back as a plain one; its rows,
    defaults, generated columns, checks and id sequence carried over. Keys and indexes are added by the caller."""
    sequence = _rows("SELECT pg_get_serial_sequence(:t, 'id')", t=table)[0][0] if _has_id(table) else None
    columns = ", ".join(
        name
        for (name,) in _rows(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name = :t AND is_generated = 'NEVER' ORDER BY ordinal_position",
            t=table,
        )
    )
    options = _storage_options(table)
    if sequence:
        op.execute(f"ALTER SEQUENCE {sequence} OWNED BY NONE")
    like = f"(LIKE {table} INCLUDING DEFAULTS INCLUDING GENERATED INCLUDING CONSTRAINTS)"
    if partitioned:
        op.execute(f"CREATE TABLE {table}__new {like} PARTITION BY LIST (office_code)")
        codes = {c for (c,) in _rows("SELECT code FROM offices")}
        if table == _WITH_DEFAULT:
            op.execute(f"CREATE TABLE {table}_other PARTITION OF {table}__new DEFAULT")
        else:
            codes |= {c for (c,) in _rows(f"SELECT DISTINCT office_code FROM {table}")}
        for code in sorted(codes):
            op.execute(
                f"CREATE TABLE {table}_{code.replace('.', '_')} PARTITION OF {table}__new "
                f"FOR VALUES IN ('{code}'){options}"
            )
    else:
        op.execute(f"CREATE TABLE {table}__new {like}{options}")
    op.execute(f"INSERT INTO {table}__new ({columns}) SELECT {columns} FROM {table}")
    op.execute(f"DROP TABLE {table} CASCADE")
    op.execute(f"ALTER TABLE {table}__new RENAME TO {table}")
    if sequence:
        op.execute(f"ALTER SEQUENCE {sequence} OWNED BY {table}.id")


def _has_id(table: str) -> bool:
    return "id" in _PRIMARY_KEY[table]


def _storage_options(table: str) -> str:
    """``WITH (fillfactor=50)`` as the table (or, partitioned, its partitions) has it, else ``""``."""
    found = _rows(
        "SELECT c.reloptions FROM pg_class c WHERE c.oid = CAST(:t AS regclass) AND c.reloptions IS NOT NULL "
        "UNION ALL SELECT p.reloptions FROM pg_inherits h JOIN pg_class p ON p.oid = h.inhrelid "
        "WHERE h.inhparent = CAST(:t AS regclass) AND p.reloptions IS NOT NULL LIMIT 1",
        t=table,
    )
    return f" WITH ({', '.join(found[0][0])})" if found else ""


def _partition_all() -> None:
    read = {table: _definitions(table) for table in _FILL}
    for table, column, target in _OUTSIDE_KEYS:
        op.execute(f'ALTER TABLE {table} DROP CONSTRAINT "fk_{table}_{column}_{target}"')
    for table in _FILL:
        _rebuild(table, partitioned=True)
    for table, (uniques, foreign, indexes) in read.items():
        key = [*_PRIMARY_KEY[table], "office_code"]
        clauses = list(uniques)
        if table not in _KEYED_BY_ID_AND_OFFICE:
            clauses.insert(0, f"ADD CONSTRAINT pk_{table} PRIMARY KEY ({', '.join(key)})")
        if clauses:
            op.execute(f"ALTER TABLE {table} " + ", ".join(clauses))
        for statement in indexes:
            op.execute(statement)
        read[table] = ([], foreign, [])
    for table, (_, foreign, _) in read.items():  # after every key they may name exists
        for clause in foreign:
            op.execute(f"ALTER TABLE {table} {clause}")


def _unpartition_all() -> None:
    read = {table: _definitions(table) for table in _FILL}
    for table in _FILL:
        _rebuild(table, partitioned=False)
    for table, (uniques, _, indexes) in read.items():
        key = ", ".join(_PRIMARY_KEY[table])
        op.execute(
            f"ALTER TABLE {table} " + ", ".join([f"ADD CONSTRAINT pk_{table} PRIMARY KEY ({key})", *uniques])
        )
        for statement in indexes:
            op.execute(statement)
    for table, (_, foreign, _) in read.items():
        for clause in foreign:
            op.execute(f"ALTER TABLE {table} {clause}")
    for table, column, target in _OUTSIDE_KEYS:
        op.execute(
            f'ALTER TABLE {table} ADD CONSTRAINT "fk_{table}_{column}_{target}" '
            f"FOREIGN KEY ({column}) REFERENCES {target} (id)"
        )


# ---------------------------------------------------------------- downgrade


def downgrade() -> None:
    if _postgres():
        op.execute("DROP TRIGGER active_niks_insert ON members")
        op.execute("DROP TRIGGER active_niks_update ON members")
        op.execute("DROP TRIGGER active_niks_delete ON members")
        for name in ("active_niks_inserted", "active_niks_updated", "active_niks_deleted"):
            op.execute(f"DROP FUNCTION {name}()")
        _unpartition_all()
    else:
        for name in ("active_niks_insert", "active_niks_update", "active_niks_delete"):
            op.execute(f"DROP TRIGGER {name}")
    op.drop_table("active_niks")
    with op.batch_alter_table("payment_result_lines", naming_convention=_NAMES) as batch:
        batch.drop_index("uq_payment_result_lines_paid_once")
        batch.create_index(
            "uq_payment_result_lines_paid_once",
            ["entitlement_id"],
            unique=True,
            sqlite_where=sa.text("paid_open IS 1"),
            postgresql_where=sa.text("paid_open IS true"),
        )
    live_apart = not _postgres()
    op.drop_index("uq_payments_live_entitlement", table_name="payments")
    if live_apart:
        with op.batch_alter_table("payments", recreate="always") as batch:
            batch.drop_column("live")
    with op.batch_alter_table("payments", naming_convention=_NAMES) as batch:
        if live_apart:
            batch.add_column(_live())
        batch.drop_constraint("uq_payments_reference_office_code", type_="unique")
        batch.create_unique_constraint("uq_payments_reference", ["reference"])
        batch.drop_constraint("fk_payments_entitlement_id_entitlements", type_="foreignkey")
        batch.create_foreign_key(
            "fk_payments_entitlement_id_entitlements", "entitlements", ["entitlement_id"], ["id"]
        )
        batch.drop_constraint(op.f("ck_payments_office"), type_="check")
        batch.drop_column("office_code")
    op.create_index(
        "uq_payments_live_entitlement",
        "payments",
        ["entitlement_id"],
        unique=True,
        sqlite_where=sa.text("live"),
        postgresql_where=sa.text("live"),
    )
    with op.batch_alter_table("entitlements", naming_convention=_NAMES) as batch:
        batch.drop_constraint("uq_entitlements_cycle_unit", type_="unique")
        batch.create_unique_constraint("uq_entitlements_cycle_unit", ["cycle_id", "unit_key"])
        batch.drop_constraint("uq_entitlements_id_office_code", type_="unique")
        batch.drop_constraint(op.f("ck_entitlements_office"), type_="check")
    with op.batch_alter_table("members", naming_convention=_NAMES) as batch:
        batch.drop_constraint("fk_members_family_id_families", type_="foreignkey")
        batch.create_foreign_key("fk_members_family_id_families", "families", ["family_id"], ["id"])
        batch.create_index(
            "uq_members_active_nik",
            ["nik"],
            unique=True,
            sqlite_where=sa.text("status = 'aktif'"),
            postgresql_where=sa.text("status = 'aktif'"),
        )
    with op.batch_alter_table("families", naming_convention=_NAMES) as batch:
        batch.drop_index("uq_families_active_kk")
        batch.create_index(
            "uq_families_active_kk",
            ["kk_number"],
            unique=True,
            sqlite_where=sa.text("registry_status = 'aktif'"),
            postgresql_where=sa.text("registry_status = 'aktif'"),
        )
        batch.drop_constraint("uq_families_id_office_code", type_="unique")
        batch.drop_constraint(op.f("ck_families_office"), type_="check")
    for table in reversed([t for t in _FILL if t != "payments"]):
        with op.batch_alter_table(table, naming_convention=_NAMES) as batch:
            batch.drop_column("office_code")
