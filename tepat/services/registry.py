"""Registry use cases for one family at a time: read, search, browse, create, edit, move, deactivate.

Every function takes the acting user and enforces their role and area: a
family outside the area is ``NotFound`` (its existence is not revealed), and
an analyst gets ``PermissionDenied`` for anything personal. Every change keeps
the old version (``tepat.store.versioning``) and writes an audit record in the
same transaction. Bulk loading lives in ``tepat.services.imports``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from tepat.domain.access import Actor
from tepat.domain.disclosure import hidden_cells, shown
from tepat.domain.formatting import moment
from tepat.domain.households import (
    FAMILY_FIELDS,
    MEMBER_FIELDS,
    InactiveReason,
    LifeStatus,
    RegistryStatus,
    age_on,
    deceased_but_active,
    lacks_active_head,
)
from tepat.domain.regions import Level, RegionIndex, level_of, parent_of
from tepat.domain.validation import validate_family, validate_household, validate_member
from tepat.errors import ConflictError, FieldError, NotFound, PermissionDenied, ValidationError
from tepat.services import moves, payable
from tepat.services.office import working_area
from tepat.store import audit, versioning
from tepat.store import families as family_store
from tepat.store.database import Database
from tepat.store.engine import as_utc, now
from tepat.store.schema import families, member_versions, members

FAMILY_NAMES = tuple(f.name for f in FAMILY_FIELDS)
MEMBER_NAMES = tuple(f.name for f in MEMBER_FIELDS)
_NOT_FOUND = "Keluarga tidak ditemukan"


@dataclass(frozen=True)
class FamilyView:
    """A family and its members as one user may see them (now, or as of a date)."""

    family: dict[str, Any]
    members: list[dict[str, Any]]
    kelurahan_name: str
    kecamatan_name: str
    as_of: datetime | None = None

    @property
    def headless(self) -> bool:
        """No active head: the family is left out of benefit cycles until fixed."""
        return lacks_active_head(self.family["registry_status"], self.members)

    @property
    def deceased_active(self) -> list[Mapping[str, Any]]:
        return deceased_but_active(self.members)


@dataclass(frozen=True)
class AreaListing:
    """A region and its children (kecamatan, kelurahan, or the RWs of a kelurahan) with counts."""

    region_code: str
    region_name: str
    level: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    families: int | None = None  # the region's totals (None when hidden)
    members: int | None = None


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


# ----------------------------------------------------------------- access


def _require_personal(actor: Actor) -> None:
    if not actor.sees_personal_data:
        raise PermissionDenied("Peran Anda hanya dapat melihat data agregat, bukan data perorangan")


def _visible_family(conn: sa.Connection, actor: Actor, family_id: int) -> dict[str, Any]:
    _require_personal(actor)
    row = family_store.get(conn, family_id)
    if row is None or not actor.in_area(row["kelurahan_code"]):
        raise NotFound(_NOT_FOUND)
    return row


def _editable_family(conn: sa.Connection, actor: Actor, family_id: int) -> dict[str, Any]:
    row = _visible_family(conn, actor, family_id)
    if not actor.can_edit_registry(row["kelurahan_code"]):
        raise PermissionDenied("Peran Anda tidak dapat mengubah data registri")
    return row


def _lock_family(conn: sa.Connection, actor: Actor, family_id: int) -> dict[str, Any]:
    _editable_family(conn, actor, family_id)
    row = versioning.lock_current(conn, families, family_id)
    assert row is not None
    return row


def _check_version(row: Mapping[str, Any], expected_version: int) -> None:
    if row["version"] != expected_version:
        raise ConflictError(
            f"Data ini sudah diubah oleh {row['changed_by']} pada {moment(row['valid_from'])}; perubahan Anda belum disimpan."
        )


def _reason(reason: str) -> str:
    text = " ".join(reason.split())
    if not text:
        raise ValidationError(
            "Alasan perubahan wajib diisi", [FieldError("reason", "Alasan perubahan wajib diisi")]
        )
    return text[:200]


# ----------------------------------------------------------------- reading


def _view(
    regions: RegionIndex, fam: dict[str, Any], mems: list[dict[str, Any]], as_of: datetime | None
) -> FamilyView:
    day = (as_of or now()).date()
    for m in mems:
        m["age"] = age_on(m["birth_date"], day)
    return FamilyView(
        family=fam,
        members=mems,
        kelurahan_name=regions.name(fam["kelurahan_code"]),
        kecamatan_name=regions.name(fam["kecamatan_code"]),
        as_of=as_of,
    )


def _record_read(
    db: Database, actor: Actor, action: str, entity_id: object, area_code: str | None, **detail: Any
) -> None:
    """UU 27/2022: who read whose personal data is logged like a change (through the buffered read log)."""
    audit.record_read(db, actor, action, "family", entity_id, area_code=area_code, detail=detail or None)


def get_family(db: Database, actor: Actor, family_id: int, *, as_of: datetime | None = None) -> FamilyView:
    """A family with its members, now or as it was at ``as_of``; the read is audited."""
    with db.read() as conn:
        current = _visible_family(conn, actor, family_id)
        if as_of is None:
            view = _view(db.regions, current, family_store.members_of(conn, family_id), None)
        else:
            versions = versioning.as_of(conn, families, lambda t: t.c.id == family_id, as_of)
            if not versions:
                raise NotFound("Keluarga ini belum terdaftar pada tanggal tersebut")
            mems = versioning.as_of(conn, members, lambda t: t.c.family_id == family_id, as_of)
            view = _view(db.regions, versions[0], sorted(mems, key=lambda m: m["id"]), as_of)
    _record_read(
        db,
        actor,
        "family.read",
        family_id,
        current["kelurahan_code"],
        **({"as_of": as_of.isoformat()} if as_of else {}),
    )
    return view


def get_member(db: Database, actor: Actor, member_id: int) -> dict[str, Any]:
    """One member (current version), if their family is inside the actor's area; the read is audited."""
    with db.read() as conn:
        member = family_store.get_member(conn, member_id)
        if member is None:
            raise NotFound("Anggota tidak ditemukan")
        fam = _visible_family(conn, actor, member["family_id"])
    _record_read(db, actor, "member.read", member["family_id"], fam["kelurahan_code"], member_id=member_id)
    return member


def find_by_nik(db: Database, actor: Actor, nik: str) -> FamilyView:
    """The family of the active member with this NIK; the read is audited.

    The hot path of the registry: one statement on the driver, outside any transaction (no
    write lock on SQLite, no BEGIN/ROLLBACK on PostgreSQL); the audit record goes to the
    buffered read log (``audit.record_read``: written within a second, on dispose and at
    exit) instead of a write transaction per lookup.
    """
    _require_personal(actor)
    regions = db.regions  # loaded before the read: the first load reads through its own connection
    found = family_store.family_by_active_nik(db, nik)
    if found is None or not actor.in_area(found[0]["kelurahan_code"]):
        raise NotFound("NIK tidak ditemukan")
    fam, mems = found
    audit.record_read(
        db,
        actor,
        "family.read",
        "family",
        fam["id"],
        area_code=fam["kelurahan_code"],
        detail={"by": "nik"},
    )
    return _view(regions, fam, mems, None)


def _with_names(db: Database, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for r in rows:
        r["kelurahan_name"] = db.regions.name(r["kelurahan_code"])
    return rows


def search_families(
    db: Database, actor: Actor, query: str, *, limit: int = 50, page: int = 1
) -> list[dict[str, Any]]:
    """One page of the families in the actor's area matching a NIK, a KK number or the words of a name (all of them,
    in one member's name); each row names the member who matched."""
    _require_personal(actor)
    text = query.strip()
    if len(text) < 3:
        raise ValidationError(
            "Ketik paling sedikit 3 huruf nama, atau NIK/KK 16 digit", [FieldError("q", "Terlalu pendek")]
        )
    with db.read() as conn:
        hits = _with_names(
            db, family_store.search(conn, actor.area_code, text, limit, (max(page, 1) - 1) * limit)
        )
    _record_read(db, actor, "family.search", None, actor.area_code, query=text, page=page, results=len(hits))
    return hits


def list_families(
    db: Database,
    actor: Actor,
    kelurahan_code: str,
    *,
    rw: int | None = None,
    page: int = 1,
    per_page: int = 50,
) -> list[dict[str, Any]]:
    """One page of the families of a kelurahan (optionally one RW)."""
    _require_personal(actor)
    if not actor.in_area(kelurahan_code):
        raise NotFound("Wilayah tidak ditemukan")
    with db.read() as conn:
        rows = family_store.list_in(
            conn, actor.area_code, kelurahan_code, rw, (max(page, 1) - 1) * per_page, per_page
        )
    _record_read(db, actor, "family.list", None, kelurahan_code, rw=rw, page=page, results=len(rows))
    return _with_names(db, rows)


def browse_area(
    db: Database, actor: Actor, region_code: str | None = None, *, min_cell_size: int
) -> AreaListing:
    """Counts of active families and members for the children of a region inside the actor's area; for a role that
    may not read the records, small cells are hidden (``tepat.domain.disclosure``: ``None`` counts)."""
    code = region_code or working_area(db, actor)
    region = db.regions.get(code)
    if region is None or not (actor.in_area(code) or code in _ancestors_in_view(actor)):
        raise NotFound("Wilayah tidak ditemukan")
    level = level_of(code)
    with db.read() as conn:
        if level is Level.KELURAHAN:
            counts = family_store.counts_by(conn, actor.area_code, "rw", within=code)
            rows = [
                {"code": rw, "name": f"RW {rw:02d}", "families": f, "members": m}
                for rw, (f, m) in sorted(counts.items())
            ]
        else:
            key = "kecamatan_code" if level is Level.KABKOTA else "kelurahan_code"
            counts = family_store.counts_by(conn, actor.area_code, key, within=code)
            rows = [
                {
                    "code": child.code,
                    "name": child.name,
                    "families": counts.get(child.code, (0, 0))[0],
                    "members": counts.get(child.code, (0, 0))[1],
                }
                for child in db.regions.children(code)
                if actor.in_area(child.code)
            ]
    families, members = sum(r["families"] for r in rows), sum(r["members"] for r in rows)
    if not actor.sees_personal_data:
        hidden = hidden_cells({r["code"]: r["families"] for r in rows}, min_cell_size)
        rows = [{**r, "families": None, "members": None} if r["code"] in hidden else r for r in rows]
        if shown(families, min_cell_size) is None:
            families = members = None
    return AreaListing(
        region_code=code,
        region_name=region.name,
        level=level.value,
        rows=rows,
        families=families,
        members=members,
    )


def _ancestors_in_view(actor: Actor) -> set[str]:
    parts = actor.area_code.split(".") if actor.area_code else []
    return {".".join(parts[:i]) for i in range(1, len(parts))}


# ----------------------------------------------------------------- changes


def _check_no_active_duplicate(
    conn: sa.Connection, *, kk_number: str | None = None, nik: str | None = None, except_id: int | None = None
) -> None:
    if kk_number is not None:
        other = family_store.active_family_by_kk(conn, kk_number)
        if other is not None and other["id"] != except_id:
            raise ValidationError(
                "Nomor KK sudah terdaftar",
                [FieldError("kk_number", "Nomor KK sudah dipakai keluarga aktif lain", kk_number)],
            )
    if nik is not None:
        other = family_store.active_member_by_nik(conn, nik)
        if other is not None and other["id"] != except_id:
            raise ValidationError(
                "NIK sudah terdaftar",
                [FieldError("nik", "NIK sudah terdaftar sebagai anggota aktif keluarga lain", nik)],
            )


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
            "family.create",
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
    unknown = set(changes) - set(FAMILY_NAMES)
    if unknown:
        raise ValidationError(
            "Kolom tidak dikenal", [FieldError(k, "Kolom tidak dikenal") for k in sorted(unknown)]
        )
    with db.begin() as conn:
        current = _lock_family(conn, actor, family_id)
        _check_version(current, expected_version)
        clean, errors = validate_family(changes, partial=True, known_kelurahan=db.regions, current=current)
        if errors:
            raise ValidationError("Data keluarga belum benar", errors)
        if "kelurahan_code" in clean:
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
                "family.update",
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


def _member_in_scope(conn: sa.Connection, actor: Actor, member_id: int) -> dict[str, Any]:
    # The role first, before any lookup: a role that may not change the registry gets the same answer (403)
    # for a member that exists and one that does not.
    _require_personal(actor)
    if not actor.can_edit_registry(actor.area_code):
        raise PermissionDenied("Peran Anda tidak dapat mengubah data registri")
    member = family_store.get_member(conn, member_id)
    if member is None:
        raise NotFound("Anggota tidak ditemukan")
    _lock_family(conn, actor, member["family_id"])
    locked = versioning.lock_current(conn, members, member_id)
    assert locked is not None
    return locked


def lock_member_for_edit(conn: sa.Connection, actor: Actor, member_id: int) -> dict[str, Any]:
    """A member's current row, locked in ``conn``'s transaction, after the same checks as any edit (role, area)."""
    return _member_in_scope(conn, actor, member_id)


def lock_family_for_edit(conn: sa.Connection, actor: Actor, family_id: int) -> dict[str, Any]:
    """A family's current row, locked in ``conn``'s transaction, after the same checks as any edit."""
    return _lock_family(conn, actor, family_id)


def add_member(db: Database, actor: Actor, family_id: int, member: Mapping[str, Any], *, reason: str) -> int:
    """Add a person to a family; returns the member id."""
    why = _reason(reason)
    clean, errors = validate_member(member)
    if errors:
        raise ValidationError("Data anggota belum benar", errors)
    with db.read() as conn:
        home = _editable_family(conn, actor, family_id)
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
        fam = _lock_family(conn, actor, family_id)
        _check_no_active_duplicate(conn, nik=clean["nik"])
        values = {**clean, "family_id": family_id, "status": RegistryStatus.AKTIF.value}
        member_id = versioning.insert_row(conn, members, values, changed_by=actor.username, reason=why, at=at)
        audit.record(
            conn,
            actor,
            "member.create",
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
    unknown = set(changes) - set(MEMBER_NAMES)
    if unknown:
        raise ValidationError(
            "Kolom tidak dikenal", [FieldError(k, "Kolom tidak dikenal") for k in sorted(unknown)]
        )
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
                "member.update",
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
        _lock_family(conn, actor, to_family_id)
        at = now()
        versioning.update_row(
            conn, members, current, {"family_id": to_family_id}, changed_by=actor.username, reason=why, at=at
        )
        audit.record(
            conn,
            actor,
            "member.move",
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
                "member.deactivate",
                "member",
                member_id,
                detail={"reason": why, "code": reason_code},
            )
            return payable.block_after_change(conn, actor, at, member_ids=[member_id])
    return 0


# ----------------------------------------------------------------- history

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
        _visible_family(conn, actor, family_id)
        fam_versions = versioning.all_versions(conn, families, lambda t: t.c.id == family_id)
        member_ids = sa.union(
            sa.select(members.c.id).where(members.c.family_id == family_id),
            sa.select(member_versions.c.id).where(member_versions.c.family_id == family_id),
        ).subquery()
        ids = [r[0] for r in conn.execute(sa.select(member_ids.c.id))]
        mem_versions = versioning.all_versions(conn, members, lambda t: t.c.id.in_(ids)) if ids else []
    _record_read(
        db, actor, "family.history", family_id, fam_versions[-1]["kelurahan_code"] if fam_versions else None
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


__all__ = [
    "AreaListing",
    "FamilyView",
    "HistoryEntry",
    "add_member",
    "browse_area",
    "create_family",
    "deactivate_family",
    "deactivate_member",
    "family_history",
    "find_by_nik",
    "get_family",
    "get_member",
    "list_families",
    "move_member",
    "search_families",
    "update_family",
    "update_member",
]
