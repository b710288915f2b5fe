"""Queries over the family aggregate: ``families`` with their ``members``.

Every listing takes the caller's area (a region-code prefix) so that no query
can return a family outside it.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from tepat.store.schema import families, members


def in_area(area_code: str, column: sa.ColumnElement[str] | None = None) -> sa.ColumnElement[bool]:
    """``kelurahan_code`` lies inside ``area_code`` (``""`` = everywhere)."""
    col = families.c.kelurahan_code if column is None else column
    if area_code == "":
        return sa.true()
    if area_code.count(".") == 3:
        return col == area_code
    if area_code.count(".") == 2:
        return families.c.kecamatan_code == area_code if column is None else col.startswith(area_code + ".")
    return col.startswith(area_code + ".")


# Statements on hot paths (a page view, a NIK lookup) are built once and only bound per call.
_FAMILY = sa.select(families).where(families.c.id == sa.bindparam("family_id"))
_MEMBERS = sa.select(members).where(members.c.family_id == sa.bindparam("family_id")).order_by(
    sa.case((members.c.relationship == "kepala_keluarga", 0), else_=1), members.c.id
)
_ACTIVE_MEMBERS = _MEMBERS.where(members.c.status == "aktif")
_MEMBER = sa.select(members).where(members.c.id == sa.bindparam("member_id"))
_ACTIVE_BY_NIK = sa.select(members).where(members.c.nik == sa.bindparam("nik"), members.c.status == "aktif")


def get(conn: sa.Connection, family_id: int) -> dict[str, Any] | None:
    row = conn.execute(_FAMILY, {"family_id": family_id}).mappings().first()
    return dict(row) if row else None


def members_of(conn: sa.Connection, family_id: int, *, include_inactive: bool = True) -> list[dict[str, Any]]:
    """The family's members, head first."""
    q = _MEMBERS if include_inactive else _ACTIVE_MEMBERS
    return [dict(r) for r in conn.execute(q, {"family_id": family_id}).mappings()]


def get_member(conn: sa.Connection, member_id: int) -> dict[str, Any] | None:
    row = conn.execute(_MEMBER, {"member_id": member_id}).mappings().first()
    return dict(row) if row else None


def active_member_by_nik(conn: sa.Connection, nik: str) -> dict[str, Any] | None:
    row = conn.execute(_ACTIVE_BY_NIK, {"nik": nik}).mappings().first()
    return dict(row) if row else None


def active_family_by_kk(conn: sa.Connection, kk_number: str) -> dict[str, Any] | None:
    q = sa.select(families).where(families.c.kk_number == kk_number, families.c.registry_status == "aktif")
    row = conn.execute(q).mappings().first()
    return dict(row) if row else None


def _summary_query(area_code: str) -> sa.Select[Any]:
    head = (
        sa.select(members.c.name)
        .where(members.c.family_id == families.c.id, members.c.relationship == "kepala_keluarga", members.c.status == "aktif")
        .order_by(members.c.id)
        .limit(1)
        .scalar_subquery()
    )
    count = (
        sa.select(sa.func.count())
        .where(members.c.family_id == families.c.id, members.c.status == "aktif")
        .scalar_subquery()
    )
    return sa.select(
        families.c.id,
        families.c.kk_number,
        families.c.kelurahan_code,
        families.c.rw,
        families.c.rt,
        families.c.address,
        families.c.registry_status,
        families.c.verification_status,
        head.label("head_name"),
        count.label("member_count"),
    ).where(in_area(area_code))


def search(conn: sa.Connection, area_code: str, query: str, limit: int) -> list[dict[str, Any]]:
    """Families in the area whose KK, a member's NIK, or a member's name matches ``query``."""
    text = query.strip()
    if text.isdigit() and len(text) == 16:
        by_member = sa.select(members.c.family_id).where(members.c.nik == text)
        cond = sa.or_(families.c.kk_number == text, families.c.id.in_(by_member))
    else:
        pattern = "%" + text.upper().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        by_name = sa.select(members.c.family_id).where(sa.func.upper(members.c.name).like(pattern, escape="\\"))
        cond = families.c.id.in_(by_name)
    q = _summary_query(area_code).where(cond).order_by(families.c.kelurahan_code, families.c.rw, families.c.rt, families.c.id)
    return [dict(r) for r in conn.execute(q.limit(limit)).mappings()]


def list_in(conn: sa.Connection, area_code: str, kelurahan_code: str, rw: int | None, offset: int, limit: int) -> list[dict[str, Any]]:
    q = _summary_query(area_code).where(families.c.kelurahan_code == kelurahan_code)
    if rw is not None:
        q = q.where(families.c.rw == rw)
    q = q.order_by(families.c.rw, families.c.rt, families.c.id).offset(offset).limit(limit)
    return [dict(r) for r in conn.execute(q).mappings()]


def counts_by(conn: sa.Connection, area_code: str, key: str, within: str | None = None) -> dict[Any, tuple[int, int]]:
    """Active families and members per ``key`` (``kecamatan_code``, ``kelurahan_code`` or ``rw``): two grouped scans."""
    group = families.c[key]
    where = [in_area(area_code), families.c.registry_status == "aktif"]
    if within is not None:
        where.append(in_area(within))
    family_counts = sa.select(group, sa.func.count()).where(*where).group_by(group)
    member_counts = (
        sa.select(group, sa.func.count())
        .select_from(members.join(families, members.c.family_id == families.c.id))
        .where(*where, members.c.status == "aktif")
        .group_by(group)
    )
    people = {row[0]: int(row[1]) for row in conn.execute(member_counts)}
    return {row[0]: (int(row[1]), people.get(row[0], 0)) for row in conn.execute(family_counts)}
