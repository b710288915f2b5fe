"""Many rows into one table, or out of one query, by the driver's fastest path: ``executemany`` and ``fetchall``
on SQLite, ``COPY`` on PostgreSQL.

For bulk writes of rows already checked and shaped (a Polars frame whose columns are the table's) and bulk reads
into a frame: no SQLAlchemy row objects, no per-row statements. The caller owns the transaction; values go to
the driver as they are, so dates for SQLite must already be the ISO text SQLAlchemy stores.
"""

from __future__ import annotations

import io
from typing import Any

import polars as pl
import sqlalchemy as sa

_SQLITE_CHUNK = 50_000  # rows per executemany: bounded memory for the row tuples
_CSV_BLOCK = 200_000  # rows per CSV block written to COPY


# Types that survive Polars' CSV and PostgreSQL's COPY … (FORMAT csv) unchanged: Polars quotes an empty string
# (``""``, read back as an empty string) and leaves a null unquoted and empty (read back as NULL).
_CSV_FAITHFUL = (pl.String, pl.Boolean, pl.Date)


def insert_frame(conn: sa.Connection, table: str, frame: pl.DataFrame, *, csv: bool = False) -> None:
    """Insert every row of ``frame`` into ``table`` (columns by name).

    On SQLite through the driver's ``executemany``, dates as the ISO text SQLAlchemy stores and booleans as 0/1.
    On PostgreSQL a frame of numbers, text, booleans and dates, or any frame when the caller says ``csv`` (its
    text survives a CSV round trip), goes to ``COPY`` as CSV blocks written by Polars (the fastest path); any
    other frame row by row through the driver's ``write_row``, which adapts each value by its Python type.
    A constraint the rows break raises SQLAlchemy's ``IntegrityError``, as any other statement's would.
    """
    if frame.height == 0:
        return
    try:
        _insert(conn, table, frame, csv=csv)
    except conn.dialect.loaded_dbapi.IntegrityError as exc:  # the driver's own, raised past SQLAlchemy
        raise sa.exc.IntegrityError(f"INSERT INTO {table}", None, exc) from exc


def _insert(conn: sa.Connection, table: str, frame: pl.DataFrame, *, csv: bool) -> None:
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
        if csv or all(dtype.is_numeric() or dtype in _CSV_FAITHFUL for dtype in frame.dtypes):
            with cursor.copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT csv)") as copy:
                for start in range(0, frame.height, _CSV_BLOCK):
                    block = frame.slice(start, _CSV_BLOCK)
                    copy.write(block.write_csv(include_header=False, date_format="%Y-%m-%d"))
            return
        with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in frame.iter_rows():
                copy.write_row(row)


def read_frame(conn: sa.Connection, query: sa.Select[Any], schema: pl.Schema) -> pl.DataFrame:
    """The rows of ``query`` as a frame of ``schema`` (one entry per selected column, in order), in the caller's
    transaction: ``fetchall`` on SQLite's cursor, ``COPY (…) TO STDOUT`` as CSV read by Polars on PostgreSQL
    (about twice as fast as fetching a quarter of a million tuples). The query's parameters are rendered into its
    text (COPY takes none), so give it numbers and codes, never a person's input."""
    raw = conn.connection.driver_connection
    assert raw is not None  # a live connection has its driver's
    sql = str(query.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    if conn.dialect.name == "sqlite":
        cursor = raw.cursor()
        try:
            rows = cursor.execute(sql).fetchall()
        finally:
            cursor.close()
        return pl.DataFrame(rows, schema=schema, orient="row")
    with raw.cursor() as cursor, cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv)") as copy:
        data = b"".join(bytes(block) for block in copy)
    if not data:
        return pl.DataFrame(schema=schema)
    return pl.read_csv(io.BytesIO(data), has_header=False, new_columns=list(schema), schema=schema)


ANALYZE_AFTER = 10_000  # rows written: below this, fresh rows mislead no plan that matters


def refresh_statistics(conn: sa.Connection, *tables: str, rows: int | None = None) -> None:
    """PostgreSQL plans a join of freshly written rows as if the table were empty (nested loops over
    100,000 rows take minutes) until it is analysed; autovacuum is too late inside one transaction, and never
    analyses a partitioned table itself (``ANALYZE`` of one also refreshes its partitions).

    With ``rows`` (how many the caller wrote), only when they are ``ANALYZE_AFTER`` or more: a few fresh rows
    mislead no plan, and an ``ANALYZE`` per small write would cost more than it saves."""
    if rows is not None and rows < ANALYZE_AFTER:
        return
    if conn.dialect.name == "postgresql":
        for table in tables:
            conn.exec_driver_sql(f"ANALYZE {table}")
