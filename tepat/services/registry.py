"""Registry use cases that change one family at a time: create, edit, move, deactivate (reading is
``registry_reads``, the history ``registry_history``, the access check ``registry_access``).

Every function takes the acting user and enforces their role and area: a
family outside the area is ``NotFound`` (its existence is not revealed), and
an analyst gets ``PermissionDenied`` for anything personal. Every change keeps
the old version (``tepat.store.versioning``) and writes an audit record in the
same transaction. Bulk loading lives in ``tepat.services.imports``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa

from tepat.domain.access import Actor
from tepat.domain.audit_actions import AuditAction
from tepat.domain.formatting import moment
from tepat.domain.households import (
    FAMILY_FIELDS,
    MEMBER_FIELDS,
    InactiveReason,
    LifeStatus,
    RegistryStatus,
)
from tepat.domain.regions import parent_of
from tepat.domain.registry_records import Family, Member
from tepat.domain.validation import validate_family, validate_household, validate_member
from tepat.errors import ConflictError, FieldError, NotFound, PermissionDenied, ValidationError
from tepat.services import moves, payable
from tepat.services.registry_access import (
    editable_family,
    lock_family,
    require_personal,
)
from tepat.store import audit, versioning
from tepat.store import families as family_store
from tepat.store.database import Database
from tepat.store.engine import now
from tepat.store.schema import families, members

FAMILY_NAMES = tuple(f.name for f in FAMILY_FIELDS)


MEMBER_NAMES = tuple(f.name for f in MEMBER_FIELDS)


def _check_version(row: Mapping[str, Any], expected_version: int) -> None:
    if row["version"] != expected_version:
        raise ConflictError(
            f"Data ini sudah diubah oleh {row['changed_by']} pada {moment(row['valid_from'])}; perubahan Anda belum disimpan."
        )


def _refuse_unknown(changes: Mapping[str, Any], names: Iterable[str]) -> None:
    """A change naming a column the registry does not have is refused whole, each such column named."""
    unknown = set(changes) - set(names)
    if unknown:
        raise ValidationError(
            "Kolom tidak dikenal", [FieldError(k, "Kolom tidak dikenal") for k in sorted(unknown)]
        )


def _reason(reason: str) -> str:
    text = " ".join(reason.split())
    if not text:
        raise ValidationError(
            "Alasan perubahan wajib diisi", [FieldError("reason", "Alasan perubahan wajib diisi")]
        )
    return text[:200]


def _check_no_active_duplicate(
    conn: sa.Connection, *, kk_number: str | None = None, nik: str | None = None, except_id: int | None = None
) -> None:
    if kk_number is not None:
        family = family_store.active_family_by_kk(conn, kk_number)
        if family is not None and family["id"] != except_id:
            raise ValidationError(
                "Nomor KK sudah terdaftar",
                [FieldError("kk_number", "Nomor KK sudah dipakai keluarga aktif lain", kk_number)],
            )
    if nik is not None:
        member = family_store.active_member_by_nik(conn, nik)
        if member is not None and member["id"] != except_id:
            raise ValidationError(
                "NIK sudah terdaftar",
                [FieldError("nik", "NIK sudah terdaftar sebagai anggota aktif keluarga lain", nik)],
            )


def _require_served(db: Database, kelurahan_code: str) -> None:
    """A family lives in a kelurahan one of the database's offices serves."""
    if not db.offices.serves(kelurahan_code):
        message = db.offices.not_served()
        raise ValidationError(message, [FieldError("kelurahan_code", message, kelurahan_code)])


def create_family(
    db: Database,
    actor: Actor,
    family: Mapping[str, Any],
    members_values: Sequence[Mapping[str, Any]],
    *,
    reason: str,
) -> int:
    """Register a new family with its members; returns the family id."""
    why = _reason(reason)
    clean, cleaned_members, errors = validate_household(family, members_values, known_kelurahan=db.regions)
    if errors:
        raise ValidationError("Data keluarga belum benar", errors)
    _require_served(db, clean["kelurahan_code"])
    if not actor.can_edit_registry(clean["kelurahan_code"]):
        raise PermissionDenied("Anda tidak dapat menambah keluarga di luar wilayah Anda")
    clean["kecamatan_code"] = parent_of(clean["kelurahan_code"])
    moves.refuse_outside_area(
        db,
        actor,
        kk_number=clean["kk_number"],
        to_kelurahan_code=clean["kelurahan_code"],
        niks=[m["nik"] for m in cleaned_members],
    )
    at = now()
    with db.begin() as conn:
        _check_no_active_duplicate(conn, kk_number=clean["kk_number"])
        family_id = versioning.insert_row(conn, families, clean, changed_by=actor.username, reason=why, at=at)
        for m in cleaned_members:
            _check_no_active_duplicate(conn, nik=m["nik"])
            values = {**m, "family_id": family_id, "status": RegistryStatus.AKTIF.value}
            versioning.insert_row(conn, members, values, changed_by=actor.username, reason=why, at=at)
        audit.record(
            conn,
            actor,
            AuditAction.FAMILY_CREATE,
            "family",
            family_id,
            area_code=clean["kelurahan_code"],
            detail={"reason": why, "members": len(cleaned_members)},
        )
    return family_id


def update_family(
    db: Database,
    actor: Actor,
    family_id: int,
    changes: Mapping[str, Any],
    *,
    expected_version: int,
    reason: str,
) -> int:
    """Change a family's fields; refused when someone saved a newer version first. Returns how many unpaid
    entitlements the change blocked (a family deactivated or found not eligible, say)."""
    why = _reason(reason)
    _refuse_unknown(changes, FAMILY_NAMES)
    with db.begin() as conn:
        current = lock_family(conn, actor, family_id)
        _check_version(current, expected_version)
        clean, errors = validate_family(changes, partial=True, known_kelurahan=db.regions, current=current)
        if errors:
            raise ValidationError("Data keluarga belum benar", errors)
        if "kelurahan_code" in clean:
            _require_served(db, clean["kelurahan_code"])
            if not actor.can_edit_registry(clean["kelurahan_code"]):
                raise PermissionDenied("Anda tidak dapat memindahkan keluarga ke luar wilayah Anda")
            clean["kecamatan_code"] = parent_of(clean["kelurahan_code"])
        if "kk_number" in clean:
            _check_no_active_duplicate(conn, kk_number=clean["kk_number"], except_id=family_id)
        at = now()
        if versioning.update_row(
            conn, families, current, clean, changed_by=actor.username, reason=why, at=at
        ):
            audit.record(
                conn,
                actor,
                AuditAction.FAMILY_UPDATE,
                "family",
                family_id,
                area_code=current["kelurahan_code"],
                detail={"reason": why, "fields": sorted(k for k in clean if current.get(k) != clean[k])},
            )
            return payable.block_after_change(conn, actor, at, family_ids=[family_id])
    return 0


def deactivate_family(
    db: Database, actor: Actor, family_id: int, reason_code: str, *, expected_version: int, note: str
) -> int:
    """Mark a family nonaktif (e.g. pindah, duplikat) with a reason; its history stays."""
    if reason_code not in {r.value for r in InactiveReason}:
        raise ValidationError(
            "Alasan nonaktif tidak dikenal", [FieldError("inactive_reason", "Pilih alasan nonaktif")]
        )
    return update_family(
        db,
        actor,
        family_id,
        {"registry_status": RegistryStatus.NONAKTIF.value, "inactive_reason": reason_code},
        expected_version=expected_version,
        reason=note,
    )


def _member_in_scope(conn: sa.Connection, actor: Actor, member_id: int) -> Member:
    # The role first, before any lookup: a role that may not change the registry gets the same answer (403)
    # for a member that exists and one that does not.
    require_personal(actor)
    if not actor.can_edit_registry(actor.area_code):
        raise PermissionDenied("Peran Anda tidak dapat mengubah data registri")
    member = family_store.get_member(conn, member_id)
    if member is None:
        raise NotFound("Anggota tidak ditemukan")
    lock_family(conn, actor, member["family_id"])
    locked = family_store.locked_member(conn, member_id)
    assert locked is not None
    return locked


def lock_member_for_edit(conn: sa.Connection, actor: Actor, member_id: int) -> Member:
    """A member's current row, locked in ``conn``'s transaction, after the same checks as any edit (role, area)."""
    return _member_in_scope(conn, actor, member_id)


def lock_family_for_edit(conn: sa.Connection, actor: Actor, family_id: int) -> Family:
    """A family's current row, locked in ``conn``'s transaction, after the same checks as any edit."""
    return lock_family(conn, actor, family_id)


def add_member(db: Database, actor: Actor, family_id: int, member: Mapping[str, Any], *, reason: str) -> int:
    """Add a person to a family; returns the member id."""
    why = _reason(reason)
    clean, errors = validate_member(member)
    if errors:
        raise ValidationError("Data anggota belum benar", errors)
    with db.read() as conn:
        home = editable_family(conn, actor, family_id)
    moves.refuse_outside_area(
        db,
        actor,
        kk_number=home["kk_number"],
        to_kelurahan_code=home["kelurahan_code"],
        niks=[clean["nik"]],
        field="nik",
    )
    at = now()
    with db.begin() as conn:
        fam = lock_family(conn, actor, family_id)
        _check_no_active_duplicate(conn, nik=clean["nik"])
        values = {**clean, "family_id": family_id, "status": RegistryStatus.AKTIF.value}
        member_id = versioning.insert_row(conn, members, values, changed_by=actor.username, reason=why, at=at)
        audit.record(
            conn,
            actor,
            AuditAction.MEMBER_CREATE,
            "member",
            member_id,
            area_code=fam["kelurahan_code"],
            detail={"reason": why, "family_id": family_id},
        )
    return member_id


def update_member(
    db: Database,
    actor: Actor,
    member_id: int,
    changes: Mapping[str, Any],
    *,
    expected_version: int,
    reason: str,
) -> int:
    """Change a member's fields; refused when someone saved a newer version first."""
    why = _reason(reason)
    _refuse_unknown(changes, MEMBER_NAMES)
    with db.begin() as conn:
        current = _member_in_scope(conn, actor, member_id)
        _check_version(current, expected_version)
        clean, errors = validate_member(changes, partial=True, current=current)
        if errors:
            raise ValidationError("Data anggota belum benar", errors)
        if "nik" in clean and current["status"] == RegistryStatus.AKTIF:
            _check_no_active_duplicate(conn, nik=clean["nik"], except_id=member_id)
        at = now()
        if versioning.update_row(conn, members, current, clean, changed_by=actor.username, reason=why, at=at):
            audit.record(
                conn,
                actor,
                AuditAction.MEMBER_UPDATE,
                "member",
                member_id,
                detail={"reason": why, "fields": sorted(k for k in clean if current.get(k) != clean[k])},
            )
            return payable.block_after_change(conn, actor, at, member_ids=[member_id])
    return 0


def move_member(
    db: Database, actor: Actor, member_id: int, to_family_id: int, *, expected_version: int, reason: str
) -> int:
    """Move a person to another family (e.g. marriage, a new KK); the old membership stays in history."""
    why = _reason(reason)
    with db.begin() as conn:
        current = _member_in_scope(conn, actor, member_id)
        _check_version(current, expected_version)
        if current["family_id"] == to_family_id:
            raise ValidationError(
                "Anggota sudah berada di keluarga ini", [FieldError("to_family_id", "Pilih keluarga lain")]
            )
        lock_family(conn, actor, to_family_id)
        at = now()
        versioning.update_row(
            conn, members, current, {"family_id": to_family_id}, changed_by=actor.username, reason=why, at=at
        )
        audit.record(
            conn,
            actor,
            AuditAction.MEMBER_MOVE,
            "member",
            member_id,
            detail={"reason": why, "from": current["family_id"], "to": to_family_id},
        )
        return payable.block_after_change(conn, actor, at, member_ids=[member_id])


def deactivate_member(
    db: Database,
    actor: Actor,
    member_id: int,
    reason_code: str,
    *,
    expected_version: int,
    note: str,
    death_date: date | None = None,
) -> int:
    """Mark a member nonaktif (meninggal, pindah, duplikat…); a death also records the date. Returns how many unpaid
    entitlements it blocked."""
    why = _reason(note)
    if reason_code not in {r.value for r in InactiveReason}:
        raise ValidationError(
            "Alasan nonaktif tidak dikenal", [FieldError("inactive_reason", "Pilih alasan nonaktif")]
        )
    changes: dict[str, Any] = {"status": RegistryStatus.NONAKTIF.value, "inactive_reason": reason_code}
    if reason_code == InactiveReason.MENINGGAL:
        changes.update(life_status=LifeStatus.MENINGGAL.value, death_date=death_date)
    with db.begin() as conn:
        current = _member_in_scope(conn, actor, member_id)
        _check_version(current, expected_version)
        at = now()
        if versioning.update_row(
            conn, members, current, changes, changed_by=actor.username, reason=why, at=at
        ):
            audit.record(
                conn,
                actor,
                AuditAction.MEMBER_DEACTIVATE,
                "member",
                member_id,
                detail={"reason": why, "code": reason_code},
            )
            return payable.block_after_change(conn, actor, at, member_ids=[member_id])
    return 0
