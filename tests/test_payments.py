"""Payment batches, files and result imports through the service, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa

from tepat.domain.access import Role
from tepat.errors import ImportRejected, NotFound, PermissionDenied, StateError, ValidationError
from tepat.services import payments
from tepat.store import audit
from tepat.store.database import Database
from tepat.store.payment_states import (
    entitlement_state,
    line_bank_reference,
    line_failure_reason,
    line_settled_on,
    line_state,
)
from tepat.store.schema import benefit_cycles, entitlements, payment_batches, payment_result_imports
from tepat.store.schema import payments as lines_t
from tests.conftest import actor
from tests.payment_support import FINANCE, KELURAHAN, all_paid, exported_batch, paying_cycle, result_file


def states(db: Database, cycle_id: int) -> Counter[str]:
    with db.read() as conn:
        return Counter(
            r[0]
            for r in conn.execute(
                sa.select(entitlement_state(entitlements.c)).where(entitlements.c.cycle_id == cycle_id)
            )
        )


def line_states(db: Database, batch_id: int) -> dict[str, str]:
    with db.read() as conn:
        return dict(
            conn.execute(
                sa.select(lines_t.c.reference, line_state(lines_t.c)).where(lines_t.c.batch_id == batch_id)
            ).all()
        )


def test_batch_takes_every_scheduled_entitlement_in_one_go(db: Database, admin) -> None:
    cycle = paying_cycle(db, admin, here=3, there=1)
    batch = payments.create_batch(db, FINANCE, cycle, "bank")
    assert (batch.control_count, batch.control_total, batch.state) == (4, 1_000_000, "dibuat")
    assert batch.number == f"BYR-{cycle:05d}-001"
    assert states(db, cycle) == {"diproses": 4}
    with db.read() as conn:
        assert (
            conn.execute(sa.select(benefit_cycles.c.state).where(benefit_cycles.c.id == cycle)).scalar_one()
            == "pembayaran"
        )
        attempts = conn.execute(sa.select(lines_t.c.attempt, lines_t.c.state)).all()
    assert set(attempts) == {(1, "dikirim")}
    with db.read() as conn:
        assert audit.entries(conn, entity="payment_batch")[0]["action"] == "payment_batch.create"
    with pytest.raises(StateError, match="Tidak ada hak yang siap dibayar"):
        payments.create_batch(db, FINANCE, cycle, "bank")


def test_batch_per_kelurahan_and_only_for_approved_cycles(db: Database, admin) -> None:
    cycle = paying_cycle(db, admin, here=2, there=2)
    batch = payments.create_batch(db, FINANCE, cycle, "pos", kelurahan_code=KELURAHAN)
    assert batch.control_count == 2 and batch.kelurahan_code == KELURAHAN
    assert states(db, cycle) == {"diproses": 2, "terjadwal": 2}
    from tests.programme_data import approved_cycle, insert_programme

    draft = approved_cycle(db, insert_programme(db, "BPNT"), [], state="ditinjau")
    with pytest.raises(StateError, match="siklus yang disetujui"):
        payments.create_batch(db, FINANCE, draft, "bank")
    with pytest.raises(ValidationError, match="Kanal"):
        payments.create_batch(db, FINANCE, cycle, "cek")


def test_roles_and_areas(db: Database, admin) -> None:
    cycle = paying_cycle(db, admin)
    for role in (Role.OPERATOR, Role.ANALYST, Role.VERIFIER):
        with pytest.raises(PermissionDenied):
            payments.create_batch(db, actor(role, "32.75"), cycle, "bank")
    with pytest.raises(PermissionDenied, match="wilayah"):
        payments.create_batch(db, actor(Role.FINANCE, "32.75.02"), cycle, "bank", kelurahan_code=KELURAHAN)
    own = payments.create_batch(db, actor(Role.FINANCE, "32.75.01"), cycle, "bank", kelurahan_code=KELURAHAN)
    with pytest.raises(NotFound):
        payments.get_batch(db, actor(Role.FINANCE, "32.75.02"), own.id)
    assert payments.list_batches(db, actor(Role.FINANCE, "32.75.02")) == []


def test_export_is_byte_identical_and_carries_control_totals(db: Database, admin, tmp_path: Path) -> None:
    cycle = paying_cycle(db, admin)
    batch_id, _rows = exported_batch(db, tmp_path, cycle, channel="pos")
    first = (tmp_path / f"bayar-{batch_id}.csv").read_bytes()
    assert first.splitlines()[0] == b"referensi,nik,nama,alamat,kelurahan,jumlah"
    assert b"Bekasijaya" in first and first.splitlines()[-1].startswith(b"#KONTROL;batch=BYR-")
    assert b";baris=4;total=1000000;sha256=" in first
    again = payments.export_batch(db, FINANCE, batch_id, tmp_path / "lagi.csv")
    assert (tmp_path / "lagi.csv").read_bytes() == first
    detail = payments.get_batch(db, FINANCE, batch_id).batch
    assert detail.state == "diekspor" and detail.file_sha256 == again.file_sha256


def test_import_applies_paid_failed_and_reports_mismatches(db: Database, admin, tmp_path: Path) -> None:
    cycle = paying_cycle(db, admin, here=4, there=0)
    batch_id, rows = exported_batch(db, tmp_path, cycle)
    file = result_file(
        tmp_path,
        [
            (rows[0][0], rows[0][1], 250_000, "SUKSES", "", "TRX1", "2025-07-15"),
            (rows[1][0], rows[1][1], 250_000, "GAGAL", "Rekening tidak aktif"),
            (rows[2][0], rows[2][1], 200_000, "SUKSES"),  # amount differs
            ("P999-1", "", 250_000, "SUKSES"),  # unknown
            (rows[0][0], rows[0][1], 250_000, "SUKSES"),  # duplicate in the file
        ],
    )
    summary = payments.import_results(db, FINANCE, batch_id, file)
    assert summary.by_outcome == {"diterapkan": 2, "tidak_cocok": 1, "tidak_dikenal": 1, "ganda": 1}
    assert not summary.already_imported and summary.batch_state == "diekspor"
    assert states(db, cycle) == {"dibayar": 1, "gagal": 1, "diproses": 2}
    assert sorted(line_states(db, batch_id).values()) == ["dibayar", "dikirim", "dikirim", "gagal"]
    with db.read() as conn:
        failed = conn.execute(
            sa.select(line_failure_reason(lines_t.c)).where(line_state(lines_t.c) == "gagal")
        ).scalar_one()
        paid = conn.execute(
            sa.select(line_bank_reference(lines_t.c), line_settled_on(lines_t.c)).where(
                line_state(lines_t.c) == "dibayar"
            )
        ).one()
    assert failed == "Rekening tidak aktif" and paid[0] == "TRX1" and str(paid[1]) == "2025-07-15"


def test_second_import_of_the_same_file_changes_nothing(db: Database, admin, tmp_path: Path) -> None:
    cycle = paying_cycle(db, admin)
    batch_id, rows = exported_batch(db, tmp_path, cycle)
    file = result_file(tmp_path, all_paid(rows))
    first = payments.import_results(db, FINANCE, batch_id, file)
    assert first.applied == 4 and first.batch_state == "selesai"
    before = (states(db, cycle), line_states(db, batch_id))
    second = payments.import_results(db, FINANCE, batch_id, file)
    assert second.already_imported and second.import_id == first.import_id
    assert (states(db, cycle), line_states(db, batch_id)) == before
    # The same rows in a different file (new checksum) are judged 'already applied', not paid again.
    renamed = result_file(tmp_path, all_paid(rows), name="hasil-ulang.csv", separator=";")
    third = payments.import_results(db, FINANCE, batch_id, renamed)
    assert third.by_outcome == {"sudah": 4} and states(db, cycle) == {"dibayar": 4}


def test_tampered_result_file_is_rejected_and_nothing_applied(db: Database, admin, tmp_path: Path) -> None:
    cycle = paying_cycle(db, admin)
    batch_id, rows = exported_batch(db, tmp_path, cycle)
    file = result_file(tmp_path, all_paid(rows))
    data = file.read_bytes()
    file.write_bytes(data.replace(b"SUKSES", b"GAGAL", 1))
    with pytest.raises(ValidationError, match="checksum tidak cocok") as caught:
        payments.import_results(db, FINANCE, batch_id, file)
    assert "sha256" in {e.field for e in caught.value.errors}
    file.write_bytes(data.replace(b";baris=4;", b";baris=5;"))
    with pytest.raises(ValidationError, match="total kontrol"):
        payments.import_results(db, FINANCE, batch_id, file)
    assert states(db, cycle) == {"diproses": 4}
    with db.read() as conn:
        recorded = conn.execute(sa.select(payment_result_imports.c.status)).scalars().all()
    assert recorded == ["ditolak", "ditolak"]
    bad_path = tmp_path / "rusak.csv"
    bad_path.write_text(
        f"referensi,nik,jumlah,status\n{rows[0][0]},3.27501E+15,250000,SUKSES\n{rows[1][0]},,abc,MUNGKIN\n"
    )
    with pytest.raises(ImportRejected) as rejected:
        payments.import_results(db, FINANCE, batch_id, bad_path)
    assert {(e.row, e.field) for e in rejected.value.errors} == {(2, "nik"), (3, "jumlah"), (3, "status")}
    assert states(db, cycle) == {"diproses": 4}


def test_result_without_trailer_and_xlsx_are_read(db: Database, admin, tmp_path: Path) -> None:
    import xlsxwriter

    cycle = paying_cycle(db, admin, here=2, there=0)
    batch_id, rows = exported_batch(db, tmp_path, cycle)
    path = tmp_path / "hasil.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    for c, head in enumerate(["Referensi", "NIK", "Nominal", "Status", "Keterangan"]):
        sheet.write(0, c, head)
    sheet.write_row(1, 0, [rows[0][0], int(rows[0][1]), 250000, "BERHASIL", ""])
    sheet.write_row(2, 0, [rows[1][0], rows[1][1], 250000, "RETUR", "Penerima tidak di tempat"])
    sheet.write(3, 0, "#KONTROL;baris=2;total=500000")
    book.close()
    summary = payments.import_results(db, FINANCE, batch_id, path)
    assert summary.applied == 2 and states(db, cycle) == {"dibayar": 1, "gagal": 1}


def test_returned_payment_makes_the_entitlement_retryable(db: Database, admin, tmp_path: Path) -> None:
    cycle = paying_cycle(db, admin, here=2, there=0)
    batch_id, rows = exported_batch(db, tmp_path, cycle)
    payments.import_results(db, FINANCE, batch_id, result_file(tmp_path, all_paid(rows)))
    assert states(db, cycle) == {"dibayar": 2}
    late = result_file(
        tmp_path, [(rows[0][0], rows[0][1], 250_000, "RETUR", "Dana dikembalikan")], name="retur.csv"
    )
    assert payments.import_results(db, FINANCE, batch_id, late).applied == 1
    assert states(db, cycle) == {"dibayar": 1, "gagal": 1}
    retry = payments.create_batch(db, FINANCE, cycle, "pos", retry=True)
    assert retry.control_count == 1
    with db.read() as conn:
        attempts = (
            conn.execute(sa.select(lines_t.c.attempt).where(lines_t.c.batch_id == retry.id)).scalars().all()
        )
    assert attempts == [2] and states(db, cycle) == {"dibayar": 1, "diproses": 1}


def test_failed_lines_are_retried_in_a_later_batch_only_on_request(
    db: Database, admin, tmp_path: Path
) -> None:
    cycle = paying_cycle(db, admin, here=3, there=0)
    batch_id, rows = exported_batch(db, tmp_path, cycle)
    payments.import_results(
        db,
        FINANCE,
        batch_id,
        result_file(
            tmp_path,
            [
                (rows[0][0], rows[0][1], 250_000, "SUKSES"),
                (rows[1][0], rows[1][1], 250_000, "GAGAL", "NIK tidak padan"),
                (rows[2][0], rows[2][1], 250_000, "GAGAL", "Rekening ditutup"),
            ],
        ),
    )
    with pytest.raises(StateError, match="--retry"):
        payments.create_batch(db, FINANCE, cycle, "bank")
    retry_id, retry_rows = exported_batch(db, tmp_path, cycle, retry=True)
    assert len(retry_rows) == 2 and all(r[0].startswith(f"P{retry_id}-") for r in retry_rows)
    payments.import_results(
        db, FINANCE, retry_id, result_file(tmp_path, all_paid(retry_rows), name="hasil2.csv")
    )
    assert states(db, cycle) == {"dibayar": 3}


def test_cancel_batch_makes_its_entitlements_retryable(db: Database, admin, tmp_path: Path) -> None:
    cycle = paying_cycle(db, admin, here=2, there=0)
    batch_id, rows = exported_batch(db, tmp_path, cycle)
    with pytest.raises(ValidationError, match="Alasan"):
        payments.cancel_batch(db, FINANCE, batch_id, "")
    result = payments.cancel_batch(db, FINANCE, batch_id, "Berkas dikirim ke bank yang salah")
    assert result == {"baris_dibatalkan": 2, "hak_dapat_diulang": 2}
    assert states(db, cycle) == {"gagal": 2} and set(line_states(db, batch_id).values()) == {"dibatalkan"}
    with pytest.raises(StateError):
        payments.cancel_batch(db, FINANCE, batch_id, "sekali lagi dibatalkan")
    with pytest.raises(StateError, match="sudah dibatalkan"):
        payments.export_batch(db, FINANCE, batch_id, tmp_path / "x.csv")
    # The bank pays a line we cancelled: a conflict, never applied.
    late = payments.import_results(db, FINANCE, batch_id, result_file(tmp_path, all_paid(rows)))
    assert late.by_outcome == {"konflik": 2} and late.batch_state == "dibatalkan"
    assert states(db, cycle) == {"gagal": 2}
    assert payments.create_batch(db, FINANCE, cycle, "bank", retry=True).control_count == 2


def test_cancel_entitlement_only_when_not_on_its_way(db: Database, admin, tmp_path: Path) -> None:
    cycle = paying_cycle(db, admin, here=2, there=0)
    with db.read() as conn:
        first, second = conn.execute(sa.select(entitlements.c.id).order_by(entitlements.c.id)).scalars().all()
    payments.cancel_entitlement(db, FINANCE, first, "KPM sudah pindah ke luar kota")
    payments.create_batch(db, FINANCE, cycle, "bank")
    with pytest.raises(StateError, match="Diproses"):
        payments.cancel_entitlement(db, FINANCE, second, "terlambat dibatalkan")
    assert states(db, cycle) == {"dibatalkan": 1, "diproses": 1}


def test_batch_state_conflict_is_reported(db: Database, admin, tmp_path: Path) -> None:
    cycle = paying_cycle(db, admin, here=2, there=0)
    batch_id, rows = exported_batch(db, tmp_path, cycle)
    payments.import_results(
        db, FINANCE, batch_id, result_file(tmp_path, [(rows[0][0], rows[0][1], 250_000, "GAGAL")])
    )
    later = payments.import_results(
        db,
        FINANCE,
        batch_id,
        result_file(tmp_path, [(rows[0][0], rows[0][1], 250_000, "SUKSES")], name="b.csv"),
    )
    assert later.by_outcome == {"konflik": 1} and states(db, cycle) == {"gagal": 1, "diproses": 1}


def test_database_refuses_a_second_live_payment_even_without_the_service(
    db: Database, admin, tmp_path: Path
) -> None:
    cycle = paying_cycle(db, admin, here=1, there=0)
    batch = payments.create_batch(db, FINANCE, cycle, "bank")
    with db.read() as conn:
        line = dict(conn.execute(sa.select(lines_t)).mappings().one())
    with db.begin() as conn:
        other = conn.execute(
            sa.insert(payment_batches)
            .values(
                cycle_id=cycle,
                number="MANUAL-1",
                channel="bank",
                state="dibuat",
                control_count=1,
                control_total=250_000,
                version=1,
                created_by="penyusup",
                created_at=batch.created_at,
            )
            .returning(payment_batches.c.id)
        ).scalar_one()
    # ``live`` is generated from ``state`` by the database and cannot be written
    copy = {
        **{k: v for k, v in line.items() if k not in {"id", "live"}},
        "batch_id": other,
        "reference": "MANUAL-1-1",
        "attempt": 2,
    }
    with pytest.raises(sa.exc.IntegrityError), db.begin() as conn:
        conn.execute(sa.insert(lines_t).values(**copy))
    with db.begin() as conn:  # a failed line may be followed by a retry
        conn.execute(sa.update(lines_t).where(lines_t.c.id == line["id"]).values(state="gagal"))
        conn.execute(sa.insert(lines_t).values(**copy))
    with pytest.raises(sa.exc.IntegrityError), db.begin() as conn:
        conn.execute(sa.update(lines_t).where(lines_t.c.id == line["id"]).values(state="dibayar"))
