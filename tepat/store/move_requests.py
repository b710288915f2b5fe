"""Move requests: registry writes refused because the family or person belongs to another area."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa

from tepat.domain.moves import MoveState
from tepat.store.areas import office_of_family
from tepat.store.families import in_area
from tepat.store.schema import move_requests

PENDING = MoveState.MENUNGGU.value


def add_pending(conn: sa.Connection, requests: Iterable[Mapping[str, Any]]) -> int:
    """Store each request unless the same one (KK, NIK, destination) is already waiting; returns how many were new."""
    added = 0
    for values in requests:
        same = sa.select(move_requests.c.id).where(
            move_requests.c.state == PENDING,
            move_requests.c.kk_number == values["kk_number"],
            move_requests.c.nik.is_(None)
            if values.get("nik") is None
            else move_requests.c.nik == values["nik"],
            move_requests.c.to_kelurahan_code == values["to_kelurahan_code"],
        )
        if conn.execute(same.limit(1)).first() is None:
            office = office_of_family(values["family_id"])
            conn.execute(move_requests.insert().values(**values, state=PENDING, office_code=office))
            added += 1
    return added


def waiting_from(conn: sa.Connection, area_code: str, limit: int = 500) -> list[dict[str, Any]]:
    """Pending requests for records of ``area_code`` (the area asked to release them), oldest first."""
    q = (
        sa.select(move_requests)
        .where(in_area(area_code, move_requests.c.from_kelurahan_code), move_requests.c.state == PENDING)
        .order_by(move_requests.c.id)
        .limit(limit)
    )
    return [dict(r) for r in conn.execute(q).mappings()]


def asked_by(conn: sa.Connection, area_code: str, limit: int = 500) -> list[dict[str, Any]]:
    """Requests made for ``area_code`` (records it wanted to register), newest first, decided ones too."""
    q = (
        sa.select(move_requests)
        .where(in_area(area_code, move_requests.c.to_kelurahan_code))
        .order_by(move_requests.c.id.desc())
        .limit(limit)
    )
    return [dict(r) for r in conn.execute(q).mappings()]


def count_waiting_from(conn: sa.Connection, area_code: str) -> int:
    q = (
        sa.select(sa.func.count())
        .select_from(move_requests)
        .where(in_area(area_code, move_requests.c.from_kelurahan_code), move_requests.c.state == PENDING)
    )
    return int(conn.execute(q).scalar_one())


def get(conn: sa.Connection, request_id: int, *, lock: bool = False) -> dict[str, Any] | None:
    q = sa.select(move_requests).where(move_requests.c.id == request_id)
    if lock and conn.dialect.name == "postgresql":
        q = q.with_for_update()
    row = conn.execute(q).mappings().first()
    return dict(row) if row else None


def decide(conn: sa.Connection, request_id: int, values: Mapping[str, Any]) -> None:
    conn.execute(move_requests.update().where(move_requests.c.id == request_id).values(**values))
