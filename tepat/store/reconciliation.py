"""Reconciliation queries: our payment lines per kelurahan and state, and the bank's rows we did not apply.

The first reads the batches' totals (``payment_batch_totals``, kept by every change of a line's state), the
others one filtered SELECT each, whatever the number of lines; states are read as they are now
(``tepat.store.payment_states``).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from tepat.domain.entitlements import EntitlementState
from tepat.domain.households import LifeStatus, RegistryStatus
from tepat.domain.payments import PaymentState, ResultImportStatus
from tepat.store.areas import join_on
from tepat.store.engine import as_utc
from tepat.store.payment_states import entitlement_state, line_reported_at, line_settled_on, line_state
from tepat.store.schema import (
    entitlements,
    is_mismatch,
    members,
    payment_batch_totals,
    payment_batches,
    payment_result_imports,
    payment_result_lines,
    payments,
    regions,
)

_P, _R, _I, _B, _T = (
    payments,
    payment_result_lines,
    payment_result_imports,
    payment_batches,
    payment_batch_totals,
)


def _scope(query: sa.Select[Any], batch_id: int | None, cycle_id: int | None) -> sa.Select[Any]:
    if batch_id is not None:
        return query.where(_P.c.batch_id == batch_id)
    return query.where(_P.c.batch_id.in_(sa.select(_B.c.id).where(_B.c.cycle_id == cycle_id)))


def by_kelurahan(
    conn: sa.Connection, *, batch_id: int | None = None, cycle_id: int | None = None
) -> list[dict[str, Any]]:
    """Per kelurahan: count and sum of lines in each state (planned = every line).

    The batches' totals per (kelurahan, state), pivoted here; the region names are looked up for the few
    kelurahan found.
    """
    q = sa.select(
        _T.c.kelurahan_code, _T.c.state, sa.func.sum(_T.c.lines), sa.func.sum(_T.c.amount)
    ).group_by(_T.c.kelurahan_code, _T.c.state)
    if batch_id is not None:
        q = q.where(_T.c.batch_id == batch_id)
    else:
        q = q.where(_T.c.batch_id.in_(sa.select(_B.c.id).where(_B.c.cycle_id == cycle_id)))
    empty = {
        "planned_count": 0,
        "planned_sum": 0,
        **{f"{s.value}_{k}": 0 for s in PaymentState for k in ("count", "sum")},
    }
    found: dict[str, dict[str, Any]] = {}
    for code, state, count, total in conn.execute(q):
        row = found.setdefault(code, {"kelurahan_code": code, "kelurahan_name": None, **empty})
        row["planned_count"] += int(count)
        row["planned_sum"] += int(total)
        if f"{state}_count" in row:
            row[f"{state}_count"] += int(count)
            row[f"{state}_sum"] += int(total)
    if found:
        names = dict(
            conn.execute(
                sa.select(regions.c.code, regions.c.name).where(regions.c.code.in_(list(found)))
            ).all()
        )
        for code, row in found.items():
            row["kelurahan_name"] = names.get(code)
    return [found[code] for code in sorted(found)]


def _our_line(ours: sa.FromClause) -> sa.ColumnElement[bool]:
    """Our line a ledger row names: its reference in the import's batch, in the row's office (the reference's key
    is (reference, office): one lookup per row)."""
    return sa.and_(
        ours.c.reference == _R.c.reference,
        ours.c.office_code == _R.c.office_code,
        ours.c.batch_id == _I.c.batch_id,
    )


def mismatches(
    conn: sa.Connection, *, batch_id: int | None = None, cycle_id: int | None = None, limit: int | None = 1000
) -> list[dict[str, Any]]:
    """The bank's rows that were not applied as sent, with our line beside them (newest import first)."""
    ours = _P.alias("ours")
    q = (
        sa.select(
            _R.c.import_id,
            _R.c.row_number,
            _R.c.reference,
            _R.c.recipient_nik.label("bank_nik"),
            _R.c.amount.label("bank_amount"),
            _R.c.status.label("bank_status"),
            _R.c.outcome,
            _R.c.detail,
            _I.c.batch_id,
            _I.c.file_name,
            ours.c.recipient_nik.label("our_nik"),
            ours.c.amount.label("our_amount"),
            line_state(ours.c).label("our_state"),
            ours.c.kelurahan_code,
        )
        .select_from(_R.join(_I, _I.c.id == _R.c.import_id).outerjoin(ours, _our_line(ours)))
        .where(
            is_mismatch(_R.c.outcome),
            _I.c.status == ResultImportStatus.SELESAI.value,
        )
        .order_by(_R.c.import_id.desc(), _R.c.row_number)
    )
    if batch_id is not None:
        q = q.where(_I.c.batch_id == batch_id)
    else:
        q = q.where(_I.c.batch_id.in_(sa.select(_B.c.id).where(_B.c.cycle_id == cycle_id)))
    if limit is not None:
        q = q.limit(limit)
    return [dict(r) for r in conn.execute(q).mappings()]


def mismatch_counts(
    conn: sa.Connection, *, batch_id: int | None = None, cycle_id: int | None = None
) -> list[dict[str, Any]]:
    """Mismatches per kind and kelurahan (what an analyst may see)."""
    ours = _P.alias("ours")
    q = (
        sa.select(_R.c.outcome, ours.c.kelurahan_code, sa.func.count().label("rows"))
        .select_from(_R.join(_I, _I.c.id == _R.c.import_id).outerjoin(ours, _our_line(ours)))
        .where(
            is_mismatch(_R.c.outcome),
            _I.c.status == ResultImportStatus.SELESAI.value,
        )
        .group_by(_R.c.outcome, ours.c.kelurahan_code)
    )
    if batch_id is not None:
        q = q.where(_I.c.batch_id == batch_id)
    else:
        q = q.where(_I.c.batch_id.in_(sa.select(_B.c.id).where(_B.c.cycle_id == cycle_id)))
    return [dict(r) for r in conn.execute(q).mappings()]


def entitlement_summary(conn: sa.Connection, cycle_id: int) -> dict[str, Any]:
    """Entitlements of a cycle per state, and how many have more than one paid line (must be zero)."""
    state = entitlement_state(entitlements.c)
    rows = conn.execute(
        sa.select(state, sa.func.count(), sa.func.coalesce(sa.func.sum(entitlements.c.amount), 0))
        .where(entitlements.c.cycle_id == cycle_id)
        .group_by(state)
    ).all()
    paid_twice = (
        sa.select(_P.c.entitlement_id)
        .join(entitlements, join_on(_P.c.entitlement_id, entitlements.c.id))
        .where(entitlements.c.cycle_id == cycle_id, line_state(_P.c) == PaymentState.DIBAYAR.value)
        .group_by(_P.c.entitlement_id)
        .having(sa.func.count() > 1)
        .subquery()
    )
    twice = int(conn.execute(sa.select(sa.func.count()).select_from(paid_twice)).scalar_one())
    state_vs_line = conn.execute(
        sa.select(sa.func.count())
        .select_from(entitlements)
        .where(
            entitlements.c.cycle_id == cycle_id,
            state == EntitlementState.DIBAYAR.value,
            ~sa.exists().where(
                join_on(_P.c.entitlement_id, entitlements.c.id),
                line_state(_P.c) == PaymentState.DIBAYAR.value,
            ),
        )
    ).scalar_one()
    return {
        "by_state": {str(s): {"count": int(c), "sum": int(t)} for s, c, t in rows},
        "paid_twice": twice,
        "paid_without_line": int(state_vs_line),
    }


def paid_when_gone(
    conn: sa.Connection, *, batch_id: int | None = None, cycle_id: int | None = None, limit: int = 1000
) -> list[dict[str, Any]]:
    """Lines reported paid whose recipient had died (death date on or before the settlement date) or had been made
    inactive (the inactive record dating from on or before it): money to recover or explain (issue 18 point 12).

    The database finds the paid lines of dead or inactive recipients (few); the dates are compared here, the same
    way on both databases."""
    e, m = entitlements.c, members.c
    q = (
        sa.select(
            _P.c.id.label("payment_id"),
            line_state(_P.c).label("state"),  # read for the few dead or inactive recipients only
            _P.c.reference,
            _P.c.recipient_nik,
            _P.c.recipient_name,
            _P.c.amount,
            _P.c.kelurahan_code,
            line_settled_on(_P.c).label("settled_on"),
            sa.func.coalesce(line_reported_at(_P.c), _P.c.updated_at).label("reported_at"),
            m.life_status,
            m.death_date,
            m.status.label("member_status"),
            m.inactive_reason,
            m.valid_from,
        )
        .select_from(_P.join(entitlements, e.id == _P.c.entitlement_id).join(members, m.id == e.member_id))
        .where(
            sa.or_(m.life_status == LifeStatus.MENINGGAL.value, m.status != RegistryStatus.AKTIF.value),
        )
        .order_by(_P.c.kelurahan_code, _P.c.reference)
    )
    found: list[dict[str, Any]] = []
    for row in conn.execute(_scope(q, batch_id, cycle_id)).mappings():
        r = dict(row)
        if r.pop("state") != PaymentState.DIBAYAR.value:
            continue
        reported = r.pop("reported_at")
        settled = r["settled_on"] or as_utc(reported).date()
        r["settled_on"] = settled
        r["inactive_since"] = as_utc(r.pop("valid_from")).date()
        dead = (
            r["life_status"] == LifeStatus.MENINGGAL
            and r["death_date"] is not None
            and r["death_date"] <= settled
        )
        inactive = r["member_status"] != RegistryStatus.AKTIF and r["inactive_since"] <= settled
        if dead or inactive:
            found.append(r)
            if len(found) >= limit:
                break
    return found
