"""A family's full change history: every version of the family and of its members, as the page shows it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from tepat.domain.access import Actor
from tepat.domain.audit_actions import AuditAction
from tepat.domain.households import (
    FAMILY_FIELDS,
    MEMBER_FIELDS,
)
from tepat.services.registry_access import record_read, visible_family
from tepat.store import versioning
from tepat.store.database import Database
from tepat.store.engine import as_utc
from tepat.store.schema import families, member_versions, members


@dataclass(frozen=True)
class HistoryEntry:
    """One change to a family or one of its members."""

    at: datetime
    actor: str
    reason: str
    entity: str  # "keluarga" | "anggota"
    entity_id: int
    entity_label: str
    version: int
    changes: list[tuple[str, Any, Any]]


_LABELS = {
    **{f.name: f.label for f in FAMILY_FIELDS},
    **{f.name: f.label for f in MEMBER_FIELDS},
    "family_id": "Keluarga",
    "status": "Status anggota",
    "inactive_reason": "Alasan nonaktif",
    "kecamatan_code": "Kecamatan",
}


_SKIP = {"id", "version", "valid_from", "valid_to", "changed_by", "change_reason", "import_id"}


def _diff(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> list[tuple[str, Any, Any]]:
    if old is None:
        return []
    return [(_LABELS.get(k, k), old.get(k), v) for k, v in new.items() if k not in _SKIP and old.get(k) != v]


_LEFT, _ELSEWHERE, _HERE = "pindah ke keluarga lain", "keluarga lain", "keluarga ini"


def _membership_history(rows: list[dict[str, Any]], family_id: int) -> list[HistoryEntry]:
    """The versions of members while they belonged to ``family_id``: their arrival and departure are shown, but
    nothing of the other family (not its id) nor of what changed while they were elsewhere (issue 13 point 2)."""
    entries: list[HistoryEntry] = []
    shown: dict[int, dict[str, Any]] = {}  # the member's last version in this family, while they are here
    for row in rows:  # by member, oldest version first
        here, before = row["family_id"] == family_id, shown.get(row["id"])
        if not here and before is None:
            continue
        at = as_utc(row["valid_from"]) or row["valid_from"]
        if not here:
            assert before is not None
            entries.append(
                HistoryEntry(
                    at=at,
                    actor=row["changed_by"],
                    reason="Keluar dari keluarga ini",
                    entity="anggota",
                    entity_id=row["id"],
                    entity_label=before["name"],
                    version=row["version"],
                    changes=[(_LABELS["family_id"], _HERE, _LEFT)],
                )
            )
            del shown[row["id"]]
            continue
        arrived = before is None and row["version"] > 1
        changes = [(_LABELS["family_id"], _ELSEWHERE, _HERE)] if arrived else _diff(before, row)
        entries.append(
            HistoryEntry(
                at=at,
                actor=row["changed_by"],
                reason=row["change_reason"],
                entity="anggota",
                entity_id=row["id"],
                entity_label=row["name"],
                version=row["version"],
                changes=changes,
            )
        )
        shown[row["id"]] = row
    return entries


def family_history(db: Database, actor: Actor, family_id: int) -> list[HistoryEntry]:
    """Every change to the family, and to each person while they were its member, newest first."""
    with db.read() as conn:
        visible_family(conn, actor, family_id)
        fam_versions = versioning.all_versions(conn, families, lambda t: t.c.id == family_id)
        member_ids = sa.union(
            sa.select(members.c.id).where(members.c.family_id == family_id),
            sa.select(member_versions.c.id).where(member_versions.c.family_id == family_id),
        ).subquery()
        ids = [r[0] for r in conn.execute(sa.select(member_ids.c.id))]
        mem_versions = versioning.all_versions(conn, members, lambda t: t.c.id.in_(ids)) if ids else []
    record_read(
        db,
        actor,
        AuditAction.FAMILY_READ_HISTORY,
        family_id,
        fam_versions[-1]["kelurahan_code"] if fam_versions else None,
    )
    entries: list[HistoryEntry] = [
        HistoryEntry(
            at=as_utc(row["valid_from"]) or row["valid_from"],
            actor=row["changed_by"],
            reason=row["change_reason"],
            entity="keluarga",
            entity_id=row["id"],
            entity_label=f"KK {row['kk_number']}",
            version=row["version"],
            changes=_diff(previous, row),
        )
        for previous, row in zip([None, *fam_versions], fam_versions, strict=False)
    ]
    entries.extend(_membership_history(mem_versions, family_id))
    entries.sort(key=lambda e: (e.at, e.entity == "anggota", e.entity_id, e.version), reverse=True)
    return entries
