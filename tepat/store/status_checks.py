"""The public status check's lookup and its log (which never holds a full NIK)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from tepat.domain.validation import parse_date
from tepat.store.engine import write_if_free
from tepat.store.schema import families, family_scores, members, ranking_runs, status_checks

_LOOKUP_COLUMNS = (
    members.c.id.label("member_id"),
    members.c.name,
    members.c.birth_date,
    members.c.status.label("member_status"),
    members.c.inactive_reason.label("member_inactive_reason"),
    members.c.life_status,
    families.c.id.label("family_id"),
    families.c.kk_number,
    families.c.kelurahan_code,
    families.c.kecamatan_code,
    families.c.registry_status,
    families.c.verification_status,
    families.c.verified_on,
)


# Built once: the public check runs this for every request, so it is not rebuilt each time.
_BY_NIK = (
    sa.select(*_LOOKUP_COLUMNS)
    .join(families, families.c.id == members.c.family_id)
    .where(members.c.nik == sa.bindparam("nik"))
    .order_by((members.c.status == "aktif").desc(), members.c.id.desc())
    .limit(1)
)


# The desil of the family in the latest ranking run (NULL before any ranking), fetched with the person so
# that a check is one round trip whatever the outcome.
_LATEST_MODEL = (
    sa.select(ranking_runs.c.model_id).order_by(ranking_runs.c.id.desc()).limit(1).scalar_subquery()
)
_DESIL = (
    sa.select(family_scores.c.desil)
    .where(family_scores.c.model_id == _LATEST_MODEL, family_scores.c.family_id == families.c.id)
    .scalar_subquery()
)
_CHECK = _BY_NIK.add_columns(_DESIL.label("desil"))
_DATE_COLUMNS = ("birth_date", "verified_on")


class PersonLookup:
    """The status check's one statement (person, family, latest desil), compiled once for the engine's dialect.

    It runs on the driver's cursor: the same SQL text every time, so SQLite
    reuses its prepared statement and psycopg prepares it on the server after
    a few runs, and none of SQLAlchemy's per-execution work is repeated for
    the public endpoint's hottest line.
    """

    def __init__(self, dialect: sa.Dialect) -> None:
        compiled = _CHECK.compile(dialect=dialect)
        self.sql = str(compiled)
        self.names = [c.name for c in _CHECK.selected_columns]
        self._fixed = compiled.construct_params({"nik": ""})
        self._order = list(compiled.positiontup or []) if compiled.positional else None

    def _params(self, nik: str) -> Any:
        values = {**self._fixed, "nik": nik}
        return tuple(values[name] for name in self._order) if self._order is not None else values

    def __call__(self, conn: sa.Connection, nik: str) -> dict[str, Any] | None:
        """The person with this NIK (the active record first, else the latest), their family and desil."""
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(self.sql, self._params(nik))
            row = cursor.fetchone()
        finally:
            cursor.close()
        if row is None:
            return None
        found = dict(zip(self.names, row, strict=True))
        for name in _DATE_COLUMNS:  # SQLite hands dates back as ISO text
            if isinstance(found[name], str):
                found[name] = parse_date(found[name])
        return found


def person_by_nik(conn: sa.Connection, nik: str) -> dict[str, Any] | None:
    """The person with this NIK and their family: the active record first, else the latest one."""
    row = conn.execute(_BY_NIK, {"nik": nik}).mappings().first()
    return dict(row) if row else None


def log(
    conn: sa.Connection,
    *,
    at: datetime,
    nik_hash: str,
    nik_masked: str,
    client_hash: str,
    channel: str,
    outcome: str,
) -> None:
    conn.execute(
        status_checks.insert().values(
            at=at,
            nik_hash=nik_hash,
            nik_masked=nik_masked,
            client_hash=client_hash,
            channel=channel,
            outcome=outcome,
        )
    )


def recent(conn: sa.Connection, limit: int = 100) -> list[dict[str, Any]]:
    q = sa.select(status_checks).order_by(status_checks.c.id.desc()).limit(limit)
    return [dict(r) for r in conn.execute(q).mappings()]


def insert_many(conn: sa.Connection, rows: list[dict[str, Any]]) -> None:
    """Write a batch of log rows (the checker buffers them briefly under load)."""
    if rows:
        conn.execute(status_checks.insert(), rows)


def insert_many_if_free(engine: sa.Engine, rows: list[dict[str, Any]]) -> bool:
    """Write a batch of log rows only if SQLite's writer lock is free right now; ``False`` (nothing written) if not.

    For a caller that must not wait (the web app's event loop): the write
    itself takes about a millisecond per hundred rows, but waiting for another
    writer (an import, another worker's batch) could take seconds.
    """
    return write_if_free(engine, lambda conn: insert_many(conn, rows))


def lookup_engine(engine: sa.Engine) -> sa.Engine:
    """The engine for public lookups: on SQLite a plain read-only one, so a check never queues for the writer lock."""
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
