"""The public status check's lookup and its log (which never holds a full NIK)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from tepat.store.schema import families, members, status_checks

_LOOKUP_COLUMNS = (
    members.c.id.label("member_id"), members.c.name, members.c.birth_date, members.c.status.label("member_status"),
    members.c.inactive_reason.label("member_inactive_reason"), members.c.life_status,
    families.c.id.label("family_id"), families.c.kelurahan_code, families.c.kecamatan_code,
    families.c.registry_status, families.c.verification_status, families.c.verified_on,
)


# Built once: the public check runs this for every request, so it is not rebuilt each time.
_BY_NIK = (
    sa.select(*_LOOKUP_COLUMNS)
    .join(families, families.c.id == members.c.family_id)
    .where(members.c.nik == sa.bindparam("nik"))
    .order_by((members.c.status == "aktif").desc(), members.c.id.desc())
    .limit(1)
)


def person_by_nik(conn: sa.Connection, nik: str) -> dict[str, Any] | None:
    """The person with this NIK and their family: the active record first, else the latest one."""
    row = conn.execute(_BY_NIK, {"nik": nik}).mappings().first()
    return dict(row) if row else None


def log(conn: sa.Connection, *, at: datetime, nik_hash: str, nik_masked: str, client_hash: str, channel: str,
        outcome: str) -> None:
    conn.execute(status_checks.insert().values(at=at, nik_hash=nik_hash, nik_masked=nik_masked,
                                               client_hash=client_hash, channel=channel, outcome=outcome))


def recent(conn: sa.Connection, limit: int = 100) -> list[dict[str, Any]]:
    q = sa.select(status_checks).order_by(status_checks.c.id.desc()).limit(limit)
    return [dict(r) for r in conn.execute(q).mappings()]


def insert_many(conn: sa.Connection, rows: list[dict[str, Any]]) -> None:
    """Write a batch of log rows (the checker buffers them briefly under load)."""
    if rows:
        conn.execute(status_checks.insert(), rows)


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
