"""The audit page: who read or changed whose data, for admins, inside their area (UU 27/2022; issue 13 point 8).

Entries are those whose area lies inside the admin's; entries recorded without an
area (some changes to members) are shown to admins of a whole kab/kota or wider.
Reading the log is itself a read of personal data (the search words and NIKs in
it), so it is audited too.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from tepat.domain.access import Actor, Permission
from tepat.domain.audit_actions import AuditAction
from tepat.domain.formatting import TIMEZONE
from tepat.domain.regions import Level, level_of
from tepat.errors import PermissionDenied
from tepat.store import audit
from tepat.store.database import Database

PER_PAGE = 100
EXPORT_MAX = 100_000


@dataclass(frozen=True)
class AuditFilter:
    """What the admin asked for: a user, an action (or its family, e.g. ``family``), a record id, a date range."""

    username: str = ""
    action: str = ""
    entity_id: str = ""
    since: date | None = None
    until: date | None = None  # inclusive

    def as_dict(self) -> dict[str, Any]:
        return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in asdict(self).items() if v}


def _require_admin(actor: Actor) -> None:
    if not actor.may(Permission.READ_AUDIT):
        raise PermissionDenied("Hanya Admin Dinsos yang dapat membuka log audit.")


def _unplaced(actor: Actor) -> bool:
    return actor.area_code == "" or level_of(actor.area_code) in (Level.PROVINSI, Level.KABKOTA)


def _start(day: date | None) -> datetime | None:
    return None if day is None else datetime.combine(day, time(), tzinfo=TIMEZONE)


def _query(
    db: Database, actor: Actor, wanted: AuditFilter, offset: int, limit: int
) -> tuple[list[dict[str, Any]], int]:
    _require_admin(actor)
    audit.flush_reads(db)  # the reads of the last second too
    with db.read() as conn:
        return audit.search(
            conn,
            area_code=actor.area_code,
            unplaced=_unplaced(actor),
            username=wanted.username.strip() or None,
            action=wanted.action.strip() or None,
            entity_id=wanted.entity_id.strip() or None,
            since=_start(wanted.since),
            until=_start(wanted.until + timedelta(days=1)) if wanted.until else None,
            offset=offset,
            limit=limit,
        )


def entries(
    db: Database, actor: Actor, wanted: AuditFilter, *, page: int = 1
) -> tuple[list[dict[str, Any]], int]:
    """One page of matching entries, newest first, and how many match in all."""
    rows, total = _query(db, actor, wanted, (max(page, 1) - 1) * PER_PAGE, PER_PAGE)
    audit.record_read(
        db,
        actor,
        AuditAction.AUDIT_LOG_READ,
        "audit_log",
        None,
        area_code=actor.area_code or None,
        detail={**wanted.as_dict(), "page": page, "rows": len(rows)},
    )
    return rows, total


def export(db: Database, actor: Actor, wanted: AuditFilter) -> list[dict[str, Any]]:
    """Every matching entry (at most ``EXPORT_MAX``), newest first; the export is audited."""
    rows, _ = _query(db, actor, wanted, 0, EXPORT_MAX)
    audit.record_read(
        db,
        actor,
        AuditAction.AUDIT_LOG_EXPORT,
        "audit_log",
        None,
        area_code=actor.area_code or None,
        detail={**wanted.as_dict(), "rows": len(rows)},
    )
    return rows
