"""The audit log: who did what to which record.

A change is logged in the same transaction as the change (``record``). A read of
personal data on a hot path (a NIK lookup) may instead be handed to the database's
buffered read log (``record_read``, ``Database.read_audit``, a
``tepat.store.buffered.BufferedWriter``): its rows are written in batches by a
background thread, at most ``READ_LOG_MAX_DELAY`` seconds late, and at once when the
database is disposed, when ``flush_reads`` is called and when the process exits
normally. The trade-off, accepted for reads only (UU 27/2022 requires the record, not
that it precede the answer): a process that is killed outright (``SIGKILL``, power
loss) loses the records of the reads of its last second at most. Changes are never
buffered.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from tepat.domain.access import Actor
from tepat.domain.audit_actions import AuditAction
from tepat.domain.regions import office_of
from tepat.store.areas import within
from tepat.store.engine import now
from tepat.store.schema import audit_log

if TYPE_CHECKING:
    from tepat.store.database import Database


def record(
    conn: sa.Connection,
    actor: Actor,
    action: AuditAction,
    entity: str,
    entity_id: object = None,
    *,
    area_code: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one audit entry."""
    conn.execute(_INSERT, audit_row(actor, action, entity, entity_id, area_code=area_code, detail=detail))


_INSERT = audit_log.insert()  # built once: the audit sits on hot paths (every read of personal data)

READ_LOG_MAX_DELAY = 0.5
"""Seconds a buffered read record may wait before it is written (the promise is: at most one second)."""
READ_LOG_BATCH = 10_000
"""Buffered read records that make the background thread write them at once (memory stays bounded)."""


_COLUMNS = ("at", "actor", "action", "entity", "entity_id", "area_code", "detail", "office_code")
_MANY: dict[str, tuple[str, list[Any], bool]] = {}


def insert_many(conn: sa.Connection, rows: list[dict[str, Any]]) -> None:
    """Write buffered audit rows in one go: ``COPY`` on PostgreSQL, one driver ``executemany`` elsewhere.

    The values are converted by the columns' own bind processors, so they are stored exactly
    as ``record`` stores them. Through Core's executemany a row cost 35–50 µs on PostgreSQL
    (as much as the lookup being logged); through ``COPY`` 10–20 µs.
    """
    compiled = _MANY.get(conn.dialect.name)
    if compiled is None:
        dialect = conn.dialect
        c = (
            audit_log.insert()
            .values({name: sa.bindparam(name) for name in _COLUMNS})
            .inline()
            .compile(dialect=dialect)
        )
        processors = [
            audit_log.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in _COLUMNS
        ]
        compiled = _MANY[dialect.name] = (c.string, processors, bool(c.positional))
        if c.positional and tuple(c.positiontup or ()) != _COLUMNS:
            raise RuntimeError("urutan parameter audit_log tidak terduga")
    sql, processors, positional = compiled
    values = [
        [p(r[n]) if p is not None else r[n] for n, p in zip(_COLUMNS, processors, strict=True)] for r in rows
    ]
    if conn.dialect.name == "postgresql":
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor, cursor.copy(f"COPY audit_log ({', '.join(_COLUMNS)}) FROM STDIN") as copy:
            for v in values:
                copy.write_row(v)
        return
    params = (
        [tuple(v) for v in values] if positional else [dict(zip(_COLUMNS, v, strict=True)) for v in values]
    )
    conn.exec_driver_sql(sql, params)


def audit_row(
    actor: Actor,
    action: AuditAction,
    entity: str,
    entity_id: object = None,
    *,
    area_code: str | None = None,
    detail: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One audit row: what ``record`` writes and the buffered read log holds."""
    return {
        "at": now(),
        "actor": actor.username,
        "action": AuditAction(action).value,  # closed at run time too: an unknown name raises
        "entity": entity,
        "entity_id": None if entity_id is None else str(entity_id),
        "area_code": area_code,
        "detail": detail,
        "office_code": office_of(area_code or ""),
    }


def record_read(
    db: Database,
    actor: Actor,
    action: AuditAction,
    entity: str,
    entity_id: object = None,
    *,
    area_code: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Log a read of personal data through the database's buffered read log (see the module docstring)."""
    db.read_audit.add(audit_row(actor, action, entity, entity_id, area_code=area_code, detail=detail))


def flush_reads(db: Database) -> None:
    """Write the buffered read records now (e.g. before showing the audit log)."""
    db.read_audit.flush()


def entries(
    conn: sa.Connection, *, entity: str | None = None, entity_id: object = None, limit: int = 100
) -> list[dict[str, Any]]:
    q = sa.select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
    if entity is not None:
        q = q.where(audit_log.c.entity == entity)
    if entity_id is not None:
        q = q.where(audit_log.c.entity_id == str(entity_id))
    return [dict(r._mapping) for r in conn.execute(q)]


def search(
    conn: sa.Connection,
    *,
    area_code: str,
    unplaced: bool,
    username: str | None = None,
    action: str | None = None,
    entity_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    offset: int = 0,
    limit: int = 100,
) -> tuple[list[dict[str, Any]], int]:
    """Entries inside ``area_code`` (and those with no area when ``unplaced``), newest first, with the total count.

    ``action`` matches a whole action or its family (``family`` matches ``family.read``, ``family.list``, …).
    """
    where: list[sa.ColumnElement[bool]] = []
    placed = within(audit_log.c.area_code, area_code)
    where.append(sa.or_(placed, audit_log.c.area_code.is_(None)) if unplaced else placed)
    if username:
        where.append(audit_log.c.actor == username)
    if action:
        where.append(sa.or_(audit_log.c.action == action, audit_log.c.action.startswith(action + ".")))
    if entity_id:
        where.append(audit_log.c.entity_id == entity_id)
    if since is not None:
        where.append(audit_log.c.at >= since)
    if until is not None:
        where.append(audit_log.c.at < until)
    total = int(conn.execute(sa.select(sa.func.count()).select_from(audit_log).where(*where)).scalar_one())
    q = sa.select(audit_log).where(*where).order_by(audit_log.c.id.desc()).offset(offset).limit(limit)
    return [dict(r) for r in conn.execute(q).mappings()], total
