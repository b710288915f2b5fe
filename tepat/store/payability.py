"""Whether an entitlement may be paid now: one rule, read by approval, batch creation and every registry change.

An entitlement is unpayable when its recipient died, was deactivated or left the
family; when the family was deactivated or found not eligible (a verification visit
or an upheld sanggah: ``verification_status = 'ditolak'``); or when the family now
lives outside the cycle's area. ``block_unpayable`` turns such entitlements (not yet
on their way to the bank) into ``diblokir`` with the reason, in the caller's
transaction; running it again blocks nothing more.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from tepat.domain.cycles import CycleState
from tepat.domain.entitlements import BlockReason, EntitlementState, sources_of
from tepat.domain.households import InactiveReason, LifeStatus, RegistryStatus, VerificationStatus
from tepat.store.payment_states import entitlement_state_in
from tepat.store.schema import benefit_cycles, entitlements, families, members

# terjadwal, gagal: no live payment
BLOCKABLE = tuple(sorted(s.value for s in sources_of(EntitlementState.DIBLOKIR)))
# approved and not closed: approval re-checks the earlier ones
OPEN_FROZEN_CYCLES = (CycleState.DISETUJUI.value, CycleState.PEMBAYARAN.value)

_E, _M, _F, _C = entitlements.c, members.c, families.c, benefit_cycles.c


def _inactive(reason: sa.ColumnElement[str | None]) -> sa.ColumnElement[str]:
    return sa.case(
        (reason == InactiveReason.PINDAH.value, BlockReason.PINDAH.value),
        (reason == InactiveReason.MENINGGAL.value, BlockReason.MENINGGAL.value),
        else_=BlockReason.NONAKTIF.value,
    )


def unpayable_reason() -> sa.ColumnElement[str | None]:
    """The reason (``BlockReason``) the entitlement may not be paid now, or NULL; over ``entitlements`` joined as in
    ``_source``."""
    inside_cycle_area = sa.or_(
        _C.area_code == "",
        _F.kelurahan_code == _C.area_code,
        _F.kelurahan_code.startswith(_C.area_code + "."),
    )
    return sa.case(
        (_F.registry_status != RegistryStatus.AKTIF.value, _inactive(_F.inactive_reason)),
        (_F.verification_status == VerificationStatus.DITOLAK.value, BlockReason.TIDAK_LAYAK.value),
        (sa.not_(inside_cycle_area), BlockReason.PINDAH.value),
        (_M.id.is_(None), BlockReason.NONAKTIF.value),
        (_M.life_status == LifeStatus.MENINGGAL.value, BlockReason.MENINGGAL.value),
        (_M.status != RegistryStatus.AKTIF.value, _inactive(_M.inactive_reason)),
        (_M.family_id != _E.family_id, BlockReason.PINDAH.value),
        else_=sa.null(),
    )


def _source() -> sa.FromClause:
    return (
        entitlements.outerjoin(members, _M.id == _E.member_id)
        .join(families, _F.id == _E.family_id)
        .join(benefit_cycles, _C.id == _E.cycle_id)
    )


def block_unpayable(
    conn: sa.Connection,
    at: datetime,
    *,
    cycle_id: int | None = None,
    family_ids: Iterable[int] = (),
    member_ids: Iterable[int] = (),
    everyone: bool = False,
    states: Iterable[str] = BLOCKABLE,
) -> int:
    """Block the unpayable entitlements of ``cycle_id`` (whatever its state: approval and batch creation), or of
    the open frozen cycles for these families and members (or ``everyone``, after an import); returns how many."""
    states = list(states)
    # as they are now: an entitlement whose payment the bank failed is blocked before any retry
    where: list[sa.ColumnElement[bool]] = [entitlement_state_in(_E, states)]
    if cycle_id is not None:
        where.append(_E.cycle_id == cycle_id)
    else:
        where.append(_C.state.in_(OPEN_FROZEN_CYCLES))
        families_ = sorted(set(family_ids))
        members_ = sorted(set(member_ids))
        if not everyone:
            if not families_ and not members_:
                return 0
            where.append(sa.or_(_E.family_id.in_(families_), _E.member_id.in_(members_)))
    reason = unpayable_reason()
    found = [
        {"e_id": entitlement_id, "e_reason": why}
        for entitlement_id, why in conn.execute(
            sa.select(_E.id, reason).select_from(_source()).where(*where, reason.is_not(None))
        )
    ]
    if found:
        conn.execute(
            entitlements.update()
            .where(_E.id == sa.bindparam("e_id"), entitlement_state_in(_E, states))
            .values(
                state=EntitlementState.DIBLOKIR.value, block_reason=sa.bindparam("e_reason"), updated_at=at
            ),
            found,
        )
    return len(found)


def preview(
    conn: sa.Connection, cycle_id: int, *, lines: int = 100
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """What ``block_unpayable`` would block in a cycle's ``terjadwal`` list now, without changing anything:
    (count and amount per reason, the first ``lines`` lines by rank)."""
    reason = unpayable_reason()
    where = [_E.cycle_id == cycle_id, _E.state == EntitlementState.TERJADWAL.value, reason.is_not(None)]
    by_reason = [
        {"reason": why, "count": int(n), "amount": int(total or 0)}
        for why, n, total in conn.execute(
            sa.select(reason, sa.func.count(), sa.func.sum(_E.amount))
            .select_from(_source())
            .where(*where)
            .group_by(reason)
            .order_by(reason)
        )
    ]
    listed = [
        dict(r)
        for r in conn.execute(
            sa.select(
                _E.id,
                _E.rank,
                _E.recipient_name,
                _E.kk_number,
                _E.kelurahan_code,
                _E.amount,
                reason.label("reason"),
            )
            .select_from(_source())
            .where(*where)
            .order_by(_E.rank)
            .limit(lines)
        ).mappings()
    ]
    return by_reason, listed
