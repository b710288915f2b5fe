"""PostgreSQL's partitions of the large tables: one per office, by ``office_code`` (LIST).

Migration 0019 declares families, members, their versions, scores, entitlements, payment lines, the payments
ledger and the audit log ``PARTITION BY LIST (office_code)``. An office added later (``tepat init --office``) gets
its partition of each here, in the transaction that records the office. SQLite has no partitions: nothing to do.
docs/scaling.md tells the layout, and why.
"""

from __future__ import annotations

import re

import sqlalchemy as sa

from tepat.store.schema import metadata

_OFFICE_CODE = re.compile(r"^\d{2}\.\d{2}$")


def partition_name(table: str, office_code: str) -> str:
    """``families_32_75``: the partition of ``table`` that holds office ``office_code``'s rows."""
    return f"{table}_{office_code.replace('.', '_')}"


def partitioned_tables(conn: sa.Connection) -> list[str]:
    """The tables of this database that are partitioned (none on SQLite)."""
    if conn.dialect.name != "postgresql":
        return []
    return list(
        conn.execute(
            sa.text(
                "SELECT c.relname FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid "
                "WHERE c.relnamespace = CAST(current_schema() AS regnamespace) ORDER BY c.relname"
            )
        ).scalars()
    )


def add_office(conn: sa.Connection, office_code: str) -> list[str]:
    """Create office ``office_code``'s partition of every partitioned table that lacks one; the names created.

    A table with a default partition (the audit log's ``audit_log_other``) may hold rows of the office already:
    they are moved into the new partition (PostgreSQL refuses a partition whose rows its default one holds).
    """
    if not _OFFICE_CODE.match(office_code):
        raise ValueError(f"bukan kode kabupaten/kota: {office_code!r}")
    created = []
    for table in partitioned_tables(conn):
        name = partition_name(table, office_code)
        if _exists(conn, name):
            continue
        default = _default_partition(conn, table)
        if default:
            conn.exec_driver_sql(f"ALTER TABLE {table} DETACH PARTITION {default}")
        conn.exec_driver_sql(
            f"CREATE TABLE {name} PARTITION OF {table} FOR VALUES IN ('{office_code}'){_options(table)}"
        )
        if default:
            conn.exec_driver_sql(
                f"INSERT INTO {table} SELECT * FROM {default} WHERE office_code = '{office_code}'"
            )
            conn.exec_driver_sql(f"DELETE FROM {default} WHERE office_code = '{office_code}'")
            conn.exec_driver_sql(f"ALTER TABLE {table} ATTACH PARTITION {default} DEFAULT")
        created.append(name)
    return created


def _exists(conn: sa.Connection, name: str) -> bool:
    return bool(conn.execute(sa.text("SELECT to_regclass(:n) IS NOT NULL"), {"n": name}).scalar_one())


def _default_partition(conn: sa.Connection, table: str) -> str | None:
    return conn.execute(
        sa.text(
            "SELECT c.relname FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partdefid "
            "WHERE p.partrelid = CAST(:t AS regclass)"
        ),
        {"t": table},
    ).scalar_one_or_none()


def _options(table: str) -> str:
    """The table's storage options as ``schema`` declares them (``fillfactor`` of entitlements and payments),
    as ``WITH (…)``: a partitioned table has none of its own, each partition has them."""
    found = metadata.tables[table].kwargs.get("postgresql_with") if table in metadata.tables else None
    return f" WITH ({', '.join(f'{k}={v}' for k, v in found.items())})" if found else ""
