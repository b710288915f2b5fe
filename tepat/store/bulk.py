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


def insert_frame(conn: sa.Connection, table: str, frame: pl.DataFrame, *, csv: bool = False) -> None:
    """Insert every row of ``frame`` into ``table`` (columns by name).

    On SQLite through the driver's ``executemany``, dates as the ISO text SQLAlchemy stores and booleans as 0/1.
    On PostgreSQL a frame of numbers only, or any frame when the caller says ``csv`` (its text survives a CSV
    round trip: an empty field is NULL), goes to ``COPY`` as CSV blocks written by Polars (the fastest path);
    any other frame row by row through the driver's ``write_row``, which adapts each value by its Python type.
    """
    if frame.height == 0:
        return
    columns = ", ".join(frame.columns)
    raw = conn.connection.driver_connection
    assert raw is not None  # a live connection has its driver's
    if conn.dialect.name == "sqlite":
        native = frame.with_columns(
            *(pl.col(c).cast(pl.String) for c, t in frame.schema.items() if t == pl.Date),
            *(pl.col(c).cast(pl.Int8) for c, t in frame.schema.items() if t == pl.Boolean),
        )
        sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join('?' for _ in frame.columns)})"
        for offset in range(0, native.height, _SQLITE_CHUNK):
            raw.executemany(sql, native.slice(offset, _SQLITE_CHUNK).rows())
        return
    with raw.cursor() as cursor:
        if csv or all(dtype.is_numeric() for dtype in frame.dtypes):
            with cursor.copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT csv)") as copy:
                for start in range(0, frame.height, _CSV_BLOCK):
                    block = frame.slice(start, _CSV_BLOCK)
                    copy.write(block.write_csv(include_header=False, date_format="%Y-%m-%d"))
            return
        with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in frame.iter_rows():
                copy.write_row(row)
