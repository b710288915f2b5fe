"""Queries over the ``regions`` table."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from tepat.domain.regions import Region, RegionIndex, level_of
from tepat.store.schema import regions


def count(conn: sa.Connection) -> int:
    return conn.execute(sa.select(sa.func.count()).select_from(regions)).scalar_one()


def replace_all(conn: sa.Connection, rows: Iterable[Region]) -> int:
    """Insert or update every region (codes are never deleted: old records may point at them)."""
    existing = {r.code: r.name for r in conn.execute(sa.select(regions.c.code, regions.c.name))}
    new, changed = [], []
    for r in rows:
        values = {
            "code": r.code,
            "name": r.name,
            "level": level_of(r.code).value,
            "parent_code": r.parent_code,
        }
        if r.code not in existing:
            new.append(values)
        elif existing[r.code] != r.name:
            changed.append(values)
    if new:
        conn.execute(regions.insert(), new)
    for values in changed:
        conn.execute(regions.update().where(regions.c.code == values["code"]).values(name=values["name"]))
    return len(new) + len(changed)


def region_index(conn: sa.Connection) -> RegionIndex:
    return RegionIndex(
        Region(code, name) for code, name in conn.execute(sa.select(regions.c.code, regions.c.name))
    )
