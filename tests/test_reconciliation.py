"""Reconciliation per batch, cycle and kelurahan: planned vs paid vs failed vs returned, and every mismatch."""

from __future__ import annotations

from pathlib import Path

import pytest

from tepat.domain.access import Role
from tepat.errors import NotFound, PermissionDenied, ValidationError
from tepat.services import payments, reconciliation
from tepat.store import audit
from tepat.store.database import Database
from tests.conftest import actor
from tests.payment_support import (
    FINANCE,
    KELURAHAN,
    OTHER_KELURAHAN,
    exported_batch,
    paying_cycle,
    result_file,
)


@pytest.fixture
def settled(db: Database, admin, tmp_path: Path):
    """3 families in KELURAHAN, 2 in OTHER_KELURAHAN; paid, failed, returned, cancelled-then-paid, and bank errors."""
    cycle = paying_cycle(db, admin, here=3, there=2)
    batch_id, rows = exported_batch(db, tmp_path, cycle)
    by_kel: dict[str, list[list[str]]] = {}
    for r in rows:
        by_kel.setdefault(r[1][:6], []).append(r)
    here, there = rows[:3], rows[3:]
    payments.import_results(
        db,
        FINANCE,
        batch_id,
        result_file(
            tmp_path,
            [
                (here[0][0], here[0][1], 250_000, "SUKSES"),
                (here[1][0], here[1][1], 250_000, "GAGAL", "Rekening pasif"),
                (here[2][0], here[2][1], 250_000, "SUKSES"),
                (there[0][0], there[0][1], 250_000, "SUKSES"),
                (there[1][0], "3275019999990001", 250_000, "SUKSES"),  # NIK differs: not applied
                ("P404-4", "", 100_000, "SUKSES"),  # unknown reference
                (here[0][0], here[0][1], 250_000, "SUKSES"),  # duplicate row
            ],
        ),
    )
    payments.import_results(
        db,
        FINANCE,
        batch_id,
        result_file(
            tmp_path, [(here[2][0], here[2][1], 250_000, "RETUR", "Penerima meninggal")], name="retur.csv"
        ),
    )
    return cycle, batch_id, here, there


def test_batch_per_kelurahan_figures(db: Database, settled) -> None:
    _cycle, batch_id, here, there = settled
    report = reconciliation.reconcile(db, FINANCE, batch_id=batch_id)
    rows = {r["kelurahan_code"]: r for r in report.rows}
    assert rows[KELURAHAN]["planned_count"] == 3 and rows[KELURAHAN]["planned_sum"] == 750_000
    assert (
        rows[KELURAHAN]["dibayar_count"],
        rows[KELURAHAN]["gagal_count"],
        rows[KELURAHAN]["dikembalikan_count"],
    ) == (1, 1, 1)
    assert (rows[OTHER_KELURAHAN]["dibayar_count"], rows[OTHER_KELURAHAN]["dikirim_count"]) == (1, 1)
    assert rows[KELURAHAN]["kelurahan_name"] == "Bekasijaya"
    assert report.total["planned_sum"] == 1_250_000 and report.total["dibayar_sum"] == 500_000
    assert report.outstanding == 1 and not report.balanced
    assert report.mismatch_counts == {"tidak_cocok": 1, "tidak_dikenal": 1, "ganda": 1, "konflik": 0}
    kinds = {(m["outcome"], m["reference"]) for m in report.mismatches}
    assert kinds == {("tidak_cocok", there[1][0]), ("tidak_dikenal", "P404-4"), ("ganda", here[0][0])}
    nik_row = next(m for m in report.mismatches if m["outcome"] == "tidak_cocok")
    assert nik_row["bank_nik"] == "3275019999990001" and nik_row["our_nik"] == there[1][1]


def test_paid_by_the_bank_but_cancelled_with_us_is_flagged(db: Database, admin, tmp_path: Path) -> None:
    cycle = paying_cycle(db, admin, here=1, there=0)
    batch_id, rows = exported_batch(db, tmp_path, cycle)
    payments.cancel_batch(db, FINANCE, batch_id, "Salah kanal pembayaran")
    retry_id, _ = exported_batch(db, tmp_path, cycle, retry=True)
    # The bank still pays the first (cancelled) line: a conflict in the first batch, never applied.
    payments.import_results(
        db, FINANCE, batch_id, result_file(tmp_path, [(rows[0][0], rows[0][1], 250_000, "SUKSES")])
    )
    report = reconciliation.reconcile(db, FINANCE, batch_id=batch_id)
    assert report.mismatch_counts["konflik"] == 1
    assert report.mismatches[0]["detail"] == "status kami dibatalkan, berkas dibayar"
    assert report.total["dibatalkan_count"] == 1 and report.total["dibayar_count"] == 0
    # Imported into the retry batch by mistake, the old reference is unknown there.
    summary = payments.import_results(
        db,
        FINANCE,
        retry_id,
        result_file(tmp_path, [(rows[0][0], rows[0][1], 250_000, "SUKSES")], name="salah.csv"),
    )
    assert summary.by_outcome == {"tidak_dikenal": 1}


def test_cycle_reconciliation_counts_entitlements_and_never_pays_twice(db: Database, settled) -> None:
    cycle, *_ = settled
    report = reconciliation.reconcile(db, FINANCE, cycle_id=cycle)
    assert report.entitlements == {
        "by_state": {
            "dibayar": {"count": 2, "sum": 500_000},
            "gagal": {"count": 2, "sum": 500_000},
            "diproses": {"count": 1, "sum": 250_000},
        },
        "paid_twice": 0,
        "paid_without_line": 0,
    }
    assert report.title.startswith("Siklus")


def test_analyst_sees_aggregates_only_and_staff_reads_are_audited(db: Database, settled) -> None:
    _cycle, batch_id, *_ = settled
    analyst = reconciliation.reconcile(db, actor(Role.ANALYST, "32.75"), batch_id=batch_id)
    assert analyst.mismatches == [] and analyst.mismatch_counts["tidak_cocok"] == 1 and not analyst.personal
    assert analyst.total["planned_count"] == 5
    with db.read() as conn:
        actions = [e["action"] for e in audit.entries(conn, entity="payment_batch")]
    assert "reconciliation.read_mismatches" not in actions
    reconciliation.reconcile(db, FINANCE, batch_id=batch_id)
    with db.read() as conn:
        assert audit.entries(conn, entity="payment_batch")[0]["action"] == "reconciliation.read_mismatches"


def test_area_limits_the_rows(db: Database, settled) -> None:
    _cycle, batch_id, *_ = settled
    local = reconciliation.reconcile(db, actor(Role.FINANCE, "32.75.01"), batch_id=batch_id)
    assert [r["kelurahan_code"] for r in local.rows] == [KELURAHAN]
    assert {m["outcome"] for m in local.mismatches} == {
        "ganda"
    }  # not the other kelurahan's, not the unknown one
    with pytest.raises(PermissionDenied):
        reconciliation.reconcile(db, actor(Role.OPERATOR, "32.75"), batch_id=batch_id)
    with pytest.raises(ValidationError):
        reconciliation.reconcile(db, FINANCE)
    with pytest.raises(NotFound):
        reconciliation.reconcile(db, FINANCE, batch_id=9999)
