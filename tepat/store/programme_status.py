"""Programme status for the public status check: the person's entitlements in frozen cycles, in one query.

One query per check: the person's family entitlements (unit keluarga) and own
entitlements (unit orang) come by ``ix_entitlements_family_id`` and
``ix_entitlements_member_id``; a window picks the latest frozen cycle of each
programme, and every frozen cycle of a service (``layanan``) programme is kept,
since an older one may still cover today. Only frozen cycles count (approved,
paying, closed): a draft list may still change and must not raise a family's
hopes. The words a resident reads are ``tepat.domain.programme_status``'s.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa

from tepat.domain.cycles import FROZEN_STATES
from tepat.domain.payments import PaymentState
from tepat.domain.programme_status import Entry, programme_statuses
from tepat.domain.programmes import BenefitType
from tepat.domain.validation import parse_date
from tepat.store.areas import join_on
from tepat.store.payment_states import entitlement_paid_at, entitlement_state, line_settled_on, line_state
from tepat.store.schema import benefit_cycles, entitlements, payments, programmes

FROZEN = tuple(sorted(FROZEN_STATES))


def _query() -> sa.Select[Any]:
    """The statement, built once (building it cost more than running it): binds ``family_id``, ``member_id``."""
    e, c, p = entitlements.c, benefit_cycles.c, programmes.c
    family_id, member_id = (
        sa.bindparam("family_id", type_=sa.Integer),
        sa.bindparam("member_id", type_=sa.Integer),
    )
    latest = sa.func.row_number().over(
        partition_by=c.programme_id, order_by=(c.period_start.desc(), c.id.desc())
    )
    # The bank's settlement date of the line that paid it (not the moment the result file was imported).
    line = payments.alias("paid_line")
    settled = (
        sa.select(line_settled_on(line.c))
        .where(join_on(line.c.entitlement_id, e.id), line_state(line.c) == PaymentState.DIBAYAR.value)
        .order_by(line.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    mine = sa.or_(
        sa.and_(e.family_id == family_id, p.unit == "keluarga"),
        sa.and_(e.member_id == member_id, p.unit == "orang"),
    )
    ranked = (
        sa.select(
            c.programme_id,
            p.name.label("programme"),
            p.benefit_type,
            c.id.label("cycle_id"),
            c.period_start,
            c.period_end,
            entitlement_state(e).label("state"),
            entitlement_paid_at(e).label("paid_at"),
            settled.label("settled_on"),
            c.programme_snapshot["coverage_months"].as_integer().label("coverage_months"),
            latest.label("n"),
        )
        .select_from(
            entitlements.join(benefit_cycles, c.id == e.cycle_id).join(programmes, p.id == c.programme_id)
        )
        .where(sa.or_(e.family_id == family_id, e.member_id == member_id), mine, c.state.in_(FROZEN))
        .subquery()
    )
    return (
        sa.select(ranked)
        .where(sa.or_(ranked.c.n == 1, ranked.c.benefit_type == BenefitType.LAYANAN.value))
        .order_by(ranked.c.programme)
    )


_STATEMENT = _query()


def entries_for_person(conn: sa.Connection, family_id: int, member_id: int) -> list[Entry]:
    """The person's (and their family's) entitlements that the status speaks of."""
    rows = conn.execute(_STATEMENT, {"family_id": family_id, "member_id": member_id}).mappings()
    return [
        Entry(
            programme_id=r["programme_id"],
            programme=r["programme"],
            benefit_type=r["benefit_type"],
            cycle_id=r["cycle_id"],
            period_start=r["period_start"],
            period_end=r["period_end"],
            state=r["state"],
            paid_at=r["paid_at"],
            settled_on=None if r["settled_on"] is None else parse_date(r["settled_on"]),
            coverage_months=r["coverage_months"],
        )
        for r in rows
    ]


def programmes_for_person(
    conn: sa.Connection, family_id: int, member_id: int, today: date
) -> list[dict[str, str]]:
    """Each programme the person (or their family) is in: ``programme``, ``status`` and ``period``, by name."""
    return programme_statuses(entries_for_person(conn, family_id, member_id), today)
