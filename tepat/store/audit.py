"""The audit log: who did what to which record, written in the same transaction as the change."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from tepat.domain.access import Actor
from tepat.store.engine import now
from tepat.store.schema import audit_log


def record(
    conn: sa.Connection,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: object = None,
    *,
    area_code: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one audit entry."""
    conn.execute(
        _INSERT,
        {
            "at": now(),
            "actor": actor.username,
            "action": action,
            "entity": entity,
            "entity_id": None if entity_id is None else str(entity_id),
            "area_code": area_code,
            "detail": detail,
        },
    )


_INSERT = audit_log.insert()  # built once: the audit sits on hot paths (every read of personal data)


def entries(conn: sa.Connection, *, entity: str | None = None, entity_id: object = None, limit: int = 100) -> list[dict[str, Any]]:
    q = sa.select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
    if entity is not None:
        q = q.where(audit_log.c.entity == entity)
    if entity_id is not None:
        q = q.where(audit_log.c.entity_id == str(entity_id))
    return [dict(r._mapping) for r in conn.execute(q)]
