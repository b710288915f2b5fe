"""Payment batches: create from a frozen cycle, export the file, import the bank's result exactly once, cancel.

Exactly once is enforced in three layers (docs/payments.md):

1. the database: the partial unique index ``uq_payments_live_entitlement`` — an
   entitlement has at most one line that is ``dikirim`` or ``dibayar`` (the index
   reads ``payments.live``, which the database derives from ``state``) — and
   ``uq_payment_result_lines_paid_once``: at most one applied payment not returned
   since, per entitlement, in the ledger;
2. every move is guarded: set-based statements ``WHERE`` the state now is one the
   domain allows, so a row already moved is not moved again;
3. a result import holds the batch lock for its whole transaction (``SELECT … FOR
   UPDATE`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite), judges the file's rows
   against our lines as they are now and writes them, judged, into the ledger —
   its only bulk write: states are read from it (``tepat.store.payment_states``) —
   and commits once: a second import of the same file (same SHA-256 for the same
   batch) finds the first one and changes nothing; two imports at once run one
   after the other; a process killed halfway leaves nothing behind, and the rerun
   starts from scratch.

Keuangan and Admin Dinsos act inside their area; a batch's area is its kelurahan,
or the whole city when it has none.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError

from tepat.domain.access import Actor, Permission
from tepat.domain.audit_actions import AuditAction
from tepat.domain.cycles import CycleState
from tepat.domain.entitlements import (
    PAYABLE,
    RETRYABLE,
    Completion,
    EntitlementState,
    check_cancel_reason,
    completion_of_cycle,
)
from tepat.domain.payments import (
    CANCELLABLE_BATCH,
    IMPORTABLE_BATCH,
    MISMATCH_OUTCOMES,
    Batch,
    BatchState,
    Channel,
    Outcome,
    PaymentState,
    ResultImportStatus,
    checksum,
)
from tepat.errors import ConflictError, FieldError, NotFound, StateError, ValidationError
from tepat.files import payment_files
from tepat.store import audit
from tepat.store import payment_results as results
from tepat.store import payments as store
from tepat.store.bulk import refresh_statistics
from tepat.store.database import Database
from tepat.store.engine import now
from tepat.store.payability import block_unpayable

PAYING_CYCLE_STATES = frozenset({CycleState.DISETUJUI.value, CycleState.PEMBAYARAN.value})


@dataclass(frozen=True)
class ImportSummary:
    """What one result import did (or found already done)."""

    import_id: int
    batch_id: int
    file_sha256: str
    rows: int
    by_outcome: dict[str, int]
    already_imported: bool
    batch_state: str
    mismatches: list[dict[str, Any]] = field(default_factory=list)

    @property
    def applied(self) -> int:
        return self.by_outcome.get(Outcome.DITERAPKAN.value, 0)

    @property
    def mismatch_count(self) -> int:
        return sum(v for k, v in self.by_outcome.items() if k in MISMATCH_OUTCOMES)

    def as_dict(self) -> dict[str, Any]:
        return {
            "impor": self.import_id,
            "batch": self.batch_id,
            "sha256": self.file_sha256,
            "baris": self.rows,
            "hasil": self.by_outcome,
            "sudah_diimpor": self.already_imported,
            "status_batch": self.batch_state,
        }


def batch_area(db: Database, batch: Batch) -> str:
    """A batch's area: its kelurahan, or the whole office of its cycle when it covers the whole cycle."""
    return batch.kelurahan_code or db.offices.for_area(batch.cycle_area_code).code


def require_money_role(actor: Actor, area: str) -> None:
    """Keuangan or Admin Dinsos, inside ``area``."""
    actor.require(Permission.MANAGE_MONEY, area)


def _batch_for(db: Database, conn: Any, actor: Actor, batch_id: int, *, lock: bool = False) -> Batch:
    row = store.lock_batch(conn, batch_id) if lock else store.batch(conn, batch_id)
    if row is None or not actor.in_area(batch_area(db, row)):
        raise NotFound("Batch pembayaran tidak ditemukan.")
    return row


_NOT_PAID = {
    Completion.COVERAGE: "Program layanan (jaminan kesehatan) tidak dibayar melalui bank: jaminan berlaku sejak siklus "
    "disetujui dan berakhir sendiri; tutup siklus sesudah jaminan berakhir.",
    Completion.TRAINING: "Program pelatihan tidak dibayar melalui bank: catat pendaftaran, kehadiran dan kelulusan "
    "peserta di halaman pelatihan siklus; siklus ditutup setelah semua kursi selesai.",
}


def create_batch(
    db: Database,
    actor: Actor,
    cycle_id: int,
    channel: str,
    *,
    kelurahan_code: str | None = None,
    retry: bool = False,
) -> Batch:
    """A batch of every payable entitlement of the cycle (and the failed ones when ``retry``), in one transaction."""
    try:
        chosen = Channel(channel)
    except ValueError:
        raise ValidationError(
            "Kanal pembayaran tidak dikenal", [FieldError("kanal", "Pilih bank, pos atau voucher", channel)]
        ) from None
    kelurahan_code = (kelurahan_code or "").strip() or None
    if kelurahan_code and db.regions.get(kelurahan_code) is None:
        raise ValidationError(
            "Kelurahan tidak dikenal",
            [FieldError("kelurahan", "Kode kelurahan tidak dikenal", kelurahan_code)],
        )
    actor.require(Permission.MANAGE_MONEY)
    sources = PAYABLE | RETRYABLE if retry else PAYABLE
    at = now()
    with db.begin() as conn:
        cycle = store.lock_cycle(conn, cycle_id)
        if cycle is None:
            raise NotFound("Siklus tidak ditemukan.")
        area = kelurahan_code or db.offices.for_area(cycle["area_code"]).code
        require_money_role(actor, area)
        if cycle["state"] not in PAYING_CYCLE_STATES:
            raise StateError(
                f"Siklus berstatus '{cycle['state']}': batch pembayaran hanya untuk siklus yang disetujui."
            )
        completion = completion_of_cycle(cycle["programme_snapshot"])
        if completion is not Completion.PAYMENT:
            raise StateError(_NOT_PAID[completion])
        sequence = store.count_batches(conn, cycle_id) + 1
        number = f"BYR-{cycle_id:05d}-{sequence:03d}"
        batch_id = store.insert_batch(
            conn,
            {
                "cycle_id": cycle_id,
                "number": number,
                "channel": chosen.value,
                "kelurahan_code": kelurahan_code,
                "state": BatchState.DIBUAT.value,
                "control_count": 0,
                "control_total": 0,
                "version": 1,
                "created_by": actor.username,
                "created_at": at,
            },
        )
        store.tune_for_whole_batches(conn)
        if retry:
            store.fold_failed_results(conn, cycle_id, at)
        rechecked = block_unpayable(
            conn, at, cycle_id=cycle_id, states=[s.value for s in sources]
        )  # belt and braces
        lines = store.insert_lines(conn, batch_id, cycle_id, sources, kelurahan_code, at)
        if lines == 0:
            raise StateError(
                "Tidak ada hak yang siap dibayar untuk pilihan ini"
                + (" (termasuk yang gagal)." if retry else " (pakai --retry untuk yang gagal).")
            )
        refresh_statistics(conn, "payments")
        moved = store.entitlements_to_processing(conn, batch_id, at)
        if moved != lines:  # someone changed an entitlement between our two statements: start again
            raise ConflictError("Data hak berubah saat batch dibuat. Silakan ulangi.")
        count, total = store.line_totals(conn, batch_id)
        store.update_batch(conn, batch_id, control_count=count, control_total=total)
        store.set_cycle_paying(conn, cycle_id)
        audit.record(
            conn,
            actor,
            AuditAction.PAYMENT_BATCH_CREATE,
            "payment_batch",
            batch_id,
            area_code=area,
            detail={
                "siklus": cycle_id,
                "kanal": chosen.value,
                "baris": count,
                "total": total,
                "ulang": retry,
                "diblokir": rechecked,
            },
        )
        made = store.batch(conn, batch_id)
        assert made is not None  # inserted above, in this transaction
        return made


def export_batch(
    db: Database, actor: Actor, batch_id: int, out: Path, *, file_name: str | None = None
) -> payment_files.WrittenFile:
    """Write the payment file (same bytes every time) and record its name and SHA-256 on the batch."""
    name = file_name or out.name
    with db.begin() as conn:
        batch = _batch_for(db, conn, actor, batch_id, lock=True)
        require_money_role(actor, batch_area(db, batch))
        if batch.state == BatchState.DIBATALKAN.value:
            raise StateError("Batch sudah dibatalkan: berkasnya tidak boleh diekspor.")
        rows = store.export_rows(conn, batch_id, Channel(batch.channel))
        written = payment_files.write_payment_file(out, Channel(batch.channel), batch.number, rows)
        if (written.rows, written.total) != (batch.control_count, batch.control_total):
            out.unlink(missing_ok=True)
            raise ConflictError("Isi berkas tidak sama dengan total kontrol batch. Berkas tidak dibuat.")
        values: dict[str, Any] = {"file_name": name[:255], "file_sha256": written.file_sha256}
        if batch.state == BatchState.DIBUAT.value:
            values.update(state=BatchState.DIEKSPOR.value, exported_by=actor.username, exported_at=now())
        store.update_batch(conn, batch_id, **values)
        audit.record(
            conn,
            actor,
            AuditAction.PAYMENT_BATCH_EXPORT,
            "payment_batch",
            batch_id,
            area_code=batch_area(db, batch),
            detail={"berkas": name, "sha256": written.file_sha256, "baris": written.rows},
        )
    return written


def import_results(
    db: Database, actor: Actor, batch_id: int, path: Path, *, file_name: str | None = None
) -> ImportSummary:
    """Apply a result file to the batch exactly once (see the module docstring)."""
    name = file_name or path.name
    data = path.read_bytes()  # read and hashed once: a quarter of a million rows is a dozen megabytes
    sha256 = checksum(data)
    with db.read() as conn:
        batch = _batch_for(db, conn, actor, batch_id)
        require_money_role(actor, batch_area(db, batch))
        earlier = results.finished_import(
            conn, batch_id, sha256
        )  # an imported file is known before it is parsed
        if earlier is not None:
            return ImportSummary(
                earlier["id"],
                batch_id,
                earlier["file_sha256"],
                earlier["rows"],
                results.outcome_counts(conn, earlier["id"]),
                True,
                batch.state,
            )
    try:
        result = payment_files.read_result_file(
            data, name=name, file_sha256=sha256, batch_number=batch.number, channel=batch.channel
        )
    except ValidationError as exc:
        _record_rejection(db, actor, batch, name, sha256, exc.message)
        raise
    at = now()
    with db.begin() as conn:
        batch = _batch_for(db, conn, actor, batch_id, lock=True)
        earlier = results.finished_import(conn, batch_id, result.file_sha256)
        if earlier is not None:
            return ImportSummary(
                earlier["id"],
                batch_id,
                result.file_sha256,
                earlier["rows"],
                results.outcome_counts(conn, earlier["id"]),
                True,
                batch.state,
            )
        if batch.state not in {s.value for s in IMPORTABLE_BATCH}:
            raise StateError("Hasil hanya dapat diimpor untuk batch yang berkasnya sudah diekspor.")
        import_id = results.insert_import(
            conn,
            {
                "batch_id": batch_id,
                "file_name": name[:255],
                "file_sha256": result.file_sha256,
                "status": "berjalan",
                "rows": result.rows,
                "control_count": result.declared.rows if result.declared else None,
                "control_total": result.declared.total if result.declared else None,
                "actor": actor.username,
                "started_at": at,
            },
        )
        store.tune_for_whole_batches(conn)
        try:
            staged = results.stage_rows(conn, import_id, batch_id, result.frame)
        except IntegrityError:  # uq_payment_result_lines_paid_once: the ledger refuses a second payment
            raise ConflictError(
                "Berkas ini akan mencatat pembayaran kedua untuk hak yang sudah dibayar. Tidak ada yang "
                "diterapkan; periksa batch dan berkas dengan bank."
            ) from None
        counts, moved = staged.by_outcome, staged.by_outcome.get(Outcome.DITERAPKAN.value, 0)
        after_staging(conn, import_id)
        store.replace_totals(conn, batch_id, staged.totals)
        state: str = batch.state
        if state == BatchState.DIEKSPOR.value and staged.lines_in(PaymentState.DIKIRIM) == 0:
            state = BatchState.SELESAI.value
            store.update_batch(conn, batch_id, state=state, closed_at=at)
        mismatched = sum(v for k, v in counts.items() if k in MISMATCH_OUTCOMES)
        results.finish_import(
            conn,
            import_id,
            status=ResultImportStatus.SELESAI.value,
            applied=moved,
            mismatches=mismatched,
            already_applied=counts.get(Outcome.SUDAH.value, 0),
            finished_at=now(),
        )
        audit.record(
            conn,
            actor,
            AuditAction.PAYMENT_BATCH_IMPORT_RESULT,
            "payment_batch",
            batch_id,
            area_code=batch_area(db, batch),
            detail={"impor": import_id, "berkas": name, "sha256": result.file_sha256, "hasil": counts},
        )
    return ImportSummary(import_id, batch_id, result.file_sha256, result.rows, counts, False, state)


def after_staging(conn: Any, import_id: int) -> None:
    """A seam between staging and applying (tests stop a process here to prove a killed import leaves nothing)."""


def printable(text: str) -> str:
    """``text`` without control characters (a NUL byte cannot be stored in PostgreSQL text, and none belongs in a
    message a person reads)."""
    return "".join(ch if ch.isprintable() or ch in "\n\t" else "\ufffd" for ch in text)


def _record_rejection(db: Database, actor: Actor, batch: Batch, name: str, sha256: str, message: str) -> None:
    with db.begin() as conn:
        import_id = results.insert_import(
            conn,
            {
                "batch_id": batch.id,
                "file_name": printable(name)[:255],
                "file_sha256": sha256,
                "status": ResultImportStatus.DITOLAK.value,
                "message": printable(message)[:1000],
                "actor": actor.username,
                "started_at": now(),
                "finished_at": now(),
            },
        )
        audit.record(
            conn,
            actor,
            AuditAction.PAYMENT_BATCH_REFUSE_RESULT,
            "payment_batch",
            batch.id,
            area_code=batch_area(db, batch),
            detail={"impor": import_id, "berkas": printable(name), "pesan": printable(message)},
        )


def cancel_batch(db: Database, actor: Actor, batch_id: int, reason: str) -> dict[str, int]:
    """Cancel a batch not yet settled: its lines still on their way are cancelled, their entitlements become retryable."""
    text = check_cancel_reason(reason)
    at = now()
    with db.begin() as conn:
        batch = _batch_for(db, conn, actor, batch_id, lock=True)
        require_money_role(actor, batch_area(db, batch))
        if batch.state not in {s.value for s in CANCELLABLE_BATCH}:
            raise StateError(f"Batch berstatus '{batch.state.label}' tidak dapat dibatalkan.")
        lines, ents = store.cancel_lines(conn, batch_id, text, at)
        if lines != ents:
            raise ConflictError("Status hak tidak sesuai dengan baris batch. Tidak ada yang dibatalkan.")
        store.update_batch(
            conn, batch_id, state=BatchState.DIBATALKAN.value, cancel_reason=text, closed_at=at
        )
        audit.record(
            conn,
            actor,
            AuditAction.PAYMENT_BATCH_CANCEL,
            "payment_batch",
            batch_id,
            area_code=batch_area(db, batch),
            detail={"alasan": text, "baris": lines},
        )
    return {"baris_dibatalkan": lines, "hak_dapat_diulang": ents}


def cancel_entitlement(db: Database, actor: Actor, entitlement_id: int, reason: str) -> None:
    """End one entitlement that is not on its way (``terjadwal`` or ``gagal``) with a reason."""
    text = check_cancel_reason(reason)
    with db.begin() as conn:
        row = store.entitlement(conn, entitlement_id)
        if row is None or not actor.in_area(row["kelurahan_code"]):
            raise NotFound("Hak tidak ditemukan.")
        require_money_role(actor, row["kelurahan_code"])
        if store.cancel_entitlement(conn, entitlement_id, text, now()) != 1:
            state = EntitlementState(row["state"])
            raise StateError(
                f"Hak berstatus '{state.label}' tidak dapat dibatalkan (hanya yang terjadwal atau gagal)."
            )
        audit.record(
            conn,
            actor,
            AuditAction.ENTITLEMENT_CANCEL,
            "entitlement",
            entitlement_id,
            area_code=row["kelurahan_code"],
            detail={"alasan": text, "status_sebelumnya": row["state"]},
        )


def list_batches(db: Database, actor: Actor, cycle_id: int | None = None) -> list[Batch]:
    """Batches in the actor's area (counts and sums only: no names)."""
    with db.read() as conn:
        rows = store.batches(conn, cycle_id)
    return [r for r in rows if actor.in_area(batch_area(db, r))]


@dataclass(frozen=True)
class BatchDetail:
    """A batch with its cycle, result imports, lines per state and the lines that failed or came back."""

    batch: Batch
    cycle: dict[str, Any]
    imports: list[dict[str, Any]]
    states: dict[str, int]
    failed: list[dict[str, Any]]

    def as_json(self) -> dict[str, Any]:
        return {
            **self.batch.as_json(),
            "siklus_nama": self.cycle.get("name"),
            "program": self.cycle.get("programme_code"),
            "impor": self.imports,
            "per_status": self.states,
            "gagal": self.failed,
        }


def get_batch(db: Database, actor: Actor, batch_id: int) -> BatchDetail:
    """A batch with its cycle, imports, line counts and the lines that failed or came back (by name: audited)."""
    with db.read() as conn:
        batch = _batch_for(db, conn, actor, batch_id)
        require_money_role(actor, batch_area(db, batch))
        detail = BatchDetail(
            batch,
            store.cycle(conn, batch.cycle_id) or {},
            results.imports(conn, batch_id),
            store.state_counts(conn, batch_id),
            [
                r
                for r in store.lines(conn, batch_id, (PaymentState.GAGAL, PaymentState.DIKEMBALIKAN))
                if actor.in_area(r["kelurahan_code"])
            ],
        )
    if detail.failed:
        with db.begin() as conn:
            audit.record(
                conn,
                actor,
                AuditAction.PAYMENT_BATCH_READ_FAILURES,
                "payment_batch",
                batch_id,
                area_code=batch_area(db, batch),
                detail={"baris": len(detail.failed)},
            )
    return detail


def import_mismatches(db: Database, actor: Actor, batch_id: int, import_id: int) -> list[dict[str, Any]]:
    """The rows of one import that were not applied (shown after an upload; NIKs: audited)."""
    with db.read() as conn:
        batch = _batch_for(db, conn, actor, batch_id)
        require_money_role(actor, batch_area(db, batch))
        if all(i["id"] != import_id for i in results.imports(conn, batch_id)):
            raise NotFound("Impor tidak ditemukan.")
        rows = results.import_mismatches(conn, import_id)
    if rows:
        with db.begin() as conn:
            audit.record(
                conn,
                actor,
                AuditAction.RECONCILIATION_READ_MISMATCHES,
                "payment_batch",
                batch_id,
                area_code=batch_area(db, batch),
                detail={"impor": import_id, "baris": len(rows)},
            )
    return rows


def payable_cycles(db: Database, actor: Actor) -> list[dict[str, Any]]:
    """Cycles of the actor's office a batch may be made for (approved or paying)."""
    with db.read() as conn:
        return [
            c for c in store.cycles_in_states(conn, PAYING_CYCLE_STATES) if actor.shares_area(c["area_code"])
        ]
