"""Queries over citizen cases (usul, sanggah, pengaduan), their state history, uploads and verification visits."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from tepat.domain.cases import Case
from tepat.domain.households import RegistryStatus
from tepat.domain.regions import office_of
from tepat.store.areas import office_of_family
from tepat.store.families import head_name, in_area
from tepat.store.schema import case_events, cases, families, uploads, verification_visits


def insert_case(conn: sa.Connection, values: dict[str, Any]) -> int:
    office = (
        office_of_family(values["subject_family_id"])
        if values.get("subject_family_id") is not None
        else office_of(values["kelurahan_code"])
    )
    return int(
        conn.execute(cases.insert().values(**values, office_code=office).returning(cases.c.id)).scalar_one()
    )


def add_event(
    conn: sa.Connection,
    case_id: int,
    at: datetime,
    actor: str,
    from_state: str | None,
    to_state: str,
    note: str | None,
) -> None:
    conn.execute(
        case_events.insert().values(
            case_id=case_id, at=at, actor=actor, from_state=from_state, to_state=to_state, note=note
        )
    )


def get(conn: sa.Connection, case_id: int, *, lock: bool = False) -> Case | None:
    q = sa.select(cases).where(cases.c.id == case_id)
    if lock and conn.dialect.name == "postgresql":
        q = q.with_for_update()
    row = conn.execute(q).mappings().first()
    return Case.from_row(row) if row else None


def by_tracking_number(conn: sa.Connection, number: str) -> Case | None:
    row = conn.execute(sa.select(cases).where(cases.c.tracking_number == number)).mappings().first()
    return Case.from_row(row) if row else None


def update(conn: sa.Connection, case_id: int, values: dict[str, Any]) -> None:
    conn.execute(cases.update().where(cases.c.id == case_id).values(**values))


def events(conn: sa.Connection, case_id: int) -> list[dict[str, Any]]:
    q = (
        sa.select(case_events)
        .where(case_events.c.case_id == case_id)
        .order_by(case_events.c.at, case_events.c.id)
    )
    return [dict(r) for r in conn.execute(q).mappings()]


def listing(
    conn: sa.Connection,
    area_code: str,
    *,
    kind: str | None = None,
    states: list[str] | None = None,
    open_only: bool = False,
    overdue_at: datetime | None = None,
    limit: int = 200,
) -> list[Case]:
    """Cases whose kelurahan lies in ``area_code``, newest first."""
    q = sa.select(cases).where(in_area(area_code, cases.c.kelurahan_code))
    if kind:
        q = q.where(cases.c.kind == kind)
    if states:
        q = q.where(cases.c.state.in_(states))
    if open_only or overdue_at is not None:
        q = q.where(cases.c.closed_at.is_(None))
    if overdue_at is not None:
        q = q.where(cases.c.deadline.is_not(None), cases.c.deadline < overdue_at)
    q = q.order_by(cases.c.created_at.desc(), cases.c.id.desc()).limit(limit)
    return [Case.from_row(r) for r in conn.execute(q).mappings()]


def count_open(
    conn: sa.Connection,
    area_code: str,
    *,
    kind: str | None = None,
    states: list[str] | None = None,
    overdue_at: datetime | None = None,
) -> int:
    """How many open cases in the area (of a kind, in these states, past their deadline at ``overdue_at``)."""
    q = (
        sa.select(sa.func.count())
        .select_from(cases)
        .where(in_area(area_code, cases.c.kelurahan_code), cases.c.closed_at.is_(None))
    )
    if kind:
        q = q.where(cases.c.kind == kind)
    if states:
        q = q.where(cases.c.state.in_(states))
    if overdue_at is not None:
        q = q.where(cases.c.deadline.is_not(None), cases.c.deadline < overdue_at)
    return int(conn.execute(q).scalar_one())


def add_upload(conn: sa.Connection, values: dict[str, Any]) -> int:
    return int(conn.execute(uploads.insert().values(**values).returning(uploads.c.id)).scalar_one())


def attach_uploads(
    conn: sa.Connection, upload_ids: list[int], *, case_id: int | None = None, visit_id: int | None = None
) -> None:
    if upload_ids:
        values = {k: v for k, v in {"case_id": case_id, "visit_id": visit_id}.items() if v is not None}
        conn.execute(uploads.update().where(uploads.c.id.in_(upload_ids)).values(**values))


def get_upload(conn: sa.Connection, upload_id: int) -> dict[str, Any] | None:
    row = conn.execute(sa.select(uploads).where(uploads.c.id == upload_id)).mappings().first()
    return dict(row) if row else None


def uploads_of(conn: sa.Connection, case_id: int) -> list[dict[str, Any]]:
    q = sa.select(uploads).where(uploads.c.case_id == case_id).order_by(uploads.c.id)
    return [dict(r) for r in conn.execute(q).mappings()]


def has_upload(conn: sa.Connection, case_id: int, purpose: str) -> bool:
    q = sa.select(sa.func.count()).where(uploads.c.case_id == case_id, uploads.c.purpose == purpose)
    return bool(conn.execute(q).scalar_one())


def insert_visit(conn: sa.Connection, values: dict[str, Any]) -> int:
    return int(
        conn.execute(
            verification_visits.insert()
            .values(**values, office_code=office_of_family(values["family_id"]))
            .returning(verification_visits.c.id)
        ).scalar_one()
    )


def visits_of(conn: sa.Connection, family_id: int) -> list[dict[str, Any]]:
    q = (
        sa.select(verification_visits)
        .where(verification_visits.c.family_id == family_id)
        .order_by(verification_visits.c.visited_on.desc(), verification_visits.c.id.desc())
    )
    return [dict(r) for r in conn.execute(q).mappings()]


def _due_where(
    area_code: str, before: date, kelurahan: str | None, rw: int | None
) -> list[sa.ColumnElement[bool]]:
    where = [
        in_area(area_code),
        families.c.registry_status == RegistryStatus.AKTIF.value,
        sa.or_(families.c.verified_on.is_(None), families.c.verified_on < before),
    ]
    if kelurahan:
        where.append(families.c.kelurahan_code == kelurahan)
    if rw is not None:
        where.append(families.c.rw == rw)
    return where


def families_due(
    conn: sa.Connection,
    area_code: str,
    before: date,
    limit: int,
    *,
    offset: int = 0,
    kelurahan: str | None = None,
    rw: int | None = None,
    by_place: bool = False,
) -> list[dict[str, Any]]:
    """Active families in the area never verified, or last verified before ``before``: never verified first, then
    the oldest verification (or, ``by_place``, in kelurahan, RW, RT order for a day's round)."""
    place = (families.c.kelurahan_code, families.c.rw, families.c.rt, families.c.id)
    age = (families.c.verified_on.is_not(None), families.c.verified_on)
    q = (
        sa.select(
            families.c.id,
            families.c.kelurahan_code,
            families.c.rw,
            families.c.rt,
            families.c.address,
            families.c.verification_status,
            families.c.verified_on,
            families.c.version,
            head_name().label("head_name"),
        )
        .where(*_due_where(area_code, before, kelurahan, rw))
        .order_by(*(place + age if by_place else age + place))
        .offset(offset)
        .limit(limit)
    )
    return [dict(r) for r in conn.execute(q).mappings()]


def count_families_due(
    conn: sa.Connection, area_code: str, before: date, *, kelurahan: str | None = None, rw: int | None = None
) -> int:
    """How many families ``families_due`` would list over all its pages."""
    q = sa.select(sa.func.count()).select_from(families).where(*_due_where(area_code, before, kelurahan, rw))
    return int(conn.execute(q).scalar_one())
