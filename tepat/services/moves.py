"""Move requests between areas (issue 13 point 1).

A registry write never takes over a family or person of another area: an import
row, a family or member created on a page or through the API, or an approved
usul whose KK or NIK is an *active* record outside the writer's area is refused,
and the refusal is sent to the operators of the record's area as a move request.
They accept it (the family, or the person, is marked *pindah* there, so the
writer's area can register them) or refuse it, with a note; the writer's area
sees the answer on the same page.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from tepat.domain.access import Actor
from tepat.domain.audit_actions import AuditAction
from tepat.domain.households import InactiveReason, RegistryStatus
from tepat.domain.moves import MoveState
from tepat.errors import FieldError, NotFound, PermissionDenied, StateError, ValidationError
from tepat.services import payable
from tepat.store import audit, versioning
from tepat.store import families as family_store
from tepat.store import move_requests as store
from tepat.store.database import Database
from tepat.store.engine import now
from tepat.store.schema import families, members
from tepat.store.staging import Refusal

REFUSED_IN_IMPORT = "NIK/KK terdaftar di wilayah lain; ajukan perpindahan"
"""The import report's message for every row of a refused KK."""

REFUSED_HERE = "NIK/KK ini tidak dapat didaftarkan di sini; permintaan perpindahan telah dikirim ke petugas wilayah asalnya"
"""What a page, the API or an usul says: it names no area, no family and no person."""

ACCEPTED, REFUSED = MoveState.DITERIMA.value, MoveState.DITOLAK.value


def _values(refusal: Refusal, *, actor: Actor, source: str, import_id: int | None) -> dict[str, Any]:
    return {
        "created_at": now(),
        "source": source,
        "import_id": import_id,
        "requested_by": actor.username,
        "to_kelurahan_code": refusal.to_kelurahan_code,
        "kk_number": refusal.kk_number,
        "nik": refusal.nik,
        "family_id": refusal.family_id,
        "member_id": refusal.member_id,
        "from_kelurahan_code": refusal.from_kelurahan_code,
    }


def send(
    conn: sa.Connection,
    actor: Actor,
    refusals: Iterable[Refusal],
    *,
    source: str,
    import_id: int | None = None,
) -> int:
    """Record the refusals as pending move requests (once each), in the caller's transaction."""
    added = store.add_pending(
        conn, (_values(r, actor=actor, source=source, import_id=import_id) for r in refusals)
    )
    if added:
        audit.record(
            conn,
            actor,
            AuditAction.MOVE_REQUEST,
            "move_request",
            None,
            area_code=actor.area_code or None,
            detail={"requests": added, "source": source, "import_id": import_id},
        )
    return added


def outside_area(
    conn: sa.Connection, actor: Actor, *, kk_number: str, to_kelurahan_code: str, niks: Iterable[str] = ()
) -> list[Refusal]:
    """The active records outside ``actor``'s area that registering this KK and these NIKs would take over."""
    refusals = []
    family = family_store.active_family_by_kk(conn, kk_number) if kk_number else None
    if family is not None and not actor.in_area(family["kelurahan_code"]):
        refusals.append(
            Refusal(kk_number, None, family["id"], None, family["kelurahan_code"], to_kelurahan_code)
        )
    for nik in niks:
        member = family_store.active_member_by_nik(conn, nik)
        if member is None:
            continue
        home = family_store.get(conn, member["family_id"])
        whole = family is not None and home is not None and home["id"] == family["id"]
        if home is not None and not actor.in_area(home["kelurahan_code"]) and not whole:
            refusals.append(
                Refusal(kk_number, nik, home["id"], member["id"], home["kelurahan_code"], to_kelurahan_code)
            )
    return refusals


def refuse_outside_area(
    db: Database,
    actor: Actor,
    *,
    kk_number: str,
    to_kelurahan_code: str,
    niks: Iterable[str] = (),
    field: str = "kk_number",
) -> None:
    """Raise ``ValidationError`` (after sending the move requests) when the write would take over another area's record."""
    with db.begin() as conn:
        refusals = outside_area(
            conn, actor, kk_number=kk_number, to_kelurahan_code=to_kelurahan_code, niks=niks
        )
        if refusals:
            send(conn, actor, refusals, source="halaman")
    if refusals:
        raise ValidationError(REFUSED_HERE, [FieldError(field, REFUSED_HERE)])


def _require_editor(actor: Actor) -> None:
    if not actor.can_edit_registry(actor.area_code):
        raise PermissionDenied("Peran Anda tidak dapat menangani permintaan perpindahan")


def incoming(db: Database, actor: Actor) -> list[dict[str, Any]]:
    """Pending requests for records of the actor's area (theirs to accept or refuse), oldest first."""
    _require_editor(actor)
    with db.read() as conn:
        return store.waiting_from(conn, actor.area_code)


def outgoing(db: Database, actor: Actor) -> list[dict[str, Any]]:
    """Requests made for the actor's area, newest first, with their answers."""
    _require_editor(actor)
    with db.read() as conn:
        return store.asked_by(conn, actor.area_code)


def count_incoming(db: Database, actor: Actor) -> int:
    if not actor.can_edit_registry(actor.area_code):
        return 0
    with db.read() as conn:
        return store.count_waiting_from(conn, actor.area_code)


def _release(conn: sa.Connection, actor: Actor, request: dict[str, Any], why: str) -> None:
    """Mark the requested record *pindah*: the person, or the family with all its active members."""
    at = now()
    changes = {"status": RegistryStatus.NONAKTIF.value, "inactive_reason": InactiveReason.PINDAH.value}
    if request["nik"] is None:
        family = versioning.lock_current(conn, families, request["family_id"])
        if family is not None and family["registry_status"] == RegistryStatus.AKTIF:
            versioning.update_row(
                conn,
                families,
                family,
                {
                    "registry_status": RegistryStatus.NONAKTIF.value,
                    "inactive_reason": InactiveReason.PINDAH.value,
                },
                changed_by=actor.username,
                reason=why,
                at=at,
            )
        ids = (
            conn.execute(
                sa.select(members.c.id).where(
                    members.c.family_id == request["family_id"],
                    members.c.status == RegistryStatus.AKTIF.value,
                )
            )
            .scalars()
            .all()
        )
    else:
        ids = [request["member_id"]]
    for member_id in ids:
        member = versioning.lock_current(conn, members, member_id)
        if member is not None and member["status"] == RegistryStatus.AKTIF:
            versioning.update_row(
                conn, members, member, changes, changed_by=actor.username, reason=why, at=at
            )
    payable.block_after_change(
        conn, actor, at, family_ids=[request["family_id"]], member_ids=ids, source="perpindahan"
    )


def decide(db: Database, actor: Actor, request_id: int, *, accept: bool, note: str) -> None:
    """Accept (release the record to the asking area) or refuse a pending request of the actor's area."""
    _require_editor(actor)
    text = " ".join(note.split())[:500]
    if len(text) < 5:
        raise ValidationError(
            "Tulis alasan keputusan", [FieldError("catatan", "Alasan paling sedikit 5 huruf")]
        )
    with db.begin() as conn:
        request = store.get(conn, request_id, lock=True)
        if request is None or not actor.in_area(request["from_kelurahan_code"]):
            raise NotFound("Permintaan perpindahan tidak ditemukan")
        if not actor.can_edit_registry(request["from_kelurahan_code"]):
            raise PermissionDenied("Peran Anda tidak dapat menangani permintaan perpindahan")
        if request["state"] != store.PENDING:
            raise StateError("Permintaan ini sudah diputuskan")
        if accept:
            _release(conn, actor, request, f"Perpindahan ke wilayah lain diterima: {text}"[:200])
        store.decide(
            conn,
            request_id,
            {
                "state": ACCEPTED if accept else REFUSED,
                "decided_by": actor.username,
                "decided_at": now(),
                "decision_note": text,
            },
        )
        audit.record(
            conn,
            actor,
            AuditAction.MOVE_ACCEPT if accept else AuditAction.MOVE_REFUSE,
            "move_request",
            request_id,
            area_code=request["from_kelurahan_code"],
            detail={"note": text},
        )
