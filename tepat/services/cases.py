"""Citizen cases on the staff side: usul (proposal), sanggah (dispute), pengaduan (complaint) listed, opened and
moved through the states allowed by ``tepat.domain.cases`` by operators, verifiers and the admin of the case's area.

Cases come in through ``tepat.services.case_submissions`` (the public portal and the help desk, and the public
tracking view). Every step is a ``case_events`` row plus an audit record in the same transaction. An approved usul
enters the registry through ``registry.create_family``; an upheld sanggah takes its family off unpaid lists.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from tepat.domain.access import Actor, Permission, applying_findings
from tepat.domain.audit_actions import AuditAction
from tepat.domain.cases import (
    Case,
    CaseKind,
    CaseState,
    Clock,
    ListedCase,
    SanggahOutcome,
    SlaState,
    check_transition,
    is_final,
    is_overdue,
    next_states,
    parse_tracking_number,
    sla_state,
    system_clock,
)
from tepat.domain.households import VerificationStatus
from tepat.domain.registry_records import Family
from tepat.errors import FieldError, NotFound, PermissionDenied, StateError, ValidationError
from tepat.files import uploads as upload_files
from tepat.services import moves, registry
from tepat.services.case_submissions import Evidence, clipped, record_evidence, save_evidence
from tepat.store import audit
from tepat.store import cases as store
from tepat.store import families as family_store
from tepat.store.database import Database
from tepat.store.engine import as_utc

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
class CaseDetail:
    """A case as staff see it: the record, its history, files, the steps this user may take now."""

    case: Case
    events: list[dict[str, Any]]
    uploads: list[dict[str, Any]]
    next_states: list[CaseState]
    sla: SlaState | None
    overdue: bool
    subject: Family | None = None
    warnings: list[str] = field(default_factory=list)


def _visible_case(conn: sa.Connection, actor: Actor, case_id: int, *, lock: bool = False) -> Case:
    if not actor.may(Permission.HANDLE_CASES):
        raise NotFound("Kasus tidak ditemukan")
    row = store.get(conn, case_id, lock=lock)
    if row is None or not actor.in_area(row.kelurahan_code):
        raise NotFound("Kasus tidak ditemukan")
    return row


def _may_move(actor: Actor, kind: CaseKind, to: CaseState) -> bool:
    needed = _MOVED_BY.get((kind, to))
    return needed is not None and actor.may(needed)


def _timing(case: Case, at: datetime) -> tuple[SlaState | None, bool]:
    opened, deadline, closed_at = as_utc(case.created_at), as_utc(case.deadline), as_utc(case.closed_at)
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
) -> list[ListedCase]:
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
    listed = []
    for case in rows:
        sla, overdue_now = _timing(case, at)
        listed.append(
            ListedCase.of(
                case, sla=sla, overdue=overdue_now, kelurahan_name=db.regions.name(case.kelurahan_code)
            )
        )
    return listed


def find_case(db: Database, actor: Actor, number: str) -> int:
    """The id of a case by its tracking number, if the actor may see it (``NotFound`` otherwise)."""
    canonical = parse_tracking_number(number)
    with db.read() as conn:
        row = store.by_tracking_number(conn, canonical) if canonical else None
        if row is None:
            raise NotFound("Kasus tidak ditemukan")
        return _visible_case(conn, actor, row.id).id


def overdue_sanggah(db: Database, actor: Actor, *, clock: Clock = system_clock) -> list[ListedCase]:
    """Open sanggah past their 14-day deadline, for the admin's attention."""
    return list_cases(db, actor, kind=CaseKind.SANGGAH.value, overdue=True, clock=clock)


def get_case(db: Database, actor: Actor, case_id: int, *, clock: Clock = system_clock) -> CaseDetail:
    """One case with its history, files and the steps this actor may take now."""
    with db.read() as conn:
        row = _visible_case(conn, actor, case_id)
        events = store.events(conn, case_id)
        files = store.uploads_of(conn, case_id)
        subject = family_store.get(conn, row.subject_family_id) if row.subject_family_id else None
        warnings = _usul_warnings(conn, actor, row)
    audit.record_read(db, actor, AuditAction.CASE_READ, "case", case_id, area_code=row.kelurahan_code)
    kind, state = CaseKind(row.kind), CaseState(row.state)
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


def _usul_warnings(conn: sa.Connection, actor: Actor, row: Case) -> list[str]:
    if row.kind != CaseKind.USUL or not row.payload or is_final(CaseKind.USUL, CaseState(row.state)):
        return []
    found = []
    kk = row.payload["family"].get("kk_number")
    niks = [m["nik"] for m in row.payload["members"]]
    if moves.outside_area(conn, actor, kk_number=kk or "", to_kelurahan_code=row.kelurahan_code, niks=niks):
        # Nothing about the other area's records: only that approving will send a move request instead.
        return [
            (
                "Sebagian NIK/KK usul ini tidak dapat didaftarkan di sini: bila disetujui, usul ditolak sistem dan "
                "permintaan perpindahan dikirim ke petugas wilayah asalnya."
            )
        ]
    if kk and family_store.active_family_by_kk(conn, kk) is not None:
        found.append(f"Nomor KK {kk} sudah terdaftar sebagai keluarga aktif.")
    for m in row.payload["members"]:
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
    text = clipped(note, 1000)
    if to in _NOTE_REQUIRED and not text:
        raise ValidationError(
            "Catatan wajib diisi", [FieldError("catatan", "Tulis alasan atau hasil penanganan")]
        )
    with db.read() as conn:
        row = _visible_case(conn, actor, case_id)
    kind, state = CaseKind(row.kind), CaseState(row.state)
    check_transition(kind, state, to, outcome=outcome)
    if not _may_move(actor, kind, to):
        raise PermissionDenied("Peran Anda tidak dapat melakukan langkah ini")
    if evidence and upload_dir is None:
        raise ValueError("upload_dir is needed to store evidence")
    saved = save_evidence(upload_dir, evidence) if evidence and upload_dir is not None else []
    try:
        created = None
        if kind is CaseKind.USUL and to is CaseState.MASUK_REGISTRI:
            payload = row.payload or {}
            created = registry.create_family(
                db,
                actor,
                payload["family"],
                payload["members"],
                reason=f"Usul {row.tracking_number} disetujui",
            )
        if kind is CaseKind.SANGGAH and outcome == SanggahOutcome.DIHAPUS and row.subject_family_id:
            _remove_from_lists(db, actor, row)
        at = clock()
        with db.begin() as conn:
            current = _visible_case(conn, actor, case_id, lock=True)
            if current.state != state:
                raise StateError("Kasus ini baru saja diubah orang lain; muat ulang halaman")
            record_evidence(
                conn, saved, case_id=case_id, area_code=row.kelurahan_code, by=actor.username, at=at
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
                AuditAction.case_moved(kind),
                "case",
                case_id,
                area_code=row.kelurahan_code,
                detail={"from": state.value, "to": to.value, "outcome": outcome, "family_id": created},
            )
    except Exception:
        for _, stored in saved:
            upload_files.remove(upload_dir, stored.token)  # type: ignore[arg-type]
        raise


def _remove_from_lists(db: Database, actor: Actor, case: Case) -> None:
    """An upheld sanggah ("dihapus dari daftar"): the family is marked not eligible, which blocks its unpaid
    entitlements in the same transaction and keeps it out of every cycle generated from now on (issue 18 point 2)."""
    if case.subject_family_id is None:
        return
    with db.read() as conn:
        family = family_store.get(conn, case.subject_family_id)
    if family is None or family["verification_status"] == VerificationStatus.DITOLAK:
        return
    registry.update_family(
        db,
        applying_findings(actor),
        family["id"],
        {"verification_status": VerificationStatus.DITOLAK.value},
        expected_version=family["version"],
        reason=f"Sanggah {case.tracking_number}: dihapus dari daftar",
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
        AuditAction.UPLOAD_READ,
        "upload",
        upload_id,
        area_code=row["area_code"],
        detail={"case_id": row.get("case_id"), "purpose": row.get("purpose")},
    )
    return row
