"""Merging a pair the duplicate search found and staff decided is one person (issue 15).

One record survives; the other is marked ``nonaktif`` with the reason
``duplikat`` (and its family too, when nobody else was in it), in the same
transaction its unpaid entitlements are blocked (the hook deaths use,
``tepat.services.payable``), and ``member_merges`` points it to the survivor.
Nothing is deleted: both histories stay, paid entitlements stay as paid. A merge
whose record (or closed family) was ever paid waits for a second person to
approve it (maker-checker). Undoing a merge makes both records active again;
the entitlements it blocked stay blocked (nothing is paid without a person
deciding it anew).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from tepat.domain.access import Actor, Permission
from tepat.domain.audit_actions import AuditAction
from tepat.domain.households import InactiveReason, RegistryStatus
from tepat.domain.linkage import MergeState, PairDecision
from tepat.errors import ConflictError, NotFound, PermissionDenied, StateError, ValidationError
from tepat.services import payable, registry
from tepat.services.office import working_area
from tepat.store import audit, versioning
from tepat.store import duplicates as store
from tepat.store.database import Database
from tepat.store.engine import now
from tepat.store.schema import families, members

PROPOSED, APPLIED, UNDONE = MergeState.DIAJUKAN, MergeState.BERLAKU, MergeState.DIBATALKAN
STATE_LABELS = {state.value: state.label for state in MergeState}


@dataclass(frozen=True)
class MergeResult:
    merge_id: int
    state: str
    blocked: int  # unpaid entitlements blocked by applying it

    def as_dict(self) -> dict[str, Any]:
        return {"gabung": self.merge_id, "status": self.state, "diblokir": self.blocked}


def _note(text: str) -> str:
    note = " ".join(text.split())[:500]
    if len(note) < 5:
        raise ValidationError("Tulis alasan penggabungan (paling sedikit 5 huruf).")
    return note


def propose(db: Database, actor: Actor, pair_id: int, survivor_id: int, note: str) -> MergeResult:
    """Merge a pair decided "sama orang" into ``survivor_id`` (one of its two records): at once, or, when the
    other record was ever paid, once a second person approves."""
    why = _note(note)
    with db.begin() as conn:
        pair = store.pair(conn, pair_id)
        if pair is None or not (actor.in_area(pair["kelurahan_l"]) and actor.in_area(pair["kelurahan_r"])):
            raise NotFound("Pasangan tidak ditemukan.")
        actor.require(Permission.EDIT_REGISTRY, pair["kelurahan_l"])
        if pair["decision"] != PairDecision.SAMA.value:
            raise StateError("Hanya pasangan yang diputuskan \u201csama orang\u201d yang dapat digabung.")
        if survivor_id not in (pair["member_l"], pair["member_r"]):
            raise ValidationError(
                "Pilih salah satu dari dua data pasangan ini sebagai data yang dipertahankan."
            )
        merged_id = pair["member_r"] if survivor_id == pair["member_l"] else pair["member_l"]
        merged = registry.lock_member_for_edit(conn, actor, merged_id)
        if merged["status"] != RegistryStatus.AKTIF:
            raise StateError("Data yang akan digabung sudah tidak aktif.")
        alone = store.others_active_in_family(conn, merged["family_id"], merged_id) == 0
        paid = store.paid_entitlements(conn, merged_id, merged["family_id"] if alone else None)
        at = now()
        merge_id = store.insert_merge(
            conn,
            {
                "pair_id": pair_id,
                "survivor_id": survivor_id,
                "merged_id": merged_id,
                "family_closed": alone,
                "paid": paid,
                "state": PROPOSED,
                "note": why,
                "requested_by": actor.username,
                "requested_at": at,
            },
        )
        audit.record(
            conn,
            actor,
            AuditAction.MERGE_REQUEST,
            "member_merges",
            merge_id,
            area_code=pair["kelurahan_l"],
            detail={"dipertahankan": survivor_id, "digabung": merged_id, "dibayar": paid, "alasan": why},
        )
        if paid:
            return MergeResult(merge_id, PROPOSED, 0)  # a paid record: a second person decides
        blocked = _apply(conn, actor, store.merge(conn, merge_id) or {}, at)
        return MergeResult(merge_id, APPLIED, blocked)


def approve(db: Database, actor: Actor, merge_id: int) -> MergeResult:
    """The checker's approval of a merge touching a paid entitlement: someone other than who asked for it, with
    the right to oversee the area."""
    with db.begin() as conn:
        found = _merge_in_area(conn, actor, merge_id)
        actor.require(Permission.OVERSEE)
        if found["state"] != PROPOSED:
            raise StateError("Penggabungan ini tidak sedang menunggu persetujuan.")
        if found["requested_by"] == actor.username:
            raise PermissionDenied("Penggabungan harus disetujui orang lain, bukan yang mengajukannya.")
        blocked = _apply(conn, actor, found, now())
        return MergeResult(merge_id, APPLIED, blocked)


def _apply(conn: sa.Connection, actor: Actor, merge: dict[str, Any], at: Any) -> int:
    merged = registry.lock_member_for_edit(conn, actor, merge["merged_id"])
    survivor = registry.lock_member_for_edit(conn, actor, merge["survivor_id"])
    if merged["status"] != RegistryStatus.AKTIF or survivor["status"] != RegistryStatus.AKTIF:
        raise ConflictError("Salah satu data sudah berubah status sejak penggabungan diajukan; periksa lagi.")
    why = f"Digabung ke NIK {survivor['nik']} (penggabungan #{merge['id']}): {merge['note']}"[:200]
    changes = {"status": RegistryStatus.NONAKTIF.value, "inactive_reason": InactiveReason.DUPLIKAT.value}
    _save(conn, actor, members, merged, changes, why, at)
    closed: list[int] = []
    if merge["family_closed"] and store.others_active_in_family(conn, merged["family_id"], merged["id"]) == 0:
        family = registry.lock_family_for_edit(conn, actor, merged["family_id"])
        _save(
            conn,
            actor,
            families,
            family,
            {
                "registry_status": RegistryStatus.NONAKTIF.value,
                "inactive_reason": InactiveReason.DUPLIKAT.value,
            },
            why,
            at,
        )
        closed.append(family["id"])
    if not store.update_merge(
        conn,
        merge["id"],
        merge["state"],
        {"state": APPLIED, "approved_by": actor.username, "approved_at": at, "family_closed": bool(closed)},
    ):
        raise ConflictError("Penggabungan ini sudah diubah orang lain; muat ulang halaman.")
    blocked = payable.block_after_change(
        conn, actor, at, member_ids=[merged["id"]], family_ids=closed, source="duplikat"
    )
    audit.record(
        conn,
        actor,
        AuditAction.MERGE_APPLY,
        "member_merges",
        merge["id"],
        area_code=store.kelurahan_of_member(conn, merged["id"]),
        detail={
            "dipertahankan": survivor["id"],
            "digabung": merged["id"],
            "keluarga_ditutup": closed,
            "diblokir": blocked,
        },
    )
    return blocked


def undo(db: Database, actor: Actor, merge_id: int, note: str) -> None:
    """Undo an applied merge: both records active again (and the family it closed); the pair goes back to the
    queue. Refused when the merged record's NIK has since become active elsewhere."""
    why = _note(note)
    with db.begin() as conn:
        found = _merge_in_area(conn, actor, merge_id)
        actor.require(Permission.EDIT_REGISTRY)
        if found["state"] != APPLIED:
            raise StateError("Hanya penggabungan yang berlaku yang dapat dibatalkan.")
        merged = registry.lock_member_for_edit(conn, actor, found["merged_id"])
        at = now()
        reason = f"Penggabungan #{merge_id} dibatalkan: {why}"[:200]
        if found["family_closed"]:
            family = registry.lock_family_for_edit(conn, actor, merged["family_id"])
            _save(
                conn,
                actor,
                families,
                family,
                {"registry_status": RegistryStatus.AKTIF.value, "inactive_reason": None},
                reason,
                at,
            )
        try:
            with conn.begin_nested():
                _save(
                    conn,
                    actor,
                    members,
                    merged,
                    {"status": RegistryStatus.AKTIF.value, "inactive_reason": None},
                    reason,
                    at,
                )
        except sa.exc.IntegrityError:
            raise ConflictError(
                f"NIK {merged['nik']} sudah aktif di data lain; penggabungan tidak dapat dibatalkan."
            ) from None
        if not store.update_merge(
            conn, merge_id, APPLIED, {"state": UNDONE, "undone_by": actor.username, "undone_at": at}
        ):
            raise ConflictError("Penggabungan ini sudah diubah orang lain; muat ulang halaman.")
        store.decide(conn, found["pair_id"], PairDecision.BELUM.value, actor.username, at, reason)
        audit.record(conn, actor, AuditAction.MERGE_CANCEL, "member_merges", merge_id, detail={"alasan": why})


def _save(
    conn: sa.Connection,
    actor: Actor,
    table: sa.Table,
    row: Mapping[str, Any],
    changes: dict[str, Any],
    why: str,
    at: Any,
) -> None:
    """A new version of a registry row (the old one kept in its history)."""
    versioning.update_row(conn, table, row, changes, changed_by=actor.username, reason=why, at=at)


def _merge_in_area(conn: sa.Connection, actor: Actor, merge_id: int) -> dict[str, Any]:
    found = store.merge(conn, merge_id)
    if found is None:
        raise NotFound("Penggabungan tidak ditemukan.")
    if not all(
        actor.in_area(store.kelurahan_of_member(conn, m)) for m in (found["survivor_id"], found["merged_id"])
    ):
        raise NotFound("Penggabungan tidak ditemukan.")
    return found


def listed(db: Database, actor: Actor, states: tuple[str, ...] = (PROPOSED, APPLIED)) -> list[dict[str, Any]]:
    """The area's merges waiting for approval or in force, newest first."""
    actor.require(Permission.READ_PERSONAL)
    with db.read() as conn:
        return store.merges(conn, working_area(db, actor), states=states)
