"""The one way tepat runs its hottest reads: a Core SELECT compiled once per dialect, run on the driver's cursor.

For the NIK lookup and the public status check, SQLAlchemy's per-execution work
(execution context, result metadata, row objects) costs more than the indexed
query itself. ``CompiledQuery`` runs the same SQL text on the DBAPI cursor (so
SQLite reuses its prepared statement and psycopg prepares it on the server after
a few runs) and converts the values with the column types' own result
processors, so rows come back exactly as through Core. ``read_rows`` runs one on
a connection of the database's lookup pool (``Database.lookups``), outside any
transaction: a single SELECT sees one consistent snapshot by itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

if TYPE_CHECKING:
    from tepat.store.database import Database


@dataclass(frozen=True)
class DriverConnection:
    """A DBAPI connection with its dialect, for ``CompiledQuery``."""

    dbapi: Any
    dialect: sa.Dialect
    pooled: Any = None  # the pool's proxy, to throw a dead connection away

    @classmethod
    def of(cls, conn: sa.Connection) -> DriverConnection:
        """The driver connection under a Core connection (to read inside its transaction)."""
        return cls(conn.connection.driver_connection, conn.dialect)


_Compiled = tuple[str, dict[str, Any], tuple[str, ...] | None, list[tuple[int, Any]], list[tuple[int, Any]]]
"""A query compiled for one dialect: its SQL, its own literals, the order of its parameters (positional drivers),
the result processors of its columns, and those of the columns after the repeated ones."""


class CompiledQuery:
    """A SELECT compiled once per dialect, run on the driver's own cursor (see the module docstring)."""

    def __init__(self, statement: sa.Select[Any], *, repeated: int = 0) -> None:
        """``repeated``: how many leading columns hold the same values on every row (a family's, beside each of its
        members): they are converted once, on the first row, and the other rows take them from it."""
        self.statement = statement
        self.names = tuple(c.name for c in statement.selected_columns)
        self.repeated = repeated
        self._compiled: dict[str, _Compiled] = {}

    def _for(self, dialect: sa.Dialect) -> _Compiled:
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            c = self.statement.compile(dialect=dialect)
            converters = [
                col.type.dialect_impl(dialect).result_processor(dialect, None)
                for col in self.statement.selected_columns
            ]
            processors = [(i, p) for i, p in enumerate(converters) if p is not None]
            order = tuple(c.positiontup) if c.positional and c.positiontup is not None else None
            fixed = {
                name: b.value for name, b in c.binds.items() if not b.required
            }  # the statement's own literals
            after_first = [(i, p) for i, p in processors if i >= self.repeated]
            compiled = self._compiled[dialect.name] = (c.string, fixed, order, processors, after_first)
        return compiled

    def rows(self, conn: DriverConnection, params: dict[str, Any]) -> list[Any]:
        """The result rows as sequences of column values, in the statement's column order."""
        sql, fixed, order, processors, after_first = self._for(conn.dialect)
        values = {**fixed, **params}
        bound = tuple(values[name] for name in order) if order is not None else values
        cursor = conn.dbapi.cursor()
        try:
            cursor.execute(sql, bound)
            raw = cursor.fetchall()
        finally:
            cursor.close()
        if not processors:
            return list(raw)
        out: list[list[Any]] = []
        for r in raw:
            row = list(r)
            if out and self.repeated:
                row[: self.repeated] = out[0][: self.repeated]
            for i, convert in after_first if out else processors:
                if row[i] is not None:
                    row[i] = convert(row[i])
            out.append(row)
        return out

    def first(self, conn: DriverConnection, params: dict[str, Any]) -> dict[str, Any] | None:
        """The first row by column name, or ``None``."""
        found = self.rows(conn, params)
        return dict(zip(self.names, found[0], strict=True)) if found else None


@contextmanager
def single_statement_reader(db: Database) -> Iterator[DriverConnection]:
    """A pooled driver connection of ``db.lookups`` for reads outside any transaction.

    On SQLite the driver already runs in autocommit mode (Core, which would emit
    ``BEGIN``, is bypassed); on PostgreSQL the lookup pool's connections are in
    autocommit, which saves the ``BEGIN`` and ``ROLLBACK`` round trips.
    ``raw_connection()`` skips Core's ``Connection`` wrapper, which costs more than
    the lookup on SQLite.
    """
    pooled = db.lookups.raw_connection()
    try:
        yield DriverConnection(pooled.driver_connection, db.lookups.dialect, pooled)
    finally:
        pooled.close()


def read_rows(db: Database, query: CompiledQuery, params: dict[str, Any]) -> list[Any]:
    """Run ``query`` on a connection of the lookup pool; once more on a fresh one if the first was dead (the pool
    does not ping a connection before handing it out: the ping would cost as much as the lookup)."""
    dialect = db.lookups.dialect
    for attempt in (1, 2):
        with single_statement_reader(db) as conn:
            try:
                return query.rows(conn, params)
            except dialect.loaded_dbapi.Error as exc:
                if attempt == 2 or not dialect.is_disconnect(exc, conn.dbapi, None):
                    raise
                conn.pooled.invalidate()  # e.g. the server restarted since this connection was last used
    raise AssertionError("unreachable")
