"""Read-only queries behind the cycle documents (Daftar Nominatif, BAST) and the realisation report.

They read the frozen entitlement rows of a cycle (the beneficiary's details as
they were at approval), never the live registry, so a document printed today
and one printed after a registry edit are the same. Each query is grouped in
SQL so that a 250,000-row cycle becomes a few dozen rows before Python sees it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa

from tepat.domain.cycles import CycleState
from tepat.domain.entitlements import EntitlementState
from tepat.domain.payments import PaymentState
from tepat.store.areas import within
from tepat.store.cycles import with_programme
from tepat.store.payment_states import entitlement_paid_at, entitlement_state, line_state
from tepat.store.schema import benefit_cycles, entitlements, payments, programmes

DOCUMENT_STATES = (CycleState.DISETUJUI.value, CycleState.PEMBAYARAN.value, CycleState.DITUTUP.value)
"""Cycle states whose list is frozen: the only ones a document may be printed for."""

NOT_HANDED_OVER = (EntitlementState.DIBLOKIR.value, EntitlementState.DIBATALKAN.value)
"""Entitlement states left out of a BAST's count and total."""


def cycle(conn: sa.Connection, cycle_id: int) -> dict[str, Any] | None:
    """The cycle with its programme's name, code, unit, benefit type and budget."""
    q = with_programme(
        programmes.c.unit,
        programmes.c.benefit_type,
        programmes.c.funding_source,
        programmes.c.annual_budget,
        programmes.c.budget_year,
    ).where(benefit_cycles.c.id == cycle_id)
    row = conn.execute(q).mappings().first()
    return dict(row) if row else None


def kelurahan_totals(
    conn: sa.Connection, cycle_id: int, kelurahan_code: str | None = None
) -> list[dict[str, Any]]:
    """Per kelurahan of the cycle (or just ``kelurahan_code``): entitlements, amount, handed over / paid / blocked."""
    handed = entitlements.c.state.not_in(NOT_HANDED_OVER)
    q = (
        sa.select(
            entitlements.c.kelurahan_code,
            entitlements.c.kecamatan_code,
            sa.func.count().label("entitlements"),
            sa.func.sum(sa.case((handed, 1), else_=0)).label("handed_over"),
            sa.func.sum(sa.case((handed, entitlements.c.amount), else_=0)).label("amount"),
            sa.func.sum(
                sa.case((entitlement_state(entitlements.c) == EntitlementState.DIBAYAR.value, 1), else_=0)
            ).label("paid"),
            sa.func.sum(sa.case((entitlements.c.state == EntitlementState.DIBLOKIR.value, 1), else_=0)).label(
                "blocked"
            ),
        )
        .where(
            entitlements.c.cycle_id == cycle_id,
            entitlements.c.kelurahan_code == kelurahan_code if kelurahan_code else sa.true(),
        )
        .group_by(entitlements.c.kelurahan_code, entitlements.c.kecamatan_code)
        .order_by(entitlements.c.kelurahan_code)
    )
    return [
        {k: (int(v) if k not in ("kelurahan_code", "kecamatan_code") else v) for k, v in r.items()}
        for r in conn.execute(q).mappings()
    ]


def nominatif_rows(conn: sa.Connection, cycle_id: int, kelurahan_code: str) -> list[dict[str, Any]]:
    """The frozen by-name rows of one kelurahan, in RW, RT, name order (the order of a handover table)."""
    e = entitlements.c
    q = (
        sa.select(
            e.id,
            e.recipient_name,
            e.recipient_nik,
            e.kk_number,
            e.rw,
            e.rt,
            e.address,
            e.desil,
            e.level,
            e.amount,
            entitlement_state(e).label("state"),
            e.block_reason,
            entitlement_paid_at(e).label("paid_at"),
        )
        .where(e.cycle_id == cycle_id, e.kelurahan_code == kelurahan_code)
        .order_by(e.rw, e.rt, e.recipient_name, e.id)
    )
    return [dict(r) for r in conn.execute(q).mappings()]


def rw_totals(conn: sa.Connection, cycle_id: int, kelurahan_code: str) -> list[dict[str, Any]]:
    """Per RW of one kelurahan: recipients and amount handed over (the BAST's attached summary)."""
    e = entitlements.c
    q = (
        sa.select(e.rw, sa.func.count().label("recipients"), sa.func.sum(e.amount).label("amount"))
        .where(e.cycle_id == cycle_id, e.kelurahan_code == kelurahan_code, e.state.not_in(NOT_HANDED_OVER))
        .group_by(e.rw)
        .order_by(e.rw)
    )
    return [
        {"rw": int(r.rw), "recipients": int(r.recipients), "amount": int(r.amount or 0)}
        for r in conn.execute(q)
    ]


def realisation_cells(conn: sa.Connection, year: int, area_code: str) -> list[dict[str, Any]]:
    """Planned, blocked, paid and returned rupiah per (programme, kecamatan, cycle period start) of one year.

    Planned is every entitlement of a frozen cycle that was not cancelled or
    blocked; paid and returned come from the payment lines (what the bank or
    PT Pos reported), so a returned payment is not counted as paid.
    """
    e, c = entitlements.c, benefit_cycles.c
    frozen = sa.and_(
        c.state.in_(DOCUMENT_STATES),
        c.period_start >= date(year, 1, 1),
        c.period_start <= date(year, 12, 31),
        within(e.kelurahan_code, area_code),
    )
    keys = (c.programme_id, e.kecamatan_code, c.period_start)
    planned_q = (
        sa.select(
            *keys,
            sa.func.sum(sa.case((e.state.not_in(NOT_HANDED_OVER), 1), else_=0)).label("planned_count"),
            sa.func.sum(sa.case((e.state.not_in(NOT_HANDED_OVER), e.amount), else_=0)).label("planned"),
            sa.func.sum(sa.case((e.state == EntitlementState.DIBLOKIR.value, e.amount), else_=0)).label(
                "blocked"
            ),
        )
        .select_from(entitlements.join(benefit_cycles, benefit_cycles.c.id == e.cycle_id))
        .where(frozen)
        .group_by(*keys)
    )
    p = payments.c
    state = line_state(p)
    paid_q = (
        sa.select(
            *keys,
            sa.func.sum(sa.case((state == PaymentState.DIBAYAR.value, 1), else_=0)).label("paid_count"),
            sa.func.sum(sa.case((state == PaymentState.DIBAYAR.value, p.amount), else_=0)).label("paid"),
            sa.func.sum(sa.case((state == PaymentState.DIKEMBALIKAN.value, p.amount), else_=0)).label(
                "returned"
            ),
        )
        .select_from(
            payments.join(entitlements, e.id == p.entitlement_id).join(
                benefit_cycles, benefit_cycles.c.id == e.cycle_id
            )
        )
        .where(
            frozen,
            state.in_(
                (
                    PaymentState.DIBAYAR.value,
                    PaymentState.DIKEMBALIKAN.value,
                )
            ),
        )
        .group_by(*keys)
    )
    cells: dict[tuple[int, str, date], dict[str, Any]] = {}
    empty = {"planned_count": 0, "planned": 0, "blocked": 0, "paid_count": 0, "paid": 0, "returned": 0}
    for query in (planned_q, paid_q):
        for r in conn.execute(query).mappings():
            key = (int(r["programme_id"]), r["kecamatan_code"], r["period_start"])
            cell = cells.setdefault(
                key, {"programme_id": key[0], "kecamatan_code": key[1], "month": key[2].month, **empty}
            )
            for name in empty:
                if name in r:
                    cell[name] += int(r[name] or 0)
    return sorted(cells.values(), key=lambda x: (x["programme_id"], x["kecamatan_code"], x["month"]))


def report_programmes(
    conn: sa.Connection, year: int, ids: list[int], offices: Sequence[str]
) -> dict[int, dict[str, Any]]:
    """The programmes of a report: those with cycles in it (``ids``) and those of ``offices`` budgeted for
    ``year``."""
    budgeted = sa.and_(
        programmes.c.budget_year == year,
        programmes.c.active.is_(True),
        programmes.c.office_code.in_(list(offices)),
    )
    q = sa.select(
        programmes.c.id,
        programmes.c.code,
        programmes.c.name,
        programmes.c.budget_year,
        programmes.c.annual_budget,
    ).where(sa.or_(programmes.c.id.in_(ids), budgeted) if ids else budgeted)
    return {int(r.id): dict(r._mapping) for r in conn.execute(q)}


def coverage_by_area(conn: sa.Connection, level: str, area_code: str, year: int) -> list[dict[str, Any]]:
    """Units covered per (area, programme) in ``year``: families (unit keluarga) or people (unit orang).

    ``level`` is ``kelurahan`` or ``kecamatan``; areas come from the frozen
    entitlement rows (where the beneficiary lived when the cycle was approved).
    Active programmes only; blocked and cancelled entitlements do not count.
    """
    e, c, p = entitlements.c, benefit_cycles.c, programmes.c
    column = e.kelurahan_code if level == "kelurahan" else e.kecamatan_code
    q = (
        sa.select(
            column.label("code"),
            p.id.label("programme_id"),
            p.name,
            p.unit,
            sa.func.count(sa.distinct(e.unit_key)).label("units"),
        )
        .select_from(
            entitlements.join(benefit_cycles, c.id == e.cycle_id).join(programmes, p.id == c.programme_id)
        )
        .where(
            p.active.is_(True),
            c.state.in_(DOCUMENT_STATES),
            e.state.not_in(NOT_HANDED_OVER),
            c.period_start <= date(year, 12, 31),
            c.period_end >= date(year, 1, 1),
            within(column, area_code),
        )
        .group_by(column, p.id, p.name, p.unit)
    )
    return [dict(r) for r in conn.execute(q).mappings()]
