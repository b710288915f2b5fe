"""Citus: the same schema spread over a cluster of PostgreSQL nodes, by office (docs/scaling.md, "The nation on
Citus").

* **Distributed** by ``office_code``, all co-located with ``families`` (an office's families, members,
  entitlements, payment lines … sit on one shard, so an office's work and its joins stay on one node): the tables
  PostgreSQL partitions by office (migration 0019).
* **Reference** (a copy on every node, so a distributed table may name them): the small tables the distributed
  ones name, and the ones those name in turn, with the accounts and offices.
* ``active_niks`` is distributed by NIK, in a group of its own (``OWN_KEY``).
* Every other table stays on the coordinator (a Citus local table); its foreign keys into distributed tables
  (``LOCAL_KEYS_DROPPED``), which PostgreSQL keeps, are dropped first: Citus has none from local tables.

``problems`` checks a database's schema against Citus's rules (it runs on plain PostgreSQL: this machine has no
Citus); ``statements`` are what ``distribute`` runs when the ``citus`` extension is installed (``tepat init``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa

DISTRIBUTION_COLUMN = "office_code"
DISTRIBUTED = (  # in the order they are distributed: each after the tables its foreign keys name
    "families",
    "family_versions",
    "members",
    "member_versions",
    "family_scores",
    "entitlements",
    "payments",
    "payment_result_lines",
    "audit_log",
)
# Distributed by a key of their own, in a co-location group of their own: the NIK-keyed active-NIK table (one row
# per active person, too large to copy to every node; its key is the rule it keeps).
OWN_KEY = {"active_niks": "nik"}
REFERENCE = (  # likewise
    "regions",
    "offices",
    "users",
    "programmes",
    "pmt_models",
    "benefit_cycles",
    "payment_batches",
)


# Foreign keys of coordinator tables into distributed ones, by (id, office): they hold on PostgreSQL, but Citus has
# no foreign key from a local table to a distributed one, so ``statements`` drop them first.
LOCAL_KEYS_DROPPED = (
    ("cases", "fk_cases_subject_family_id_families"),
    ("cases", "fk_cases_created_family_id_families"),
    ("verification_visits", "fk_verification_visits_family_id_families"),
    ("move_requests", "fk_move_requests_family_id_families"),
    ("move_requests", "fk_move_requests_member_id_members"),
    ("enrolment_overrides", "fk_enrolment_overrides_family_id_families"),
    ("enrolment_overrides", "fk_enrolment_overrides_member_id_members"),
    ("training_participation", "fk_training_participation_entitlement_id_entitlements"),
    ("training_attendance", "fk_training_attendance_entitlement_id_entitlements"),
)


@dataclass(frozen=True)
class Step:
    """One statement of ``steps``, and the table it spreads over the cluster (``""``: a key dropped)."""

    sql: str
    spreads: str = ""


def steps() -> list[Step]:
    """What makes an (already migrated) database a Citus cluster's: the coordinator tables' keys into distributed
    ones dropped, reference tables, then the distributed ones, co-located with ``families``."""
    out = [Step(f"ALTER TABLE {t} DROP CONSTRAINT IF EXISTS {name}") for t, name in LOCAL_KEYS_DROPPED]
    out += [Step(f"SELECT create_reference_table('{t}')", t) for t in REFERENCE]
    out.append(
        Step(f"SELECT create_distributed_table('{DISTRIBUTED[0]}', '{DISTRIBUTION_COLUMN}')", DISTRIBUTED[0])
    )
    out += [
        Step(
            f"SELECT create_distributed_table('{t}', '{DISTRIBUTION_COLUMN}', colocate_with => '{DISTRIBUTED[0]}')",
            t,
        )
        for t in DISTRIBUTED[1:]
    ]
    out += [
        Step(f"SELECT create_distributed_table('{t}', '{c}', colocate_with => 'none')", t)
        for t, c in OWN_KEY.items()
    ]
    return out


def statements() -> list[str]:
    """The SQL of ``steps``, in order (docs/scaling.md shows it)."""
    return [step.sql for step in steps()]


def available(conn: sa.Connection) -> bool:
    """Whether the ``citus`` extension is installed in this database."""
    if conn.dialect.name != "postgresql":
        return False
    return bool(
        conn.exec_driver_sql("SELECT count(*) FROM pg_extension WHERE extname = 'citus'").scalar_one()
    )


def distribute(conn: sa.Connection) -> list[str]:
    """With Citus installed, run ``steps`` but those of tables already spread; the tables spread now."""
    if not available(conn):
        return []
    done = set(conn.exec_driver_sql("SELECT logicalrelid::regclass::text FROM pg_dist_partition").scalars())
    spread = []
    for step in steps():
        if step.spreads not in done:
            conn.exec_driver_sql(step.sql)
            if step.spreads:
                spread.append(step.spreads)
    return spread


@dataclass(frozen=True)
class _Key:
    table: str
    columns: tuple[str, ...]


@dataclass(frozen=True)
class _ForeignKey:
    name: str
    table: str
    columns: tuple[str, ...]
    target: str
    target_columns: tuple[str, ...]


def problems(conn: sa.Connection) -> list[str]:
    """What would stop Citus from distributing this database as ``statements`` say (empty: nothing), read from
    PostgreSQL's catalogue:

    1. every distributed table has a ``NOT NULL`` ``office_code``;
    2. every primary key, unique constraint and unique index of a distributed table includes it;
    3. a foreign key between distributed tables includes it on both sides, at the same place;
    4. a distributed table names only distributed or reference tables; a reference table only reference tables;
       no other table names a distributed one.
    """
    found = [f"{t}: tidak ada" for t in (*DISTRIBUTED, *OWN_KEY, *REFERENCE) if not _exists(conn, t)]
    for table in DISTRIBUTED:
        if _exists(conn, table) and not _office_not_null(conn, table):
            found.append(f"{table}: kolom {DISTRIBUTION_COLUMN} tidak ada atau boleh kosong")
    for key in _unique_keys(conn):
        column = DISTRIBUTION_COLUMN if key.table in DISTRIBUTED else OWN_KEY.get(key.table)
        if column and column not in key.columns:
            found.append(f"{key.table}: kunci unik ({', '.join(key.columns)}) tanpa {column}")
    dropped = set(LOCAL_KEYS_DROPPED)
    for fk in _foreign_keys(conn):
        if (fk.table, fk.name) not in dropped:
            found += _foreign_key_problems(fk)
    return found


def _kind(table: str) -> str:
    if table in DISTRIBUTED:
        return "distributed"
    return "own" if table in OWN_KEY else "reference" if table in REFERENCE else "local"


def _foreign_key_problems(fk: _ForeignKey) -> list[str]:
    source, target = _kind(fk.table), _kind(fk.target)
    where = f"{fk.table}.{fk.name} → {fk.target}"
    if target == "own" or (source == "own" and target != "reference"):
        return [f"{where}: {fk.target if target == 'own' else fk.table} tersebar menurut kuncinya sendiri"]
    if target == "distributed" and source != "distributed":
        return [f"{where}: tabel {source} tidak boleh merujuk tabel terdistribusi"]
    if source == "distributed" and target == "local":
        return [f"{where}: tabel terdistribusi hanya boleh merujuk tabel terdistribusi atau referensi"]
    if source == "reference" and target != "reference":
        return [f"{where}: tabel referensi hanya boleh merujuk tabel referensi"]
    if source == target == "distributed":
        column = DISTRIBUTION_COLUMN
        if column not in fk.columns or column not in fk.target_columns:
            return [f"{where}: kunci asing tanpa {column} di kedua sisi"]
        if fk.columns.index(column) != fk.target_columns.index(column):
            return [f"{where}: {column} tidak di tempat yang sama di kedua sisi"]
    return []


def _exists(conn: sa.Connection, table: str) -> bool:
    return bool(conn.execute(sa.text("SELECT to_regclass(:t) IS NOT NULL"), {"t": table}).scalar_one())


def _office_not_null(conn: sa.Connection, table: str) -> bool:
    return bool(
        conn.execute(
            sa.text(
                "SELECT count(*) FROM information_schema.columns WHERE table_schema = current_schema() "
                "AND table_name = :t AND column_name = :c AND is_nullable = 'NO'"
            ),
            {"t": table, "c": DISTRIBUTION_COLUMN},
        ).scalar_one()
    )


def _columns(conn: sa.Connection, table_oid: int, numbers: Iterable[int]) -> tuple[str, ...]:
    names: dict[int, str] = dict(
        conn.execute(
            sa.text("SELECT attnum, attname FROM pg_attribute WHERE attrelid = :t AND attnum > 0"),
            {"t": table_oid},
        ).all()
    )
    return tuple(names[n] for n in numbers)


def _top_tables(conn: sa.Connection) -> dict[int, str]:
    """The schema's tables that are not partitions of another (a partition is its parent's business)."""
    rows = conn.exec_driver_sql(
        "SELECT c.oid, c.relname FROM pg_class c WHERE c.relnamespace = CAST(current_schema() AS regnamespace) "
        "AND c.relkind IN ('r', 'p') AND NOT c.relispartition"
    ).all()
    return {int(oid): str(name) for oid, name in rows}


def _unique_keys(conn: sa.Connection) -> list[_Key]:
    tables = _top_tables(conn)
    rows = conn.exec_driver_sql("SELECT indrelid, indkey::int2[] FROM pg_index WHERE indisunique").all()
    return [
        _Key(tables[oid], _columns(conn, oid, [n for n in key if n > 0]))
        for oid, key in rows
        if oid in tables
    ]


def _foreign_keys(conn: sa.Connection) -> list[_ForeignKey]:
    tables = _top_tables(conn)
    rows = conn.exec_driver_sql(
        "SELECT conname, conrelid, conkey, confrelid, confkey FROM pg_constraint WHERE contype = 'f' "
        "AND conparentid = 0"
    ).all()
    return [
        _ForeignKey(name, tables[src], _columns(conn, src, cols), tables[dst], _columns(conn, dst, dcols))
        for name, src, cols, dst, dcols in rows
        if src in tables and dst in tables
    ]
