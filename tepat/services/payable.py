"""Blocking what may no longer be paid, in the transaction of the change that made it so (issue 18 point 1).

Every path that makes a person or family ineligible for payment — a death or a
deactivation on a page, through the API or an import, the civil-registry file, a
verification visit that rejects the family, an upheld sanggah, a move accepted by
another area — calls ``block_after_change`` in its own transaction; approval and
batch creation re-check whole cycles with the same rule (``tepat.store.payability``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa

from tepat.domain.access import Actor
from tepat.domain.audit_actions import AuditAction
from tepat.store import audit
from tepat.store.payability import block_unpayable


def block_after_change(
    conn: sa.Connection,
    actor: Actor,
    at: datetime,
    *,
    family_ids: Iterable[int] = (),
    member_ids: Iterable[int] = (),
    everyone: bool = False,
    source: str = "registri",
) -> int:
    """Block the unpaid entitlements (of approved, open cycles) these families and members may no longer receive;
    audited when any was blocked. Returns how many."""
    families_, members_ = sorted(set(family_ids)), sorted(set(member_ids))
    blocked = 0
    step = 5_000  # under SQLite's bound-parameter limit
    if everyone:
        blocked = block_unpayable(conn, at, everyone=True)
    else:
        for start in range(0, max(len(families_), len(members_)), step):
            blocked += block_unpayable(
                conn,
                at,
                family_ids=families_[start : start + step],
                member_ids=members_[start : start + step],
            )
    if blocked:
        audit.record(
            conn,
            actor,
            AuditAction.ENTITLEMENT_BLOCK,
            "entitlements",
            None,
            detail={
                "blocked": blocked,
                "source": source,
                "families": len(families_),
                "members": len(members_),
            },
        )
    return blocked
