"""Queries over the programme catalogue and the hand-made enrolment changes (overrides)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

import sqlalchemy as sa

from tepat.domain.programmes import OverrideState, Programme
from tepat.store.areas import join_on, office_of_family
from tepat.store.schema import enrolment_overrides, families, members, programmes


def programme_of(row: Mapping[Any, Any]) -> Programme:
    """A ``programmes`` row (every column) as its read model."""
    return cast(Programme, dict(row))


def list_all(
    conn: sa.Connection, offices: Sequence[str] | None = None, *, active_only: bool = False
) -> list[Programme]:
    """The catalogues of ``offices`` (every office's when ``None``), office by office in the order created."""
    q = sa.select(programmes).order_by(programmes.c.office_code, programmes.c.id)
    if offices is not None:
        q = q.where(programmes.c.office_code.in_(list(offices)))
    if active_only:
        q = q.where(programmes.c.active == sa.true())
    return [programme_of(r) for r in conn.execute(q).mappings()]


def codes(conn: sa.Connection, office: str) -> frozenset[str]:
    """The codes in ``office``'s catalogue."""
    q = sa.select(programmes.c.code).where(programmes.c.office_code == office)
    return frozenset(str(c) for c in conn.execute(q).scalars())


def get_by_code(conn: sa.Connection, office: str, code: str, *, lock: bool = False) -> Programme | None:
    """The programme ``code`` of ``office``'s catalogue."""
    q = sa.select(programmes).where(programmes.c.office_code == office, programmes.c.code == code)
    if lock:
        q = q.with_for_update()
    row = conn.execute(q).mappings().first()
    return programme_of(row) if row else None


def ids_by_code(conn: sa.Connection, offices: Sequence[str], code: str) -> list[int]:
    """The programmes with this code in the catalogues of ``offices``."""
    q = sa.select(programmes.c.id).where(
        programmes.c.office_code.in_(list(offices)), programmes.c.code == code
    )
    return [int(i) for i in conn.execute(q).scalars()]


def get(conn: sa.Connection, programme_id: int) -> Programme | None:
    row = conn.execute(sa.select(programmes).where(programmes.c.id == programme_id)).mappings().first()
    return programme_of(row) if row else None


def insert(conn: sa.Connection, values: Mapping[str, Any]) -> int:
    return int(conn.execute(programmes.insert().values(**values).returning(programmes.c.id)).scalar_one())


def update(conn: sa.Connection, programme_id: int, version: int, values: Mapping[str, Any]) -> bool:
    """Change a programme if it is still at ``version`` (optimistic locking); False when it is not."""
    result = conn.execute(
        programmes.update()
        .where(programmes.c.id == programme_id, programmes.c.version == version)
        .values(**values, version=version + 1)
    )
    return result.rowcount == 1


# ----------------------------------------------------------------- overrides


def insert_override(conn: sa.Connection, values: Mapping[str, Any]) -> int:
    return int(
        conn.execute(
            enrolment_overrides.insert()
            .values(**values, office_code=office_of_family(values["family_id"]))
            .returning(enrolment_overrides.c.id)
        ).scalar_one()
    )


def get_override(conn: sa.Connection, override_id: int, *, lock: bool = False) -> dict[str, Any] | None:
    q = (
        sa.select(enrolment_overrides, families.c.kelurahan_code, programmes.c.code.label("programme_code"))
        .join(families, join_on(enrolment_overrides.c.family_id, families.c.id))
        .join(programmes, programmes.c.id == enrolment_overrides.c.programme_id)
        .where(enrolment_overrides.c.id == override_id)
    )
    if lock:
        q = q.with_for_update(of=enrolment_overrides)
    row = conn.execute(q).mappings().first()
    return dict(row) if row else None


def decide_override(
    conn: sa.Connection, override_id: int, from_state: str, values: Mapping[str, Any]
) -> bool:
    """Move an override out of ``from_state``; False when someone else decided first."""
    result = conn.execute(
        enrolment_overrides.update()
        .where(enrolment_overrides.c.id == override_id, enrolment_overrides.c.state == from_state)
        .values(**values)
    )
    return result.rowcount == 1


def list_overrides(
    conn: sa.Connection, programme_id: int, area: sa.ColumnElement[bool], state: str | None = None
) -> list[dict[str, Any]]:
    """Overrides of a programme for families in ``area``, newest first, with the family's KK and the person's name."""
    q = (
        sa.select(
            enrolment_overrides,
            families.c.kk_number,
            families.c.kelurahan_code,
            members.c.name.label("member_name"),
        )
        .join(families, join_on(enrolment_overrides.c.family_id, families.c.id))
        .outerjoin(members, join_on(enrolment_overrides.c.member_id, members.c.id))
        .where(enrolment_overrides.c.programme_id == programme_id, area)
        .order_by(enrolment_overrides.c.id.desc())
    )
    if state:
        q = q.where(enrolment_overrides.c.state == state)
    return [dict(r) for r in conn.execute(q).mappings()]


def open_override_exists(
    conn: sa.Connection, programme_id: int, family_id: int, member_id: int | None
) -> bool:
    """Whether the unit already has an override that is pending or in force."""
    q = sa.select(enrolment_overrides.c.id).where(
        enrolment_overrides.c.programme_id == programme_id,
        enrolment_overrides.c.family_id == family_id,
        enrolment_overrides.c.state.in_((OverrideState.DIAJUKAN.value, OverrideState.DISETUJUI.value)),
        enrolment_overrides.c.member_id.is_(None)
        if member_id is None
        else enrolment_overrides.c.member_id == member_id,
    )
    return conn.execute(q.limit(1)).first() is not None


def approved_actions(conn: sa.Connection, programme_id: int) -> frozenset[str]:
    """The override actions (``tambah``, ``hapus``) the programme has approved requests for."""
    q = (
        sa.select(enrolment_overrides.c.action)
        .where(
            enrolment_overrides.c.programme_id == programme_id,
            enrolment_overrides.c.state == OverrideState.DISETUJUI.value,
        )
        .distinct()
    )
    return frozenset(str(a) for a in conn.execute(q).scalars())


def approved_keys(programme_id: int, action: str, unit_column: str) -> sa.Select[Any]:
    """``SELECT family_id`` (or ``member_id``) of the programme's approved overrides of one action."""
    column = enrolment_overrides.c[unit_column]
    return sa.select(column).where(
        enrolment_overrides.c.programme_id == programme_id,
        enrolment_overrides.c.action == action,
        enrolment_overrides.c.state == OverrideState.DISETUJUI.value,
        column.is_not(None),
    )
