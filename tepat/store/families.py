"""Queries over the family aggregate: ``families`` with their ``members``.

Every listing takes the caller's area (a region-code prefix) so that no query
can return a family outside it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

import sqlalchemy as sa

from tepat.domain.households import LifeStatus, RegistryStatus
from tepat.domain.nik import Nik
from tepat.domain.registry_records import Family, Member
from tepat.store.areas import join_on, same_office, within
from tepat.store.compiled import CompiledQuery, read_rows
from tepat.store.schema import active_niks, families, members
from tepat.store.versioning import lock_current

if TYPE_CHECKING:
    from tepat.store.database import Database


def in_area(area_code: str, column: sa.ColumnElement[str] | None = None) -> sa.ColumnElement[bool]:
    """A family's ``kelurahan_code`` (or ``column``) lies inside ``area_code`` (``""`` = everywhere): ``within``,
    with the families table's own kecamatan column (indexed) for a kecamatan area."""
    if column is None and area_code.count(".") == 2:
        return sa.and_(same_office(families, area_code), families.c.kecamatan_code == area_code)
    return within(families.c.kelurahan_code if column is None else column, area_code)


# Statements on hot paths (a page view, a NIK lookup) are built once and only bound per call.
_FAMILY = sa.select(families).where(families.c.id == sa.bindparam("family_id"))
_MEMBERS = (
    sa.select(members)
    .where(members.c.family_id == sa.bindparam("family_id"))
    .order_by(sa.case((members.c.relationship == "kepala_keluarga", 0), else_=1), members.c.id)
)
_ACTIVE_MEMBERS = _MEMBERS.where(members.c.status == RegistryStatus.AKTIF.value)
_MEMBER = sa.select(members).where(members.c.id == sa.bindparam("member_id"))
# The active person with a NIK, found through ``active_niks`` (one row per active NIK, kept by the database): one
# probe of its key, then the member by (id, office), in that office's partition only.
_ACTIVE_BY_NIK = (
    sa.select(members)
    .select_from(active_niks.join(members, join_on(active_niks.c.member_id, members.c.id)))
    .where(active_niks.c.nik == sa.bindparam("nik"))
)

_FAMILY_KEYS = tuple(families.c.keys())
_MEMBER_KEYS = tuple(members.c.keys())
_by_nik = members.alias("by_nik")
# One statement for the NIK lookup: the family of the active member with this NIK and all its members, head first.
FAMILY_BY_NIK = (
    sa.select(families, members)
    .select_from(
        active_niks.join(_by_nik, join_on(active_niks.c.member_id, _by_nik.c.id))
        .join(families, join_on(_by_nik.c.family_id, families.c.id))
        .join(members, join_on(members.c.family_id, families.c.id))
    )
    .where(active_niks.c.nik == sa.bindparam("nik"))
    .order_by(
        sa.case(
            (members.c.relationship == sa.literal_column("'kepala_keluarga'"), sa.literal_column("0")),
            else_=sa.literal_column("1"),
        ),
        members.c.id,
    )
)


_FAMILY_BY_NIK_QUERY = CompiledQuery(FAMILY_BY_NIK, repeated=len(_FAMILY_KEYS))  # the family's on each row


def family_of(row: Mapping[Any, Any]) -> Family:
    """A ``families`` row (every column, as ``sa.select(families)`` reads it) as its read model."""
    return cast(Family, dict(row))


def member_of(row: Mapping[Any, Any]) -> Member:
    """A ``members`` row (every column) as its read model."""
    return cast(Member, dict(row))


def get(conn: sa.Connection, family_id: int) -> Family | None:
    row = conn.execute(_FAMILY, {"family_id": family_id}).mappings().first()
    return family_of(row) if row else None


def members_of(conn: sa.Connection, family_id: int, *, include_inactive: bool = True) -> list[Member]:
    """The family's members, head first."""
    q = _MEMBERS if include_inactive else _ACTIVE_MEMBERS
    return [member_of(r) for r in conn.execute(q, {"family_id": family_id}).mappings()]


def get_member(conn: sa.Connection, member_id: int) -> Member | None:
    row = conn.execute(_MEMBER, {"member_id": member_id}).mappings().first()
    return member_of(row) if row else None


def active_member_by_nik(conn: sa.Connection, nik: str) -> Member | None:
    row = conn.execute(_ACTIVE_BY_NIK, {"nik": nik}).mappings().first()
    return member_of(row) if row else None


def family_by_active_nik(db: Database, nik: str) -> tuple[Family, list[Member]] | None:
    """The family of the active member with this NIK and all its members (head first), in one statement."""
    rows = read_rows(db, _FAMILY_BY_NIK_QUERY, {"nik": nik})
    if not rows:
        return None
    split = len(_FAMILY_KEYS)
    # The hot path: each row's dict is built once, and typed without a copy.
    family = cast(Family, dict(zip(_FAMILY_KEYS, rows[0][:split], strict=True)))
    return family, [cast(Member, dict(zip(_MEMBER_KEYS, row[split:], strict=True))) for row in rows]


def locked_family(conn: sa.Connection, family_id: int) -> Family | None:
    """The family's current row, locked for update in ``conn``'s transaction (``versioning.lock_current``)."""
    row = lock_current(conn, families, family_id)
    return family_of(row) if row else None


def locked_member(conn: sa.Connection, member_id: int) -> Member | None:
    """The member's current row, locked for update in ``conn``'s transaction."""
    row = lock_current(conn, members, member_id)
    return member_of(row) if row else None


def active_family_by_kk(conn: sa.Connection, kk_number: str) -> Family | None:
    q = sa.select(families).where(
        families.c.kk_number == kk_number, families.c.registry_status == RegistryStatus.AKTIF.value
    )
    row = conn.execute(q).mappings().first()
    return family_of(row) if row else None


def head_name() -> sa.ScalarSelect[Any]:
    """The name of the family's active head (the first, should a family have two), correlated to ``families``."""
    return (
        sa.select(members.c.name)
        .where(
            join_on(members.c.family_id, families.c.id),
            members.c.relationship == "kepala_keluarga",
            members.c.status == RegistryStatus.AKTIF.value,
        )
        .order_by(members.c.id)
        .limit(1)
        .scalar_subquery()
    )


def _summary_query(area_code: str) -> sa.Select[Any]:
    head = head_name()
    count = (
        sa.select(sa.func.count())
        .where(join_on(members.c.family_id, families.c.id), members.c.status == RegistryStatus.AKTIF.value)
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


def _like(word: str) -> str:
    return "%" + word.upper().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def search(
    conn: sa.Connection, area_code: str, query: str, limit: int, offset: int = 0
) -> list[dict[str, Any]]:
    """Families in the area whose KK or a member's NIK is ``query``, or one of whose members has every word of it in
    their name; each with ``matched_name``, the first member who matched."""
    text = query.strip()
    if Nik.looks_like(text):  # (a KK number looks the same: both are matched)
        matches = (
            sa.select(
                members.c.family_id, members.c.office_code, sa.func.min(members.c.id).label("member_id")
            )
            .where(members.c.nik == text)
            .group_by(members.c.family_id, members.c.office_code)  # (its office: carried to the joins)
            .subquery()
        )
        cond = sa.or_(families.c.kk_number == text, families.c.id.in_(sa.select(matches.c.family_id)))
    else:
        words = [sa.func.upper(members.c.name).like(_like(word), escape="\\") for word in text.split()]
        matches = (
            sa.select(
                members.c.family_id, members.c.office_code, sa.func.min(members.c.id).label("member_id")
            )
            .where(*words)
            .group_by(members.c.family_id, members.c.office_code)  # (its office: carried to the joins)
            .subquery()
        )
        cond = families.c.id.in_(sa.select(matches.c.family_id))
    matched = (
        sa.select(members.c.name)
        .join(matches, join_on(matches.c.member_id, members.c.id))
        .where(join_on(matches.c.family_id, families.c.id))
        .scalar_subquery()
    )
    q = (
        _summary_query(area_code)
        .add_columns(matched.label("matched_name"))
        .where(cond)
        .order_by(families.c.kelurahan_code, families.c.rw, families.c.rt, families.c.id)
    )
    return [dict(r) for r in conn.execute(q.offset(offset).limit(limit)).mappings()]


def list_in(
    conn: sa.Connection, area_code: str, kelurahan_code: str, rw: int | None, offset: int, limit: int
) -> list[dict[str, Any]]:
    q = _summary_query(area_code).where(families.c.kelurahan_code == kelurahan_code)
    if rw is not None:
        q = q.where(families.c.rw == rw)
    q = q.order_by(families.c.rw, families.c.rt, families.c.id).offset(offset).limit(limit)
    return [dict(r) for r in conn.execute(q).mappings()]


def counts_by(
    conn: sa.Connection, area_code: str, key: str, within: str | None = None
) -> dict[Any, tuple[int, int]]:
    """Active families and members per ``key`` (``kecamatan_code``, ``kelurahan_code`` or ``rw``): two grouped scans."""
    group = families.c[key]
    where = [in_area(area_code), families.c.registry_status == RegistryStatus.AKTIF.value]
    if within is not None:
        where.append(in_area(within))
    family_counts = sa.select(group, sa.func.count()).where(*where).group_by(group)
    member_counts = (
        sa.select(group, sa.func.count())
        .select_from(members.join(families, join_on(members.c.family_id, families.c.id)))
        .where(*where, members.c.status == RegistryStatus.AKTIF.value)
        .group_by(group)
    )
    people = {row[0]: int(row[1]) for row in conn.execute(member_counts)}
    return {row[0]: (int(row[1]), people.get(row[0], 0)) for row in conn.execute(family_counts)}


def _touched_by(import_id: int) -> sa.CompoundSelect[tuple[int]]:
    """Ids of the families an import created or changed, or one of whose members it created or changed."""
    return sa.union(
        sa.select(families.c.id).where(families.c.import_id == import_id),
        sa.select(members.c.family_id).where(members.c.import_id == import_id),
    )


def headless_after_import(conn: sa.Connection, import_id: int) -> list[str]:
    """KK numbers of the active families an import touched that have no active head (kepala keluarga)."""
    head = (
        sa.select(members.c.id)
        .where(
            join_on(members.c.family_id, families.c.id),
            members.c.relationship == "kepala_keluarga",
            members.c.status == RegistryStatus.AKTIF.value,
        )
        .exists()
    )
    q = (
        sa.select(families.c.kk_number)
        .where(
            families.c.id.in_(_touched_by(import_id).scalar_subquery()),
            families.c.registry_status == RegistryStatus.AKTIF.value,
            ~head,
        )
        .order_by(families.c.kk_number)
    )
    return list(conn.execute(q).scalars())


def deceased_active_after_import(conn: sa.Connection, import_id: int) -> list[str]:
    """NIKs of the members an import created or changed who are recorded as dead but still active."""
    q = (
        sa.select(members.c.nik)
        .where(
            members.c.import_id == import_id,
            members.c.life_status == LifeStatus.MENINGGAL.value,
            members.c.status == RegistryStatus.AKTIF.value,
        )
        .order_by(members.c.nik)
    )
    return list(conn.execute(q).scalars())
