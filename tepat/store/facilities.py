"""Health facilities with API keys, their coverage checks, and the service cycles of a NIK."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from tepat.domain.coverage import NOT_COVERING
from tepat.domain.cycles import FROZEN_STATES
from tepat.domain.households import LifeStatus
from tepat.domain.programmes import BenefitType
from tepat.store.schema import benefit_cycles, coverage_checks, entitlements, facilities, members, programmes

COVERING_CYCLE_STATES = tuple(sorted(FROZEN_STATES))


def insert(conn: sa.Connection, values: dict[str, Any]) -> int:
    return int(conn.execute(facilities.insert().values(**values).returning(facilities.c.id)).scalar_one())


def by_code(conn: sa.Connection, code: str) -> dict[str, Any] | None:
    row = conn.execute(sa.select(facilities).where(facilities.c.code == code)).mappings().first()
    return dict(row) if row else None


def active_by_key_hash(conn: sa.Connection, key_hash: str) -> dict[str, Any] | None:
    """The active facility holding the key with this SHA-256 (unique index: one lookup)."""
    row = conn.execute(_BY_KEY, {"key_hash": key_hash}).mappings().first()
    return dict(row) if row else None


def list_all(conn: sa.Connection, since: datetime) -> list[dict[str, Any]]:
    """Every facility with its checks since ``since`` (count, and how many found coverage)."""
    counts = (
        sa.select(
            coverage_checks.c.facility_id,
            sa.func.count().label("checks"),
            sa.func.sum(sa.case((coverage_checks.c.covered.is_(True), 1), else_=0)).label("covered"),
            sa.func.max(coverage_checks.c.at).label("last_check"),
        )
        .where(coverage_checks.c.at >= since)
        .group_by(coverage_checks.c.facility_id)
        .subquery()
    )
    q = (
        sa.select(
            facilities.c.id,
            facilities.c.code,
            facilities.c.name,
            facilities.c.kind,
            facilities.c.key_prefix,
            facilities.c.active,
            facilities.c.created_by,
            facilities.c.created_at,
            facilities.c.revoked_at,
            sa.func.coalesce(counts.c.checks, 0).label("checks"),
            sa.func.coalesce(counts.c.covered, 0).label("covered"),
            counts.c.last_check,
        )
        .outerjoin(counts, counts.c.facility_id == facilities.c.id)
        .order_by(facilities.c.active.desc(), facilities.c.code)
    )
    return [dict(r) for r in conn.execute(q).mappings()]


def revoke(conn: sa.Connection, facility_id: int, at: datetime) -> bool:
    """Switch the facility's key off; False when it was already revoked."""
    done = conn.execute(
        facilities.update()
        .where(facilities.c.id == facility_id, facilities.c.active.is_(True))
        .values(active=False, revoked_at=at)
    )
    return done.rowcount == 1


_LOG = coverage_checks.insert()


def record_check(conn: sa.Connection, facility_id: int, nik_hash: str, covered: bool, at: datetime) -> None:
    conn.execute(_LOG, {"facility_id": facility_id, "nik_hash": nik_hash, "covered": covered, "at": at})


def _coverage_query() -> sa.Select[Any]:
    e, c, p = entitlements.c, benefit_cycles.c, programmes.c
    return (
        sa.select(
            p.name.label("programme"),
            c.id.label("cycle_id"),
            c.period_start,
            c.period_end,
            c.programme_snapshot["coverage_months"].as_integer().label("coverage_months"),
            e.state,
            members.c.name,
        )
        .select_from(
            members.join(entitlements, e.member_id == members.c.id)
            .join(benefit_cycles, c.id == e.cycle_id)
            .join(programmes, p.id == c.programme_id)
        )
        .where(
            members.c.nik == sa.bindparam("nik", type_=sa.String),
            p.benefit_type == BenefitType.LAYANAN.value,
            c.state.in_(COVERING_CYCLE_STATES),
            c.period_start <= sa.bindparam("today", type_=sa.Date),
            e.state.not_in(sorted(NOT_COVERING)),
            # a death recorded after the cycle was closed blocks nothing in it, but ends the cover
            members.c.life_status == LifeStatus.HIDUP.value,
        )
        .order_by(c.id)
    )


_COVERAGE = _coverage_query()  # built once: building the statement cost more than running it
_BY_KEY = sa.select(facilities.c.id, facilities.c.code, facilities.c.name).where(
    facilities.c.key_hash == sa.bindparam("key_hash", type_=sa.String), facilities.c.active.is_(True)
)


def service_cycles(conn: sa.Connection, nik: str, today: date) -> list[dict[str, Any]]:
    """The person's entitlements in frozen cycles of service (layanan) programmes begun by ``today``.

    One indexed query: the NIK finds the person (``ix_members_nik``), their
    entitlements come by ``ix_entitlements_member_id``. Blocked or cancelled
    entitlements (deceased, moved away, duplicates) are left out: they cover
    nothing; nor does anyone the registry records as dead, whatever their
    cycles say. Each row carries the cycle's snapshot ``coverage_months``;
    which of them covers today, and until when, is ``tepat.domain.coverage``'s
    to say.
    """
    return [dict(r) for r in conn.execute(_COVERAGE, {"nik": nik, "today": today}).mappings()]
