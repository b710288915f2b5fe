"""Many rows into one table by the driver's fastest path: ``executemany`` on SQLite, ``COPY`` on PostgreSQL.

For bulk writes of rows already checked and shaped (a Polars frame whose columns are the table's): no
SQLAlchemy row objects, no per-row statements. The caller owns the transaction; values go to the driver as they
are, so dates for SQLite must already be the ISO text SQLAlchemy stores.
"""

from __future__ import annotations

import polars as pl
import sqlalchemy as sa

_SQLITE_CHUNK = 50_000  # rows per executemany: bounded memory for the row tuples
_CSV_BLOCK = 200_000  # rows per CSV block written to COPY


def insert_frame(conn: sa.Connection, table: str, frame: pl.DataFrame) -> None:
    """Insert every row of ``frame`` into ``table`` (columns by name).

    On PostgreSQL a frame of numbers only goes to ``COPY`` as CSV blocks written by
    Polars (the fastest path, and numbers raise no quoting question: an empty field
    is NULL); any other frame row by row through the driver's ``write_row``, which
    adapts each value by its Python type.
    """
    if frame.height == 0:
        return
    columns = ", ".join(frame.columns)
    raw = conn.connection.driver_connection
    assert raw is not None  # a live connection has its driver's
    if conn.dialect.name == "sqlite":
        sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join('?' for _ in frame.columns)})"
        for offset in range(0, frame.height, _SQLITE_CHUNK):
            raw.executemany(sql, frame.slice(offset, _SQLITE_CHUNK).rows())
        return
    with raw.cursor() as cursor:
        if all(dtype.is_numeric() for dtype in frame.dtypes):
            with cursor.copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT csv)") as copy:
                for start in range(0, frame.height, _CSV_BLOCK):
                    copy.write(frame.slice(start, _CSV_BLOCK).write_csv(include_header=False))
            return
        with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in frame.iter_rows():
                copy.write_row(row)
