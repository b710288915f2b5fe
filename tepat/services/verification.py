"""Field verification (verivali): the verifier's work list and recording a visit.

A visit's findings reach the registry through ``registry.update_family`` (so
the old version is kept like any other edit), recorded under the verifier's
own username. Verifiers cannot edit the registry by hand; this service is the
one place where their findings are applied, limited to the observable
indicators and the verification status and date, inside the verifier's area.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from tepat.domain.access import Actor, Permission, applying_findings
from tepat.domain.audit_actions import AuditAction
from tepat.domain.cases import CaseKind, CaseState, Clock, ListedCase, system_clock
from tepat.domain.linkage import PairDecision
from tepat.domain.validation import validate_family
from tepat.domain.verification import (
    REVERIFY_AFTER_YEARS,
    GpsPoint,
    Visit,
    VisitDecision,
    due_before,
    registry_changes,
)
from tepat.errors import FieldError, NotFound, PermissionDenied, ValidationError
from tepat.files import uploads as upload_files
from tepat.services import registry, registry_reads
from tepat.services.case_submissions import Evidence, record_evidence, save_evidence
from tepat.services.cases import list_cases
from tepat.store import audit
from tepat.store import cases as store
from tepat.store import duplicates as duplicate_store
from tepat.store import families as family_store
from tepat.store.database import Database


@dataclass(frozen=True)
class WorkList:
    """What a verifier has to do in their area: open cases and one page of the families due for a visit."""

    usul: list[ListedCase]
    sanggah: list[ListedCase]
    families_due: list[dict[str, Any]]
    families_due_total: int = 0
    page: int = 1
    per_page: int = 50
    duplicates: list[dict[str, Any]] | None = None  # pairs staff want visited ("perlu kunjungan")

    @property
    def has_next(self) -> bool:
        return self.page * self.per_page < self.families_due_total


def _require_verifier(actor: Actor) -> None:
    if not actor.may(Permission.VERIFY):
        raise PermissionDenied("Peran Anda tidak melakukan verifikasi lapangan")


def work_list(
    db: Database,
    actor: Actor,
    *,
    clock: Clock = system_clock,
    page: int = 1,
    per_page: int = 50,
    kelurahan: str | None = None,
    rw: int | None = None,
    since_years: int = REVERIFY_AFTER_YEARS,
    by_place: bool = False,
) -> WorkList:
    """Pending usul and sanggah, and one page of the families not verified for ``since_years`` years (at least
    the re-verification period), in the actor's area, optionally one kelurahan and RW."""
    _require_verifier(actor)
    before = due_before(clock().date(), max(since_years, REVERIFY_AFTER_YEARS))
    usul = list_cases(
        db, actor, kind=CaseKind.USUL.value, state=CaseState.VERIFIKASI.value, clock=clock, limit=per_page
    )
    sanggah = list_cases(db, actor, kind=CaseKind.SANGGAH.value, open_only=True, clock=clock, limit=per_page)
    page = max(page, 1)
    with db.read() as conn:
        due = store.families_due(
            conn,
            actor.area_code,
            before,
            per_page,
            offset=(page - 1) * per_page,
            kelurahan=kelurahan,
            rw=rw,
            by_place=by_place,
        )
        total = store.count_families_due(conn, actor.area_code, before, kelurahan=kelurahan, rw=rw)
        to_visit = duplicate_store.pairs(
            conn, actor.area_code, decision=PairDecision.KUNJUNGAN.value, limit=per_page
        )
    audit.record_read(
        db,
        actor,
        AuditAction.VERIFICATION_READ_WORKLIST,
        "family",
        None,
        area_code=kelurahan or actor.area_code,
        detail={
            "page": page,
            "families": len(due),
            "usul": len(usul),
            "sanggah": len(sanggah),
            "duplikat": len(to_visit),
        },
    )
    for f in due:
        f["kelurahan_name"] = db.regions.name(f["kelurahan_code"])
    return WorkList(
        usul=usul,
        sanggah=sanggah,
        families_due=due,
        families_due_total=total,
        page=page,
        per_page=per_page,
        duplicates=to_visit,
    )


def record_visit(
    db: Database,
    actor: Actor,
    family_id: int,
    *,
    observed: Mapping[str, Any],
    decision: str,
    expected_version: int,
    note: str = "",
    gps: GpsPoint | None = None,
    case_id: int | None = None,
    photos: Sequence[Evidence] = (),
    upload_dir: Path | None = None,
    clock: Clock = system_clock,
) -> int:
    """Record a home visit; changed indicators and the verification status go to the registry. Returns the visit id."""
    _require_verifier(actor)
    try:
        verdict = VisitDecision(decision)
    except ValueError:
        raise ValidationError(
            "Pilih hasil kunjungan", [FieldError("keputusan", "Pilih hasil kunjungan")]
        ) from None
    with db.read() as conn:
        current = family_store.get(conn, family_id)
        if current is None or not actor.in_area(current["kelurahan_code"]):
            raise NotFound("Keluarga tidak ditemukan")
        if case_id is not None:
            case = store.get(conn, case_id)
            if case is None or case.kelurahan_code != current["kelurahan_code"]:
                raise NotFound("Kasus tidak ditemukan")
    clean, errors = validate_family({k: v for k, v in observed.items() if v not in (None, "")}, partial=True)
    if errors:
        raise ValidationError("Isian kunjungan belum benar", errors)
    today = clock().date()
    visit = Visit(
        family_id=family_id, visited_on=today, decision=verdict, observed=clean, gps=gps, note=note.strip()
    )
    changes = registry_changes(current, visit)
    if changes:
        db.regions  # noqa: B018 -- loaded before update_family's transaction (SQLite: one writer)
        registry.update_family(
            db,
            applying_findings(actor),
            family_id,
            changes,
            expected_version=expected_version,
            reason=f"Verifikasi lapangan {today:%d-%m-%Y}: {verdict.label}",
        )
    saved = save_evidence(upload_dir, photos) if photos and upload_dir is not None else []
    try:
        with db.begin() as conn:
            visit_id = store.insert_visit(
                conn,
                {
                    "family_id": family_id,
                    "case_id": case_id,
                    "verifier": actor.username,
                    "visited_on": today,
                    "observed": {k: (v.isoformat() if isinstance(v, date) else v) for k, v in clean.items()},
                    "changed_fields": sorted(
                        k for k in changes if k not in ("verification_status", "verified_on")
                    ),
                    "latitude": gps.latitude if gps else None,
                    "longitude": gps.longitude if gps else None,
                    "decision": verdict.value,
                    "note": visit.note or None,
                    "created_at": clock(),
                },
            )
            record_evidence(
                conn,
                saved,
                case_id=case_id,
                visit_id=visit_id,
                area_code=current["kelurahan_code"],
                by=actor.username,
                at=clock(),
            )
            audit.record(
                conn,
                actor,
                AuditAction.FAMILY_VERIFY,
                "family",
                family_id,
                area_code=current["kelurahan_code"],
                detail={
                    "visit_id": visit_id,
                    "decision": verdict.value,
                    "case_id": case_id,
                    "changed": sorted(changes),
                },
            )
    except Exception:
        for _, s in saved:
            upload_files.remove(upload_dir, s.token)  # type: ignore[arg-type]
        raise
    return visit_id


def visits(db: Database, actor: Actor, family_id: int) -> list[dict[str, Any]]:
    """Past visits to a family, newest first."""
    registry_reads.get_family(db, actor, family_id)  # area and role check
    with db.read() as conn:
        return store.visits_of(conn, family_id)
