"""Queries over the ``import_mappings`` table."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from tepat.store.schema import import_mappings


def all_mappings(conn: sa.Connection) -> list[dict[str, Any]]:
    """Every saved mapping (without its content), by name."""
    q = sa.select(
        import_mappings.c.id,
        import_mappings.c.name,
        import_mappings.c.file_name,
        import_mappings.c.saved_by,
        import_mappings.c.saved_at,
    ).order_by(import_mappings.c.name)
    return [dict(r._mapping) for r in conn.execute(q)]


def get(conn: sa.Connection, mapping_id: int) -> dict[str, Any] | None:
    row = conn.execute(sa.select(import_mappings).where(import_mappings.c.id == mapping_id)).first()
    return dict(row._mapping) if row else None


def by_name(conn: sa.Connection, name: str) -> dict[str, Any] | None:
    row = conn.execute(sa.select(import_mappings).where(import_mappings.c.name == name)).first()
    return dict(row._mapping) if row else None


def save(conn: sa.Connection, *, name: str, file_name: str, content: str, saved_by: str, at: datetime) -> int:
    """Insert a mapping, or replace the one of the same name; its id."""
    found = by_name(conn, name)
    values = {"file_name": file_name, "content": content, "saved_by": saved_by, "saved_at": at}
    if found is not None:
        conn.execute(import_mappings.update().where(import_mappings.c.id == found["id"]).values(**values))
        return int(found["id"])
    return int(
        conn.execute(
            import_mappings.insert().values(name=name, **values).returning(import_mappings.c.id)
        ).scalar_one()
    )


def delete(conn: sa.Connection, mapping_id: int) -> bool:
    return bool(conn.execute(import_mappings.delete().where(import_mappings.c.id == mapping_id)).rowcount)
