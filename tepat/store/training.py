"""Training seats: enrolment, attendance per day and the end of each seat, as guarded set-based writes.

A seat is an entitlement of a training cycle; its state moves only along ``tepat.domain.entitlements``
(``WHERE state IN sources_of(target)``), so two people acting on the same seat cannot both move it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from tepat.domain.entitlements import EntitlementState, sources_of
from tepat.store.areas import join_on
from tepat.store.schema import entitlements, training_attendance, training_participation

_E, _P, _A = entitlements.c, training_participation.c, training_attendance.c


def _states(target: EntitlementState) -> list[str]:
    return sorted(s.value for s in sources_of(target))


def seats(conn: sa.Connection, cycle_id: int, area: sa.ColumnElement[bool]) -> list[dict[str, Any]]:
    """The cycle's seats inside ``area`` in rank order, with days attended and days recorded."""
    attended = (
        sa.select(
            _A.entitlement_id,
            _A.office_code,  # carried to the join: the seat's office key
            sa.func.count().label("recorded"),
            sa.func.sum(sa.case((_A.present.is_(True), 1), else_=0)).label("attended"),
        )
        .where(_A.cycle_id == cycle_id)
        .group_by(_A.entitlement_id, _A.office_code)
        .subquery()
    )
    q = (
        sa.select(
            _E.id,
            _E.member_id,
            _E.recipient_name,
            _E.recipient_nik,
            _E.kk_number,
            _E.kelurahan_code,
            _E.rt,
            _E.rw,
            _E.rank,
            _E.state,
            _E.block_reason,
            _E.cancel_reason,
            _P.enrolled_at,
            _P.finished_at,
            _P.note,
            sa.func.coalesce(attended.c.attended, 0).label("attended"),
            sa.func.coalesce(attended.c.recorded, 0).label("recorded"),
        )
        .select_from(
            entitlements.outerjoin(training_participation, join_on(_P.entitlement_id, _E.id)).outerjoin(
                attended, join_on(attended.c.entitlement_id, _E.id)
            )
        )
        .where(_E.cycle_id == cycle_id, area)
        .order_by(_E.rank, _E.unit_key)
    )
    return [dict(r) for r in conn.execute(q).mappings()]


def session_dates(conn: sa.Connection, cycle_id: int) -> list[date]:
    """The days attendance was recorded for, in order."""
    q = sa.select(_A.session_date).where(_A.cycle_id == cycle_id).distinct().order_by(_A.session_date)
    return [d for (d,) in conn.execute(q)]


def present_on(conn: sa.Connection, cycle_id: int, day: date) -> set[int]:
    """The seats recorded present on ``day``."""
    q = sa.select(_A.entitlement_id).where(
        _A.cycle_id == cycle_id, _A.session_date == day, _A.present.is_(True)
    )
    return {i for (i,) in conn.execute(q)}


def seats_in(conn: sa.Connection, cycle_id: int, ids: Sequence[int]) -> list[dict[str, Any]]:
    """The seats of the cycle among ``ids`` (any other id is not this cycle's)."""
    if not ids:
        return []
    q = sa.select(_E.id, _E.kelurahan_code, _E.state).where(
        _E.cycle_id == cycle_id, _E.id.in_(sorted(set(ids)))
    )
    return [dict(r) for r in conn.execute(q).mappings()]


def seats_of_niks(conn: sa.Connection, cycle_id: int, niks: Sequence[str]) -> dict[str, int]:
    """NIK → seat of the cycle, for those of ``niks`` holding one."""
    q = sa.select(_E.recipient_nik, _E.id).where(
        _E.cycle_id == cycle_id, _E.recipient_nik.in_(sorted(set(niks)))
    )
    return {str(nik): int(i) for nik, i in conn.execute(q)}


def _move(
    conn: sa.Connection,
    cycle_id: int,
    ids: Sequence[int],
    target: EntitlementState,
    at: datetime,
    **values: Any,
) -> list[int]:
    """Move the seats that may go to ``target``; returns the ids that moved."""
    moved = [
        i
        for (i,) in conn.execute(
            sa.select(_E.id).where(
                _E.cycle_id == cycle_id, _E.id.in_(sorted(set(ids))), _E.state.in_(_states(target))
            )
        )
    ]
    if moved:
        conn.execute(
            entitlements.update()
            .where(_E.id.in_(moved), _E.state.in_(_states(target)))
            .values(state=target.value, updated_at=at, **values)
        )
    return moved


def enrol(conn: sa.Connection, cycle_id: int, ids: Sequence[int], by: str, at: datetime) -> list[int]:
    """Offered seats (``terjadwal``) taken up: ``terdaftar``, with who enrolled them."""
    moved = _move(conn, cycle_id, ids, EntitlementState.TERDAFTAR, at)
    if moved:
        office = _offices(conn, moved)
        conn.execute(
            training_participation.insert(),
            [
                {
                    "entitlement_id": i,
                    "cycle_id": cycle_id,
                    "enrolled_by": by,
                    "enrolled_at": at,
                    "office_code": office.get(i),
                }
                for i in moved
            ],
        )
    return moved


def decline(conn: sa.Connection, cycle_id: int, ids: Sequence[int], reason: str, at: datetime) -> list[int]:
    """Offered seats turned down: ``dibatalkan`` with the reason."""
    return _move(conn, cycle_id, ids, EntitlementState.DIBATALKAN, at, cancel_reason=reason)


def finish(
    conn: sa.Connection,
    cycle_id: int,
    ids: Sequence[int],
    target: EntitlementState,
    note: str | None,
    by: str,
    at: datetime,
) -> list[int]:
    """Enrolled seats ended: ``selesai`` (completed) or ``tidak_lulus`` (with the note)."""
    moved = _move(conn, cycle_id, ids, target, at)
    if moved:
        conn.execute(
            training_participation.update()
            .where(_P.entitlement_id.in_(moved))
            .values(finished_by=by, finished_at=at, note=note)
        )
    return moved


def record_attendance(
    conn: sa.Connection,
    cycle_id: int,
    day: date,
    present: Sequence[int],
    absent: Sequence[int],
    by: str,
    at: datetime,
) -> None:
    """Present and absent seats on ``day`` (what was recorded for them that day before is replaced)."""
    here, everyone = set(present), sorted({*present, *absent})
    if not everyone:
        return
    conn.execute(training_attendance.delete().where(_A.session_date == day, _A.entitlement_id.in_(everyone)))
    office = _offices(conn, everyone)
    conn.execute(
        training_attendance.insert(),
        [
            {
                "entitlement_id": i,
                "session_date": day,
                "cycle_id": cycle_id,
                "present": i in here,
                "recorded_by": by,
                "recorded_at": at,
                "office_code": office.get(i),
            }
            for i in everyone
        ],
    )


def _offices(conn: sa.Connection, ids: Sequence[int]) -> dict[int, str]:
    """Each seat's office (its entitlement's), which its training rows carry."""
    rows = conn.execute(sa.select(_E.id, _E.office_code).where(_E.id.in_(ids)))
    return {int(i): str(o) for i, o in rows}
