"""Who may see and change a family of the registry: the check every registry use case starts with (a family
outside the area is ``NotFound``: its existence is not revealed; an analyst gets ``PermissionDenied`` for anything
personal)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from tepat.domain.access import Actor
from tepat.domain.audit_actions import AuditAction
from tepat.domain.registry_records import Family
from tepat.errors import NotFound, PermissionDenied
from tepat.store import audit
from tepat.store import families as family_store
from tepat.store.database import Database

NOT_FOUND = "Keluarga tidak ditemukan"


def require_personal(actor: Actor) -> None:
    if not actor.sees_personal_data:
        raise PermissionDenied("Peran Anda hanya dapat melihat data agregat, bukan data perorangan")


def visible_family(conn: sa.Connection, actor: Actor, family_id: int) -> Family:
    require_personal(actor)
    row = family_store.get(conn, family_id)
    if row is None or not actor.in_area(row["kelurahan_code"]):
        raise NotFound(NOT_FOUND)
    return row


def editable_family(conn: sa.Connection, actor: Actor, family_id: int) -> Family:
    row = visible_family(conn, actor, family_id)
    if not actor.can_edit_registry(row["kelurahan_code"]):
        raise PermissionDenied("Peran Anda tidak dapat mengubah data registri")
    return row


def lock_family(conn: sa.Connection, actor: Actor, family_id: int) -> Family:
    editable_family(conn, actor, family_id)
    row = family_store.locked_family(conn, family_id)
    assert row is not None
    return row


def record_read(
    db: Database, actor: Actor, action: AuditAction, entity_id: object, area_code: str | None, **detail: Any
) -> None:
    """UU 27/2022: who read whose personal data is logged like a change (through the buffered read log)."""
    audit.record_read(db, actor, action, "family", entity_id, area_code=area_code, detail=detail or None)
