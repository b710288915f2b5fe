"""Many rows into one table by the driver's fastest path: ``executemany`` on SQLite, ``COPY`` on PostgreSQL.

For bulk writes of rows already checked and shaped (a Polars frame whose columns are the table's): no
SQLAlchemy row objects, no per-row statements. The caller owns the transaction; values go to the driver as they
are, so dates for SQLite must already be the ISO text SQLAlchemy stores.
"""

from __future__ import annotations

import polars as pl
import sqlalchemy as sa

_SQLITE_CHUNK = 50_000  # rows per executemany: bounded memory for the row tuples


def insert_frame(conn: sa.Connection, table: str, frame: pl.DataFrame) -> None:
    """Insert every row of ``frame`` into ``table`` (columns by name)."""
    columns = ", ".join(frame.columns)
    raw = conn.connection.driver_connection
    if conn.dialect.name == "sqlite":
        sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join('?' for _ in frame.columns)})"
        for offset in range(0, frame.height, _SQLITE_CHUNK):
            raw.executemany(sql, frame.slice(offset, _SQLITE_CHUNK).rows())  # type: ignore[union-attr]
        return
    with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:  # type: ignore[union-attr]
        for row in frame.iter_rows():
            copy.write_row(row)
