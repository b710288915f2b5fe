"""Residents' cases coming in: usul (proposal), sanggah (dispute) and pengaduan (complaint) submitted through the
public portal without an account (``PUBLIC``) or at the help desk, their evidence, and the public tracking view
(``track``: states and dates only — no names, no notes, nothing about the disputed family). Staff move them on in
``tepat.services.cases``."""

from __future__ import annotations

import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, BinaryIO

import sqlalchemy as sa

from tepat.domain.access import Actor, Role
from tepat.domain.audit_actions import AuditAction
from tepat.domain.cases import (
    INITIAL,
    PENGADUAN_CATEGORIES,
    CaseKind,
    CaseState,
    Clock,
    SanggahOutcome,
    assign_team,
    deadline_for,
    is_final,
    new_tracking_number,
    parse_tracking_number,
    sla_state,
    system_clock,
)
from tepat.domain.households import RegistryStatus, VerificationStatus
from tepat.domain.nik import Kk, Nik
from tepat.domain.regions import Level
from tepat.domain.validation import validate_household
from tepat.errors import FieldError, PermissionDenied, ValidationError
from tepat.files import uploads as upload_files
from tepat.services.status_check import clean_second_factor, keyed_hash, second_factor_of
from tepat.store import audit
from tepat.store import cases as store
from tepat.store import families as family_store
from tepat.store.database import Database
from tepat.store.engine import as_utc

PUBLIC = Actor(username="warga", role=Role.ANALYST, area_code="", full_name="Warga (portal publik)")
"""Who submits through the public portal: used for the audit trail only, never to read anything."""


SANGGAH_EVIDENCE = "Lampirkan bukti: foto atau dokumen (JPG, PNG atau PDF) yang mendukung sanggah"


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


def clipped(value: str | None, limit: int) -> str:
    return " ".join((value or "").split())[:limit]


def _required(value: str | None, name: str, label: str, limit: int = 2000) -> str:
    text = clipped(value, limit)
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
                AuditAction.case_created(kind),
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
    offices = db.offices
    if region is None or region.level is not Level.KELURAHAN or offices.of(code) is None:
        names = ", ".join(o.name for o in offices.all)
        raise ValidationError(
            "Kelurahan tidak dikenal", [FieldError("kelurahan_code", f"Pilih kelurahan di {names}")]
        )
    return code


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
        "reporter_contact": clipped(proposer_contact, 120) or None,
        "description": _required(reason, "alasan", "Alasan usulan"),
        "payload": payload,
    }
    return _open_case(db, upload_dir, actor, CaseKind.USUL, values, evidence, clock())


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
        "reporter_contact": clipped(contact, 120) or None,
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
        "reporter_name": clipped(name, 120) or None,
        "reporter_contact": clipped(contact, 120) or None,
        "description": _required(description, "uraian", "Uraian pengaduan"),
    }
    return _open_case(db, upload_dir, actor, CaseKind.PENGADUAN, values, evidence, clock())


def track(db: Database, number: str, *, clock: Clock = system_clock) -> PublicTracking | None:
    """States and dates of a case by its tracking number (``None`` when the number is not valid or unknown)."""
    canonical = parse_tracking_number(number)
    if canonical is None:
        return None
    with db.read() as conn:
        row = store.by_tracking_number(conn, canonical)
        if row is None:
            return None
        events = store.events(conn, row.id)
    kind, state = row.kind, row.state
    opened, deadline, closed_at = as_utc(row.created_at), as_utc(row.deadline), as_utc(row.closed_at)
    assert opened is not None
    return PublicTracking(
        tracking_number=canonical,
        kind=kind.label,
        state=state.label,
        steps=[(CaseState(e["to_state"]).label, as_utc(e["at"]) or e["at"]) for e in events],
        opened_at=opened,
        deadline=deadline,
        sla=sla_state(opened, deadline, clock(), closed_at).label if deadline else None,
        outcome=SanggahOutcome(row.outcome).label if row.outcome else None,
        resolution=row.resolution if kind is CaseKind.PENGADUAN else None,
        closed=is_final(kind, state),
    )
