"""Creating engines for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import overload

import sqlalchemy as sa
from sqlalchemy.engine import Engine

READ_ONLY = "tepat_read_only"
"""Execution option marking a connection that only reads."""


def create_engine(url: str, **kwargs: object) -> Engine:
    """An engine with the settings tepat relies on (WAL and foreign keys on SQLite, UTC on PostgreSQL)."""
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"timeout": 30}, **kwargs)

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            # Let SQLAlchemy, not the driver, open transactions: BEGIN IMMEDIATE below.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA cache_size=-262144")
            cur.execute("PRAGMA temp_store=MEMORY")
            cur.close()

        @sa.event.listens_for(engine, "begin")
        def _sqlite_begin(conn):  # type: ignore[no-untyped-def]
            # IMMEDIATE: a writer takes the lock at the start, so two writers queue instead of deadlocking.
            # A read-only connection (``Database.read``) begins DEFERRED and never waits for writers (WAL).
            conn.exec_driver_sql(
                "BEGIN" if conn.get_execution_options().get(READ_ONLY) else "BEGIN IMMEDIATE"
            )

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return sa.create_engine(url, connect_args={"options": "-c timezone=UTC"}, pool_pre_ping=True, **kwargs)


def create_lookup_pool(engine: Engine) -> Engine:
    """The pool for single-statement lookups (``tepat.store.compiled.read_rows``): on PostgreSQL a small one of its
    own, in autocommit (one SELECT needs no transaction: no BEGIN/ROLLBACK round trips) and without the pre-ping
    (one more round trip, as long as the lookup itself: a dead connection is replaced and the lookup run once
    more instead). On SQLite the engine itself: a raw connection reads without a transaction already."""
    if engine.dialect.name != "postgresql":
        return engine
    return sa.create_engine(
        engine.url,
        connect_args={"options": "-c timezone=UTC"},
        pool_size=2,
        max_overflow=8,
        isolation_level="AUTOCOMMIT",
    )


def create_read_only_engine(engine: Engine) -> Engine:
    """For the public status check on SQLite: a plain engine whose connections cannot write (``query_only``) and
    begin deferred, so a check never queues for the writer lock behind an import. On PostgreSQL the engine itself."""
    if engine.dialect.name != "sqlite":
        return engine
    reader = sa.create_engine(engine.url, connect_args={"timeout": 30, "check_same_thread": False})

    @sa.event.listens_for(reader, "connect")
    def _read_only(dbapi_conn, _record):  # type: ignore[no-untyped-def]
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA query_only=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    return reader


def is_sqlite(conn: sa.Connection | Engine) -> bool:
    return conn.dialect.name == "sqlite"


def now() -> datetime:
    """The current time in UTC (stored everywhere; shown in Asia/Jakarta)."""
    return datetime.now(UTC)


@overload
def as_utc(value: datetime) -> datetime: ...
@overload
def as_utc(value: None) -> None: ...
def as_utc(value: datetime | None) -> datetime | None:
    """SQLite gives naive datetimes back: they are UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def write_if_free(engine: Engine, work: Callable[[sa.Connection], object]) -> bool:
    """Run ``work`` in a write transaction only if SQLite's writer lock is free right now; ``False`` (nothing
    written) if it is not. For writes a caller must not wait for and may skip (a log batch, a session's "last
    seen"): waiting for another writer (an import holds the lock until it commits) could take seconds. On
    PostgreSQL writers do not queue behind each other like that: ``work`` simply runs."""
    with engine.connect() as conn:
        if engine.dialect.name != "sqlite":
            with conn.begin():
                work(conn)
            return True
        raw = conn.connection.driver_connection
        patience = raw.execute("PRAGMA busy_timeout").fetchone()[0]  # type: ignore[union-attr]
        raw.execute("PRAGMA busy_timeout=0")  # type: ignore[union-attr]
        try:
            with conn.begin():
                work(conn)
            return True
        except sa.exc.OperationalError as exc:
            if "locked" not in str(exc.orig):
                raise
            return False
        finally:
            raw.execute(f"PRAGMA busy_timeout={int(patience)}")  # type: ignore[union-attr]
