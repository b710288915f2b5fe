"""Citizen case workflows: usul (proposal), sanggah (dispute), pengaduan (complaint).

Residents submit through the public portal without an account (``PUBLIC``);
operators, verifiers and the admin move cases through the states allowed by
``tepat.domain.cases``. Every step is a ``case_events`` row plus an audit
record in the same transaction. The public tracking view (``track``) carries
states and dates only: no names, no notes, nothing about the disputed family.
An approved usul enters the registry through ``registry.create_family``.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, BinaryIO

import sqlalchemy as sa

from tepat.domain.access import Actor, Permission, Role, applying_findings
from tepat.domain.cases import (
    INITIAL,
    PENGADUAN_CATEGORIES,
    CaseKind,
    CaseState,
    Clock,
    SanggahOutcome,
    SlaState,
    assign_team,
    check_transition,
    deadline_for,
    is_final,
    is_overdue,
    new_tracking_number,
    next_states,
    parse_tracking_number,
    sla_state,
    system_clock,
)
from tepat.domain.households import RegistryStatus, VerificationStatus
from tepat.domain.nik import Kk, Nik
from tepat.domain.regions import Level
from tepat.domain.validation import validate_household
from tepat.errors import FieldError, NotFound, PermissionDenied, StateError, ValidationError
from tepat.files import uploads as upload_files
from tepat.services import moves, registry
from tepat.services.status_check import clean_second_factor, keyed_hash, second_factor_of
from tepat.store import audit
from tepat.store import cases as store
from tepat.store import families as family_store
from tepat.store.database import Database
from tepat.store.engine import as_utc

PUBLIC = Actor(username="warga", role=Role.ANALYST, area_code="", full_name="Warga (portal publik)")
"""Who submits through the public portal: used for the audit trail only, never to read anything."""

# The permission that moves a case into each state (beyond being in the case's area).
_MOVED_BY: dict[tuple[CaseKind, CaseState], Permission] = {
    (CaseKind.USUL, CaseState.DAFTAR_KELURAHAN): Permission.EDIT_REGISTRY,
    (CaseKind.USUL, CaseState.MUSYAWARAH): Permission.EDIT_REGISTRY,
    (CaseKind.USUL, CaseState.VERIFIKASI): Permission.EDIT_REGISTRY,
    (CaseKind.USUL, CaseState.PERSETUJUAN): Permission.VERIFY,
    (CaseKind.USUL, CaseState.MASUK_REGISTRI): Permission.OVERSEE,
    (CaseKind.USUL, CaseState.DITOLAK): Permission.VERIFY,
    (CaseKind.SANGGAH, CaseState.VERIFIKASI): Permission.EDIT_REGISTRY,
    (CaseKind.SANGGAH, CaseState.SELESAI): Permission.VERIFY,
    (CaseKind.PENGADUAN, CaseState.DITANGANI): Permission.HANDLE_CASES,
    (CaseKind.PENGADUAN, CaseState.SELESAI): Permission.HANDLE_CASES,
}
_NOTE_REQUIRED = {CaseState.DITOLAK, CaseState.SELESAI}


@dataclass(frozen=True)
class Evidence:
    """One uploaded file and what it shows: ``bukti``, ``foto_rumah``, ``berita_acara`` or ``foto_kunjungan``."""

    source: BinaryIO
    purpose: str = "bukti"


@dataclass(frozen=True)
class PublicTracking:
    """What anyone holding the tracking number may see: kind, states and dates, deadline, outcome."""

    tracking_number: str
    kind: str
    state: str
    steps: list[tuple[str, datetime]]
    opened_at: datetime
    deadline: datetime | None
    sla: str | None
    outcome: str | None
    resolution: str | None
    closed: bool


@dataclass(frozen=True)
class CaseDetail:
    """A case as staff see it: the record, its history, files, the steps this user may take now."""

    case: dict[str, Any]
    events: list[dict[str, Any]]
    uploads: list[dict[str, Any]]
    next_states: list[CaseState]
    sla: SlaState | None
    overdue: bool
    subject: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)


# ----------------------------------------------------------------- helpers


def _text(value: str | None, limit: int) -> str:
    return " ".join((value or "").split())[:limit]


def _required(value: str | None, name: str, label: str, limit: int = 2000) -> str:
    text = _text(value, limit)
    if not text:
        raise ValidationError(f"{label} wajib diisi", [FieldError(name, f"{label} wajib diisi")])
    return text


def save_evidence(
    upload_dir: Path, evidence: Sequence[Evidence]
) -> list[tuple[Evidence, upload_files.StoredFile]]:
    """Check and write uploaded files (all or none); their rows are written later by ``record_evidence``."""
    saved: list[tuple[Evidence, upload_files.StoredFile]] = []
    try:
        for item in evidence:
            saved.append((item, upload_files.store(upload_dir, item.source)))
    except Exception:
        for _, stored in saved:
            upload_files.remove(upload_dir, stored.token)
        raise
    return saved


def record_evidence(
    conn: sa.Connection,
    saved: list[tuple[Evidence, upload_files.StoredFile]],
    *,
    case_id: int | None,
    area_code: str,
    by: str,
    at: datetime,
    visit_id: int | None = None,
) -> list[int]:
    """The metadata rows of files written by ``save_evidence``."""
    return [
        store.add_upload(
            conn,
            {
                "token": s.token,
                "case_id": case_id,
                "visit_id": visit_id,
                "purpose": e.purpose,
                "content_type": s.content_type,
                "size_bytes": s.size_bytes,
                "sha256": s.sha256,
                "area_code": area_code,
                "uploaded_by": by,
                "uploaded_at": at,
            },
        )
        for e, s in saved
    ]


def _open_case(
    db: Database,
    upload_dir: Path,
    actor: Actor,
    kind: CaseKind,
    values: dict[str, Any],
    evidence: Sequence[Evidence],
    at: datetime,
) -> str:
    saved = save_evidence(upload_dir, evidence)
    try:
        with db.begin() as conn:
            number = _unused_number(conn, kind)
            state = INITIAL[kind]
            case_id = store.insert_case(
                conn,
                {
                    **values,
                    "kind": kind.value,
                    "tracking_number": number,
                    "state": state.value,
                    "deadline": deadline_for(kind, at, values.get("category")),
                    "created_by": actor.username,
                    "created_at": at,
                    "updated_at": at,
                },
            )
            store.add_event(conn, case_id, at, actor.username, None, state.value, None)
            record_evidence(
                conn, saved, case_id=case_id, area_code=values["kelurahan_code"], by=actor.username, at=at
            )
            audit.record(
                conn,
                actor,
                f"{kind.value}.create",
                "case",
                case_id,
                area_code=values["kelurahan_code"],
                detail={"tracking_number": number, "files": len(saved)},
            )
    except Exception:
        for _, stored in saved:
            upload_files.remove(upload_dir, stored.token)
        raise
    return number


def _unused_number(conn: sa.Connection, kind: CaseKind) -> str:
    while True:
        number = new_tracking_number(kind)
        if store.by_tracking_number(conn, number) is None:
            return number


def _kelurahan(db: Database, code: str) -> str:
    region = db.regions.get(code)
    office = db.office
    if region is None or region.level is not Level.KELURAHAN or not office.contains(code):
        raise ValidationError(
            "Kelurahan tidak dikenal", [FieldError("kelurahan_code", f"Pilih kelurahan di {office.name}")]
        )
    return code


# ----------------------------------------------------------------- submitting


def _jsonable(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in values.items() if v is not None}


def submit_usul(
    db: Database,
    upload_dir: Path,
    *,
    family: Mapping[str, Any],
    members: Sequence[Mapping[str, Any]],
    proposer_name: str,
    proposer_contact: str,
    reason: str,
    evidence: Sequence[Evidence],
    actor: Actor = PUBLIC,
    clock: Clock = system_clock,
) -> str:
    """Propose a family for the registry (by a resident or an operator); returns the tracking number."""
    clean, cleaned, errors = validate_household(
        {
            **family,
            "registry_status": RegistryStatus.AKTIF.value,
            "verification_status": VerificationStatus.BELUM.value,
        },
        members,
        known_kelurahan=db.regions,
        require_head=True,
    )
    if not evidence:
        errors.append(FieldError("bukti", "Lampirkan paling sedikit satu foto (rumah, KK atau KTP)"))
    if errors:
        raise ValidationError("Data usulan belum benar", errors)
    if actor is not PUBLIC and not actor.can_edit_registry(clean["kelurahan_code"]):
        raise PermissionDenied("Anda tidak dapat mengusulkan keluarga di luar wilayah Anda")
    payload = {"family": _jsonable(clean), "members": [_jsonable(m) for m in cleaned]}
    values = {
        "kelurahan_code": clean["kelurahan_code"],
        "reporter_name": _required(proposer_name, "nama", "Nama pengusul", 120),
        "reporter_contact": _text(proposer_contact, 120) or None,
        "description": _required(reason, "alasan", "Alasan usulan"),
        "payload": payload,
    }
    return _open_case(db, upload_dir, actor, CaseKind.USUL, values, evidence, clock())


SANGGAH_EVIDENCE = "Lampirkan bukti: foto atau dokumen (JPG, PNG atau PDF) yang mendukung sanggah"


def submit_sanggah(
    db: Database,
    upload_dir: Path,
    secret_key: str,
    *,
    disputer_nik: str,
    disputer_proof: str,
    factor: str = "kk",
    target_nik: str = "",
    target_kk: str = "",
    target_description: str,
    reason: str,
    contact: str = "",
    evidence: Sequence[Evidence] = (),
    clock: Clock = system_clock,
) -> str:
    """Dispute a recipient in the disputer's own kelurahan; the disputer must be an active registered resident and
    prove it with the status check's second factor (``factor``: their nomor KK, or their name as on the KK), and
    attach evidence (a photo or a document), checked first: nothing about anyone is looked up without it."""
    if not evidence:
        raise ValidationError("Sanggah perlu bukti", [FieldError("bukti", SANGGAH_EVIDENCE)])
    reason_text = _required(reason, "alasan", "Alasan sanggah")
    who = _required(target_description, "penerima", "Nama dan alamat penerima yang disanggah", 500)
    proof = clean_second_factor(factor, disputer_proof)
    with db.read() as conn:
        disputer = family_store.active_member_by_nik(conn, Nik.typed(disputer_nik).digits)
        family = family_store.get(conn, disputer["family_id"]) if disputer else None
        expected = (
            second_factor_of(factor, {**(family or {}), "name": disputer["name"]})
            if disputer and family
            else ""
        )
        if (
            disputer is None
            or family is None
            or family["registry_status"] != RegistryStatus.AKTIF
            or not hmac.compare_digest(expected.encode(), proof.encode())
        ):
            raise ValidationError(
                "Sanggah hanya dapat diajukan oleh warga terdaftar aktif",
                [FieldError("nik", "NIK dan isian kedua pelapor tidak cocok dengan warga terdaftar aktif")],
            )
        kelurahan = family["kelurahan_code"]
        subject = _subject_in(conn, kelurahan, target_nik, target_kk)
    values = {
        "kelurahan_code": kelurahan,
        "subject_family_id": subject,
        "reporter_name": disputer["name"],
        "reporter_contact": _text(contact, 120) or None,
        "reporter_nik_hash": keyed_hash(secret_key, "nik", disputer["nik"]),
        "description": reason_text,
        "payload": {"penerima": who, "nik": target_nik.strip() or None, "kk": target_kk.strip() or None},
    }
    return _open_case(db, upload_dir, PUBLIC, CaseKind.SANGGAH, values, evidence, clock())


def _subject_in(conn: sa.Connection, kelurahan: str, target_nik: str, target_kk: str) -> int | None:
    """The disputed family, only when it lives in the same kelurahan (otherwise staff match it by hand)."""
    # Optional: a number typed wrongly matches nobody (staff then match the sanggah by hand), it refuses nothing.
    nik, kk = Nik.typed_or_none(target_nik), Kk.typed_or_none(target_kk)
    candidate = None
    if nik:
        member = family_store.active_member_by_nik(conn, nik.digits)
        candidate = family_store.get(conn, member["family_id"]) if member else None
    if candidate is None and kk:
        candidate = family_store.active_family_by_kk(conn, kk.digits)
    if candidate is not None and candidate["kelurahan_code"] == kelurahan:
        return int(candidate["id"])
    return None


def submit_pengaduan(
    db: Database,
    upload_dir: Path,
    *,
    category: str,
    kelurahan_code: str,
    description: str,
    name: str = "",
    contact: str = "",
    evidence: Sequence[Evidence] = (),
    actor: Actor = PUBLIC,
    clock: Clock = system_clock,
) -> str:
    """File a complaint ticket; it is assigned to a team by area and category."""
    if category not in PENGADUAN_CATEGORIES:
        raise ValidationError("Kategori tidak dikenal", [FieldError("kategori", "Pilih kategori pengaduan")])
    code = _kelurahan(db, kelurahan_code)
    values = {
        "kelurahan_code": code,
        "category": category,
        "assigned_team": assign_team(category, code),
        "reporter_name": _text(name, 120) or None,
        "reporter_contact": _text(contact, 120) or None,
        "description": _required(description, "uraian", "Uraian pengaduan"),
    }
    return _open_case(db, upload_dir, actor, CaseKind.PENGADUAN, values, evidence, clock())


# ----------------------------------------------------------------- public tracking


def track(db: Database, number: str, *, clock: Clock = system_clock) -> PublicTracking | None:
    """States and dates of a case by its tracking number (``None`` when the number is not valid or unknown)."""
    canonical = parse_tracking_number(number)
    if canonical is None:
        return None
    with db.read() as conn:
        row = store.by_tracking_number(conn, canonical)
        if row is None:
            return None
        events = store.events(conn, row["id"])
    kind, state = CaseKind(row["kind"]), CaseState(row["state"])
    opened, deadline, closed_at = as_utc(row["created_at"]), as_utc(row["deadline"]), as_utc(row["closed_at"])
    assert opened is not None
    return PublicTracking(
        tracking_number=canonical,
        kind=kind.label,
        state=state.label,
        steps=[(CaseState(e["to_state"]).label, as_utc(e["at"]) or e["at"]) for e in events],
        opened_at=opened,
        deadline=deadline,
        sla=sla_state(opened, deadline, clock(), closed_at).label if deadline else None,
        outcome=SanggahOutcome(row["outcome"]).label if row["outcome"] else None,
        resolution=row["resolution"] if kind is CaseKind.PENGADUAN else None,
        closed=is_final(kind, state),
    )


# ----------------------------------------------------------------- staff side


def _visible_case(conn: sa.Connection, actor: Actor, case_id: int, *, lock: bool = False) -> dict[str, Any]:
    if not actor.may(Permission.HANDLE_CASES):
        raise NotFound("Kasus tidak ditemukan")
    row = store.get(conn, case_id, lock=lock)
    if row is None or not actor.in_area(row["kelurahan_code"]):
        raise NotFound("Kasus tidak ditemukan")
    return row


def _may_move(actor: Actor, kind: CaseKind, to: CaseState) -> bool:
    needed = _MOVED_BY.get((kind, to))
    return needed is not None and actor.may(needed)


def _timing(row: Mapping[str, Any], at: datetime) -> tuple[SlaState | None, bool]:
    opened, deadline, closed_at = as_utc(row["created_at"]), as_utc(row["deadline"]), as_utc(row["closed_at"])
    assert opened is not None
    if deadline is None:
        return None, False
    return sla_state(opened, deadline, at, closed_at), is_overdue(deadline, at, closed_at is not None)


def list_cases(
    db: Database,
    actor: Actor,
    *,
    kind: str | None = None,
    state: str | None = None,
    overdue: bool = False,
    open_only: bool = False,
    clock: Clock = system_clock,
    limit: int = 200,
) -> list[dict[str, Any]]:
    """Cases in the actor's area with their SLA state and an overdue flag, newest first."""
    if not actor.may(Permission.HANDLE_CASES):
        raise PermissionDenied("Peran Anda tidak menangani kasus warga")
    at = clock()
    with db.read() as conn:
        rows = store.listing(
            conn,
            actor.area_code,
            kind=kind or None,
            states=[state] if state else None,
            open_only=open_only,
            overdue_at=at if overdue else None,
            limit=limit,
        )
    for r in rows:
        r["sla"], r["overdue"] = _timing(r, at)
        r["state_label"] = CaseState(r["state"]).label
        r["kelurahan_name"] = db.regions.name(r["kelurahan_code"])
    return rows


def find_case(db: Database, actor: Actor, number: str) -> int:
    """The id of a case by its tracking number, if the actor may see it (``NotFound`` otherwise)."""
    canonical = parse_tracking_number(number)
    with db.read() as conn:
        row = store.by_tracking_number(conn, canonical) if canonical else None
        if row is None:
            raise NotFound("Kasus tidak ditemukan")
        return int(_visible_case(conn, actor, row["id"])["id"])


def overdue_sanggah(db: Database, actor: Actor, *, clock: Clock = system_clock) -> list[dict[str, Any]]:
    """Open sanggah past their 14-day deadline, for the admin's attention."""
    return list_cases(db, actor, kind=CaseKind.SANGGAH.value, overdue=True, clock=clock)


def get_case(db: Database, actor: Actor, case_id: int, *, clock: Clock = system_clock) -> CaseDetail:
    """One case with its history, files and the steps this actor may take now."""
    with db.read() as conn:
        row = _visible_case(conn, actor, case_id)
        events = store.events(conn, case_id)
        files = store.uploads_of(conn, case_id)
        subject = family_store.get(conn, row["subject_family_id"]) if row["subject_family_id"] else None
        warnings = _usul_warnings(conn, actor, row)
    audit.record_read(db, actor, "case.read", "case", case_id, area_code=row["kelurahan_code"])
    kind, state = CaseKind(row["kind"]), CaseState(row["state"])
    sla, overdue = _timing(row, clock())
    allowed = [s for s in next_states(kind, state) if _may_move(actor, kind, s)]
    return CaseDetail(
        case=row,
        events=events,
        uploads=files,
        next_states=allowed,
        sla=sla,
        overdue=overdue,
        subject=subject,
        warnings=warnings,
    )


def _usul_warnings(conn: sa.Connection, actor: Actor, row: Mapping[str, Any]) -> list[str]:
    if row["kind"] != CaseKind.USUL or not row["payload"] or is_final(CaseKind.USUL, CaseState(row["state"])):
        return []
    found = []
    kk = row["payload"]["family"].get("kk_number")
    niks = [m["nik"] for m in row["payload"]["members"]]
    if moves.outside_area(
        conn, actor, kk_number=kk or "", to_kelurahan_code=row["kelurahan_code"], niks=niks
    ):
        # Nothing about the other area's records: only that approving will send a move request instead.
        return [
            (
                "Sebagian NIK/KK usul ini tidak dapat didaftarkan di sini: bila disetujui, usul ditolak sistem dan "
                "permintaan perpindahan dikirim ke petugas wilayah asalnya."
            )
        ]
    if kk and family_store.active_family_by_kk(conn, kk) is not None:
        found.append(f"Nomor KK {kk} sudah terdaftar sebagai keluarga aktif.")
    for m in row["payload"]["members"]:
        if family_store.active_member_by_nik(conn, m["nik"]) is not None:
            found.append(f"NIK {m['nik']} ({m['name']}) sudah terdaftar sebagai anggota aktif.")
    return found


def advance(
    db: Database,
    actor: Actor,
    case_id: int,
    to_state: str,
    *,
    note: str = "",
    outcome: str | None = None,
    evidence: Sequence[Evidence] = (),
    upload_dir: Path | None = None,
    clock: Clock = system_clock,
) -> None:
    """Move a case one step; an approved usul enters the registry, a closed sanggah records its outcome."""
    try:
        to = CaseState(to_state)
    except ValueError:
        raise StateError("Langkah tidak dikenal") from None
    text = _text(note, 1000)
    if to in _NOTE_REQUIRED and not text:
        raise ValidationError(
            "Catatan wajib diisi", [FieldError("catatan", "Tulis alasan atau hasil penanganan")]
        )
    with db.read() as conn:
        row = _visible_case(conn, actor, case_id)
    kind, state = CaseKind(row["kind"]), CaseState(row["state"])
    check_transition(kind, state, to, outcome=outcome)
    if not _may_move(actor, kind, to):
        raise PermissionDenied("Peran Anda tidak dapat melakukan langkah ini")
    if evidence and upload_dir is None:
        raise ValueError("upload_dir is needed to store evidence")
    saved = save_evidence(upload_dir, evidence) if evidence and upload_dir is not None else []
    try:
        created = None
        if kind is CaseKind.USUL and to is CaseState.MASUK_REGISTRI:
            payload = row["payload"]
            created = registry.create_family(
                db,
                actor,
                payload["family"],
                payload["members"],
                reason=f"Usul {row['tracking_number']} disetujui",
            )
        if kind is CaseKind.SANGGAH and outcome == SanggahOutcome.DIHAPUS and row["subject_family_id"]:
            _remove_from_lists(db, actor, row)
        at = clock()
        with db.begin() as conn:
            current = _visible_case(conn, actor, case_id, lock=True)
            if current["state"] != state.value:
                raise StateError("Kasus ini baru saja diubah orang lain; muat ulang halaman")
            record_evidence(
                conn, saved, case_id=case_id, area_code=row["kelurahan_code"], by=actor.username, at=at
            )
            if (
                kind is CaseKind.USUL
                and state is CaseState.MUSYAWARAH
                and to is CaseState.VERIFIKASI
                and not store.has_upload(conn, case_id, "berita_acara")
            ):
                raise ValidationError(
                    "Lampirkan Berita Acara musyawarah kelurahan",
                    [FieldError("berkas", "Unggah Berita Acara (BA) musyawarah kelurahan")],
                )
            final = is_final(kind, to)
            values: dict[str, Any] = {"state": to.value, "updated_at": at, "closed_at": at if final else None}
            if outcome and kind is CaseKind.SANGGAH:
                values["outcome"] = SanggahOutcome(outcome).value
            if final:
                values["resolution"] = text or None
            if created is not None:
                values["created_family_id"] = created
            store.update(conn, case_id, values)
            store.add_event(conn, case_id, at, actor.username, state.value, to.value, text or None)
            audit.record(
                conn,
                actor,
                f"{kind.value}.{to.value}",
                "case",
                case_id,
                area_code=row["kelurahan_code"],
                detail={"from": state.value, "to": to.value, "outcome": outcome, "family_id": created},
            )
    except Exception:
        for _, stored in saved:
            upload_files.remove(upload_dir, stored.token)  # type: ignore[arg-type]
        raise


def _remove_from_lists(db: Database, actor: Actor, case: Mapping[str, Any]) -> None:
    """An upheld sanggah ("dihapus dari daftar"): the family is marked not eligible, which blocks its unpaid
    entitlements in the same transaction and keeps it out of every cycle generated from now on (issue 18 point 2)."""
    with db.read() as conn:
        family = family_store.get(conn, case["subject_family_id"])
    if family is None or family["verification_status"] == VerificationStatus.DITOLAK:
        return
    registry.update_family(
        db,
        applying_findings(actor),
        family["id"],
        {"verification_status": VerificationStatus.DITOLAK.value},
        expected_version=family["version"],
        reason=f"Sanggah {case['tracking_number']}: dihapus dari daftar",
    )


def upload_for(db: Database, actor: Actor, upload_id: int) -> dict[str, Any]:
    """An upload's metadata when the actor may see it (staff of its area); ``NotFound`` otherwise."""
    with db.read() as conn:
        row = store.get_upload(conn, upload_id)
    if row is None or not actor.may(Permission.HANDLE_CASES) or not actor.can_read_personal(row["area_code"]):
        raise NotFound("Berkas tidak ditemukan")
    audit.record_read(
        db,
        actor,
        "upload.read",
        "upload",
        upload_id,
        area_code=row["area_code"],
        detail={"case_id": row.get("case_id"), "purpose": row.get("purpose")},
    )
    return row
