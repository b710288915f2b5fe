"""Reconciliation: planned vs paid vs failed vs returned, per batch or cycle and per kelurahan, and every mismatch.

Keuangan and Admin Dinsos see the mismatching rows themselves (reference, NIK,
amounts), and each such read is audited. Analysts see the same aggregates —
counts and sums per kelurahan, mismatches counted by kind — and never a row,
a reference or a NIK. Everything is restricted to the actor's area.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tepat.domain.access import Actor, Permission
from tepat.domain.audit_actions import AuditAction
from tepat.domain.payments import Batch, Outcome, PaymentState
from tepat.errors import NotFound, PermissionDenied, ValidationError
from tepat.services.payments import batch_area
from tepat.store import audit
from tepat.store import payments as payment_store
from tepat.store import reconciliation as store
from tepat.store.database import Database

_FIGURES = ("planned",) + tuple(s.value for s in PaymentState)


@dataclass(frozen=True)
class Reconciliation:
    """The figures of one batch or one cycle; ``mismatches`` is empty for analysts (they get ``mismatch_counts``)."""

    scope: str  # batch | siklus
    scope_id: int
    title: str
    rows: list[dict[str, Any]]
    total: dict[str, int]
    mismatch_counts: dict[str, int]
    mismatches: list[dict[str, Any]] = field(default_factory=list)
    entitlements: dict[str, Any] | None = None
    personal: bool = False
    paid_when_gone: list[dict[str, Any]] = field(default_factory=list)
    """Lines paid although the recipient had died or been made inactive by the settlement date (staff only)."""

    @property
    def outstanding(self) -> int:
        return self.total.get("dikirim_count", 0)

    @property
    def balanced(self) -> bool:
        """Every line settled, the states add up to the plan, no mismatch, no entitlement paid twice."""
        parts = sum(self.total.get(f"{s.value}_count", 0) for s in PaymentState)
        sums = sum(self.total.get(f"{s.value}_sum", 0) for s in PaymentState)
        twice = (self.entitlements or {}).get("paid_twice", 0)
        return (
            self.outstanding == 0
            and parts == self.total.get("planned_count", 0)
            and sums == self.total.get("planned_sum", 0)
            and not any(self.mismatch_counts.values())
            and twice == 0
            and not self.paid_when_gone
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "lingkup": self.scope,
            "id": self.scope_id,
            "judul": self.title,
            "per_kelurahan": self.rows,
            "total": self.total,
            "selisih_per_jenis": self.mismatch_counts,
            "selisih": self.mismatches,
            "hak": self.entitlements,
            "dibayar_setelah_meninggal_atau_nonaktif": self.paid_when_gone,
            "seimbang": self.balanced,
        }


def reconcile(
    db: Database, actor: Actor, *, batch_id: int | None = None, cycle_id: int | None = None
) -> Reconciliation:
    """Reconcile one batch or one whole cycle (all its batches)."""
    if (batch_id is None) == (cycle_id is None):
        raise ValidationError("Pilih satu batch atau satu siklus.")
    if not actor.may(Permission.READ_PAYMENTS):
        raise PermissionDenied("Rekonsiliasi hanya untuk Keuangan, Admin Dinsos dan Analis.")
    personal = actor.may(Permission.READ_PERSONAL)
    batch: Batch | None = None
    with db.read() as conn:
        if batch_id is not None:
            batch = payment_store.batch(conn, batch_id)
            # A kelurahan's batch for those over it; a whole office's for anyone working inside that office.
            if batch is None or not actor.shares_area(batch_area(db, batch)):
                raise NotFound("Batch pembayaran tidak ditemukan.")
            office_code = db.offices.for_area(batch.cycle_area_code).code
            title = f"Batch {batch.number}"
        else:
            cycle = payment_store.cycle(conn, cycle_id or 0)
            if cycle is None or not actor.shares_area(cycle["area_code"]):
                raise NotFound("Siklus tidak ditemukan.")
            office_code = db.offices.for_area(cycle["area_code"]).code
            title = f"Siklus {cycle['name']}"
        rows = [
            r
            for r in store.by_kelurahan(conn, batch_id=batch_id, cycle_id=cycle_id)
            if actor.in_area(r["kelurahan_code"])
        ]
        counts: dict[str, int] = {o.value: 0 for o in Outcome if o.value in _MISMATCH_KEYS}
        for c in store.mismatch_counts(conn, batch_id=batch_id, cycle_id=cycle_id):
            if _visible(actor, c["kelurahan_code"], office_code):
                counts[c["outcome"]] = counts.get(c["outcome"], 0) + int(c["rows"])
        mismatches, gone = [], []
        if personal:
            mismatches = [
                m
                for m in store.mismatches(conn, batch_id=batch_id, cycle_id=cycle_id)
                if _visible(actor, m["kelurahan_code"], office_code)
            ]
            gone = [
                g
                for g in store.paid_when_gone(conn, batch_id=batch_id, cycle_id=cycle_id)
                if actor.in_area(g["kelurahan_code"])
            ]
        ents = store.entitlement_summary(conn, cycle_id) if cycle_id is not None else None
    if (
        not rows
        and not any(counts.values())
        and batch is not None
        and not actor.in_area(batch_area(db, batch))
    ):
        raise NotFound("Batch pembayaran tidak ditemukan.")
    total = {key: sum(r[key] for r in rows) for key in _total_keys()}
    if mismatches or gone:
        with db.begin() as conn:
            audit.record(
                conn,
                actor,
                AuditAction.RECONCILIATION_READ_MISMATCHES,
                "payment_batch" if batch_id else "benefit_cycle",
                batch_id or cycle_id,
                area_code=actor.area_code,
                detail={"baris": len(mismatches), "dibayar_setelah_tiada": len(gone)},
            )
    return Reconciliation(
        "batch" if batch_id else "siklus",
        int(batch_id or cycle_id or 0),
        title,
        rows,
        total,
        counts,
        mismatches,
        ents,
        personal,
        gone,
    )


_MISMATCH_KEYS = {
    Outcome.TIDAK_COCOK.value,
    Outcome.TIDAK_DIKENAL.value,
    Outcome.GANDA.value,
    Outcome.KONFLIK.value,
}


def _visible(actor: Actor, kelurahan_code: str | None, office_code: str) -> bool:
    """A mismatch on one of our lines belongs to its kelurahan; an unknown reference only to office-wide staff."""
    return actor.in_area(kelurahan_code or office_code)


def _total_keys() -> list[str]:
    return [f"{name}_{kind}" for name in _FIGURES for kind in ("count", "sum")]
