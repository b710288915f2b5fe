"""Benefit cycles: create, generate (one INSERT … SELECT), submit, approve and freeze, return, cancel, close.

Each step is one transaction with its audit record; a crash mid-generation leaves
the cycle as it was. Approval is maker-checker (``tepat.domain.cycles``): the
approver neither created nor submitted the cycle. On approval the programme row
is already in ``programme_snapshot`` and the entitlement rows carry copies of the
recipients' data; unpayable recipients (dead, inactive person or family) are
blocked, and the SHA-256 of the ordered list is stored so anyone can check later
that the frozen list never changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import sqlalchemy as sa

from tepat.domain.access import Actor, Permission
from tepat.domain.audit_actions import AuditAction
from tepat.domain.coverage import cycle_coverage_end
from tepat.domain.cycles import (
    FINAL_ENTITLEMENT_STATES,
    Cycle,
    CycleAction,
    CycleState,
    allowed_actions,
    check_actor,
    next_state,
)
from tepat.domain.entitlements import Completion, EntitlementState, completion_of_cycle
from tepat.domain.formatting import local_today, long_date
from tepat.domain.programmes import MAX_AMOUNT, TERMS, Programme, budget_for
from tepat.errors import ConflictError, FieldError, NotFound, PermissionDenied, StateError, ValidationError
from tepat.services import enrolment
from tepat.services.programmes import get_programme
from tepat.store import audit, payability
from tepat.store import cycles as store
from tepat.store import families as family_store
from tepat.store import programmes as programme_store
from tepat.store.database import Database
from tepat.store.engine import now
from tepat.store.schema import entitlements

_NOT_FOUND = "Siklus tidak ditemukan"
_MOVED = "Siklus ini sudah diubah orang lain. Muat ulang halaman lalu coba lagi."
SNAPSHOT_FIELDS = ("code", "name", *TERMS, "version")


@dataclass(frozen=True)
class CycleView:
    """A cycle with its totals, per-kelurahan table (in the actor's area) and the actions this actor may take."""

    cycle: Cycle
    states: dict[str, int]
    by_kelurahan: list[dict[str, Any]]
    actions: list[CycleAction]

    @property
    def completion(self) -> Completion:
        """Paid, coverage or training: what the page offers after approval."""
        return completion_of_cycle(self.cycle.programme_snapshot)

    @property
    def coverage_ends(self) -> date | None:
        return coverage_ends(self.cycle)

    def as_dict(self) -> dict[str, Any]:
        ends = self.coverage_ends
        return {
            "penyelesaian": self.completion.value,
            **({"jaminan_sampai": ends.isoformat()} if ends else {}),
            **self.cycle.as_json(),
            "per_status": self.states,
            "per_kelurahan": self.by_kelurahan,
        }

    as_json = as_dict


def _load(conn: sa.Connection, cycle_id: int, *, lock: bool = False) -> Cycle:
    row = store.get_cycle(conn, cycle_id, lock=lock)
    if row is None:
        raise NotFound(_NOT_FOUND)
    return row


def _require_visible(actor: Actor, cycle: Cycle) -> None:
    """Another office's cycle is not found (as another kelurahan's family is not)."""
    if not actor.shares_area(cycle.area_code):
        raise NotFound(_NOT_FOUND)


def _step(conn: sa.Connection, actor: Actor, cycle: Cycle, action: CycleAction) -> CycleState:
    _require_visible(actor, cycle)
    check_actor(
        action,
        actor,
        created_by=cycle.created_by,
        submitted_by=cycle.submitted_by,
        cycle_area=cycle.area_code,
    )
    return next_state(cycle.state, action)


def create_cycle(
    db: Database,
    actor: Actor,
    code: str,
    *,
    name: str,
    period_start: date,
    period_end: date,
    reference_date: date | None = None,
    budget_cap: int | None = None,
    quota: int | None = None,
    area_code: str | None = None,
) -> int:
    """A new cycle in ``draf`` for ``area_code`` (default: the admin's whole area; a region inside it otherwise);
    its budget cap defaults to the annual budget minus what the year's frozen cycles committed."""
    if not actor.may(Permission.MANAGE_PROGRAMMES):
        raise PermissionDenied("Hanya Admin Dinsos yang dapat membuat siklus bantuan.")
    area = actor.area_code if area_code is None else area_code.strip()
    if not actor.in_area(area):
        raise PermissionDenied("Wilayah siklus harus berada di dalam wilayah kerja Anda.")
    errors = []
    if area and db.regions.get(area) is None:
        errors.append(FieldError("area_code", "Kode wilayah tidak dikenal"))
    if not name.strip():
        errors.append(FieldError("name", 'Nama siklus wajib diisi, mis. "BLT-APBD Juli 2025"'))
    if period_end < period_start:
        errors.append(FieldError("period_end", "Akhir periode tidak boleh sebelum awalnya"))
    if budget_cap is not None and budget_cap < 0:
        errors.append(FieldError("budget_cap", "Pagu tidak boleh negatif"))
    elif budget_cap is not None and budget_cap > MAX_AMOUNT:
        errors.append(FieldError("budget_cap", "Pagu terlalu besar"))
    if quota is not None and quota < 1:
        errors.append(FieldError("quota", "Kuota harus lebih dari 0"))
    office = db.offices.holding(area)
    if office is None and not errors:  # a cycle pays from one kabupaten/kota's catalogue and budget
        errors.append(
            FieldError(
                "area_code",
                f"Siklus dibayar dari anggaran satu kabupaten/kota: pilih wilayah di dalam salah satu kantor "
                f"({', '.join(db.offices.codes)}).",
            )
        )
    if errors or office is None:
        raise ValidationError("Data siklus belum benar.", errors)
    prog = get_programme(db, actor, code, office=office.code)
    if not prog["active"]:
        raise StateError(f"Program {prog['code']} tidak aktif.")
    with db.begin() as conn:
        year_budget = budget_for(prog, period_start.year)
        if budget_cap is None and year_budget is not None:
            budget_cap = max(year_budget - store.committed(conn, prog["id"], period_start.year), 0)
        at = now()
        cycle_id = store.insert_cycle(
            conn,
            {
                "programme_id": prog["id"],
                "name": name.strip()[:120],
                "area_code": area,
                "period_start": period_start,
                "period_end": period_end,
                "reference_date": reference_date or period_start,
                "state": CycleState.DRAF.value,
                "programme_snapshot": _snapshot(prog),
                "budget_cap": budget_cap,
                "quota": quota if quota is not None else prog["quota"],
                "version": 1,
                "created_by": actor.username,
                "created_at": at,
            },
        )
        audit.record(
            conn,
            actor,
            AuditAction.CYCLE_CREATE,
            "benefit_cycle",
            cycle_id,
            area_code=area or None,
            detail={"program": prog["code"], "name": name.strip(), "budget_cap": budget_cap, "area": area},
        )
    return cycle_id


def _snapshot(prog: Programme) -> dict[str, Any]:
    row: Mapping[str, Any] = prog
    return {k: row[k] for k in SNAPSHOT_FIELDS}


def generate(db: Database, actor: Actor, cycle_id: int) -> dict[str, Any]:
    """(Re)build the cycle's entitlements from the programme as it is now: one INSERT … SELECT, one transaction."""
    with db.begin() as conn:
        cycle = _load(conn, cycle_id, lock=True)
        _step(conn, actor, cycle, CycleAction.GENERATE)
        prog = get_programme_row(conn, cycle.programme_id)
        scope = enrolment.programme_scope(  # the cycle's area, never the acting admin's (which contains it)
            conn,
            prog,
            actor,
            reference_date=cycle.reference_date,
            period=(cycle.period_start, cycle.period_end),
            budget=cycle.budget_cap,
            quota=cycle.quota,
            use_programme_limits=False,
            area_code=cycle.area_code,
        )
        at = now()
        count, total = store.generate(conn, cycle_id, scope, at)
        if not store.move(
            conn,
            cycle_id,
            cycle.state,
            cycle.version,
            {
                "entitlements": count,
                "total_amount": total,
                "blocked": 0,
                "generated_at": at,
                "model_id": scope.model_id,
                "programme_snapshot": _snapshot(prog),
            },
        ):
            raise ConflictError(_MOVED)
        audit.record(
            conn,
            actor,
            AuditAction.CYCLE_GENERATE,
            "benefit_cycle",
            cycle_id,
            detail={
                "entitlements": count,
                "total_amount": total,
                "model_id": scope.model_id,
                "area": cycle.area_code,
                "programme_version": prog["version"],
            },
        )
    return {"entitlements": count, "total_amount": total, "model_id": scope.model_id}


def get_programme_row(conn: sa.Connection, programme_id: int) -> Programme:
    row = programme_store.get(conn, programme_id)
    if row is None:
        raise NotFound("Program tidak ditemukan")
    return row


def submit(db: Database, actor: Actor, cycle_id: int) -> None:
    """Send a generated draft for review."""
    with db.begin() as conn:
        cycle = _load(conn, cycle_id, lock=True)
        target = _step(conn, actor, cycle, CycleAction.SUBMIT)
        if cycle.generated_at is None:
            raise StateError("Susun daftar penerima dulu sebelum mengajukan siklus.")
        if not store.move(
            conn,
            cycle_id,
            cycle.state,
            cycle.version,
            {"state": target.value, "submitted_by": actor.username, "submitted_at": now()},
        ):
            raise ConflictError(_MOVED)
        audit.record(conn, actor, AuditAction.CYCLE_SUBMIT, "benefit_cycle", cycle_id)


@dataclass(frozen=True)
class ApprovalReview:
    """What the approver is asked to confirm: the list as submitted, what approval will block now (registry changes
    since submission) and what remains to be paid."""

    entitlements: int
    total_amount: int
    payable: int
    payable_amount: int
    blocked_by_reason: list[dict[str, Any]]
    blocked_lines: list[dict[str, Any]]


def _review(conn: sa.Connection, cycle: Cycle) -> ApprovalReview:
    by_reason, lines = payability.preview(conn, cycle.id)
    blocked, blocked_amount = (
        sum(int(b["count"]) for b in by_reason),
        sum(int(b["amount"]) for b in by_reason),
    )
    return ApprovalReview(
        int(cycle.entitlements),
        int(cycle.total_amount),
        int(cycle.entitlements) - blocked,
        int(cycle.total_amount) - blocked_amount,
        by_reason,
        lines,
    )


def approval_review(db: Database, actor: Actor, cycle_id: int) -> ApprovalReview:
    """The review shown before approval, to the admins who may approve."""
    with db.read() as conn:
        cycle = _load(conn, cycle_id)
        _require_visible(actor, cycle)
        check_actor(
            CycleAction.APPROVE,
            actor,
            created_by=cycle.created_by,
            submitted_by=cycle.submitted_by,
            cycle_area=cycle.area_code,
        )  # who may approve: role, area and maker-checker
        return _review(conn, cycle)


def approve(
    db: Database, actor: Actor, cycle_id: int, *, confirm: tuple[int, int] | None = None
) -> dict[str, Any]:
    """Approve (a different admin), block the unpayable, freeze the list and store its SHA-256.

    ``confirm``: the (recipients, total) the approver was shown (``approval_review``); when the list has changed
    since, nothing is approved and the approver is asked to look again."""
    with db.begin() as conn:
        cycle = _load(conn, cycle_id, lock=True)
        target = _step(conn, actor, cycle, CycleAction.APPROVE)
        if confirm is not None:
            now_review = _review(conn, cycle)
            if (now_review.payable, now_review.payable_amount) != tuple(confirm):
                raise StateError(
                    "Daftar penerima berubah sejak halaman dibuka (ada data yang baru diubah); "
                    "periksa lagi lalu setujui."
                )
        annual = budget_for(cycle.programme_snapshot, cycle.period_start.year)
        if annual is not None:
            spent = store.committed(conn, cycle.programme_id, cycle.period_start.year, excluding=cycle_id)
            if spent + int(cycle.total_amount) > int(annual):
                raise StateError(
                    "Total siklus melebihi sisa anggaran tahunan program; susun ulang dengan pagu yang lebih kecil."
                )
        at = now()
        blocked, sha = store.freeze(conn, cycle_id, at)
        if completion_of_cycle(cycle.programme_snapshot) is Completion.COVERAGE:
            store.move_entitlements(conn, cycle_id, EntitlementState.TERJADWAL, EntitlementState.AKTIF, at)
        if not store.move(
            conn,
            cycle_id,
            cycle.state,
            cycle.version,
            {
                "state": target.value,
                "approved_by": actor.username,
                "approved_at": at,
                "blocked": blocked,
                "snapshot_sha256": sha,
            },
        ):
            raise ConflictError(_MOVED)
        audit.record(
            conn,
            actor,
            AuditAction.CYCLE_APPROVE,
            "benefit_cycle",
            cycle_id,
            detail={
                "blocked": blocked,
                "snapshot_sha256": sha,
                "entitlements": cycle.entitlements,
                "total_amount": cycle.total_amount,
            },
        )
    return {"blocked": blocked, "snapshot_sha256": sha}


def return_to_draft(db: Database, actor: Actor, cycle_id: int, note: str = "") -> None:
    """Send a submitted cycle back to ``draf`` (with a note) for changes."""
    with db.begin() as conn:
        cycle = _load(conn, cycle_id, lock=True)
        target = _step(conn, actor, cycle, CycleAction.RETURN)
        if not store.move(
            conn,
            cycle_id,
            cycle.state,
            cycle.version,
            {"state": target.value, "submitted_by": None, "submitted_at": None},
        ):
            raise ConflictError(_MOVED)
        audit.record(
            conn, actor, AuditAction.CYCLE_RETURN, "benefit_cycle", cycle_id, detail={"note": note.strip()}
        )


def cancel(db: Database, actor: Actor, cycle_id: int, reason: str) -> None:
    """Cancel a cycle in ``draf`` or ``ditinjau``; the reason is required."""
    if len(reason.strip()) < 5:
        raise ValidationError(
            "Tulis alasan pembatalan.", [FieldError("reason", "Alasan pembatalan wajib diisi")]
        )
    with db.begin() as conn:
        cycle = _load(conn, cycle_id, lock=True)
        target = _step(conn, actor, cycle, CycleAction.CANCEL)
        if not store.move(
            conn,
            cycle_id,
            cycle.state,
            cycle.version,
            {"state": target.value, "cancel_reason": reason.strip()[:1000]},
        ):
            raise ConflictError(_MOVED)
        audit.record(
            conn,
            actor,
            AuditAction.CYCLE_CANCEL,
            "benefit_cycle",
            cycle_id,
            detail={"reason": reason.strip()},
        )


def coverage_ends(cycle: Cycle) -> date | None:
    """The last day a service cycle covers (``None`` for programmes that are not coverage)."""
    snapshot = cycle.programme_snapshot
    if completion_of_cycle(snapshot) is not Completion.COVERAGE:
        return None
    return cycle_coverage_end(cycle.period_start, cycle.period_end, snapshot.get("coverage_months"))


_NOT_FINISHED = {
    Completion.PAYMENT: "belum dibayar, dibatalkan atau diblokir",
    Completion.TRAINING: "kursi pelatihan belum lulus, tidak lulus, dibatalkan atau diblokir",
    Completion.COVERAGE: "belum selesai",
}


def close(db: Database, actor: Actor, cycle_id: int, *, today: date | None = None) -> None:
    """Close a cycle whose every entitlement is final (paid, completed, cancelled or blocked). A service cycle
    closes once its coverage has ended: its active coverages become ``selesai`` then."""
    today = today or local_today()
    with db.begin() as conn:
        cycle = _load(conn, cycle_id, lock=True)
        target = _step(conn, actor, cycle, CycleAction.CLOSE)
        at = now()
        ends = coverage_ends(cycle)
        if ends is not None:
            if today <= ends:
                raise StateError(
                    f"Jaminan siklus ini berlaku sampai {long_date(ends)}; siklus dapat ditutup "
                    "sesudah tanggal itu."
                )
            store.move_entitlements(conn, cycle_id, EntitlementState.AKTIF, EntitlementState.SELESAI, at)
        open_ = store.not_final(conn, cycle_id, FINAL_ENTITLEMENT_STATES)
        if open_:
            what = _NOT_FINISHED[completion_of_cycle(cycle.programme_snapshot)]
            raise StateError(f"Siklus belum dapat ditutup: {open_} hak bantuan belum selesai ({what}).")
        if not store.move(
            conn,
            cycle_id,
            cycle.state,
            cycle.version,
            {"state": target.value, "closed_by": actor.username, "closed_at": at},
        ):
            raise ConflictError(_MOVED)
        audit.record(conn, actor, AuditAction.CYCLE_CLOSE, "benefit_cycle", cycle_id)


def close_ended_coverage(db: Database, actor: Actor, *, today: date | None = None) -> list[int]:
    """Close every approved service cycle (inside the actor's area) whose coverage has ended; returns their ids.
    Run daily (``tepat siklus close-ended``, e.g. from cron): coverage ends by itself, and so do its cycles."""
    today = today or local_today()
    with db.read() as conn:
        ended = [
            c.id
            for c in store.list_cycles(conn)
            if c.state in (CycleState.DISETUJUI, CycleState.PEMBAYARAN)
            and actor.in_area(c.area_code)
            and (ends := coverage_ends(c)) is not None
            and ends < today
        ]
    for cycle_id in sorted(ended):
        close(db, actor, cycle_id, today=today)
    return sorted(ended)


# ----------------------------------------------------------------- reading


def list_cycles(db: Database, actor: Actor, code: str | None = None) -> list[Cycle]:
    """Cycles of the actor's office, newest first (aggregates only: any staff role)."""
    with db.read() as conn:
        ids = programme_store.ids_by_code(conn, db.offices.codes, code.strip().upper()) if code else None
        if ids == []:
            raise NotFound("Program tidak ditemukan")
        return [c for c in store.list_cycles(conn, ids) if actor.shares_area(c.area_code)]


def show(db: Database, actor: Actor, cycle_id: int) -> CycleView:
    """One cycle with its totals per state and per kelurahan in the actor's area."""
    with db.read() as conn:
        cycle = _load(conn, cycle_id)
        _require_visible(actor, cycle)
        states = store.counts(conn, cycle_id)
        rows = store.by_kelurahan(
            conn, cycle_id, family_store.in_area(actor.area_code, entitlements.c.kelurahan_code)
        )
    # Blocked now, counted from the rows: deaths reported after approval block more (the column keeps the approval's count).
    cycle = replace(cycle, blocked=states.get(EntitlementState.DIBLOKIR.value, 0))
    for r in rows:
        r["kelurahan_name"] = db.regions.name(r["kelurahan_code"])
        r["kecamatan_name"] = db.regions.name(r["kecamatan_code"])
    actions = allowed_actions(
        cycle.state,
        actor,
        created_by=cycle.created_by,
        submitted_by=cycle.submitted_by,
        cycle_area=cycle.area_code,
    )
    return CycleView(cycle, states, rows, actions)


def entitlement_page(
    db: Database, actor: Actor, cycle_id: int, *, offset: int = 0, limit: int = 50
) -> list[dict[str, Any]]:
    """A page of the cycle's entitlements by name, in the actor's area (personal-data roles only; audited)."""
    if not actor.sees_personal_data:
        raise PermissionDenied("Daftar nama penerima hanya untuk peran yang boleh membaca data pribadi.")
    with db.read() as conn:
        _require_visible(actor, _load(conn, cycle_id))
        rows = store.page(
            conn,
            cycle_id,
            family_store.in_area(actor.area_code, entitlements.c.kelurahan_code),
            max(offset, 0),
            min(max(limit, 0), 500),
        )
    with db.begin() as conn:
        audit.record(
            conn,
            actor,
            AuditAction.ENTITLEMENT_LIST,
            "entitlements",
            cycle_id,
            area_code=actor.area_code,
            detail={"offset": offset, "rows": len(rows)},
        )
    return rows


def verify_snapshot(db: Database, actor: Actor, cycle_id: int) -> bool:
    """Whether the frozen list still hashes to the SHA-256 stored at approval."""
    with db.read() as conn:
        cycle = _load(conn, cycle_id)
        _require_visible(actor, cycle)
        if cycle.snapshot_sha256 is None:
            raise StateError("Siklus ini belum disetujui, jadi belum dibekukan.")
        return bool(store.snapshot_digest(conn, cycle_id) == cycle.snapshot_sha256)
