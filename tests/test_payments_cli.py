"""``tepat bayar batch|export|import|cancel|reconcile|list`` acting as a named account."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from typer.testing import CliRunner

from tepat.domain.access import Role
from tests.payment_support import paying_cycle, result_file
from tests.test_web_support import add_user


def _cli():
    from tepat.cli import app

    return app


def run(db, *args: str):
    return CliRunner().invoke(_cli(), ["bayar", *args, "--db", db.url])


def test_batch_export_import_reconcile_through_the_cli(db, admin, tmp_path: Path) -> None:
    cycle = paying_cycle(db, admin, here=2, there=1)
    add_user(db, "siti", Role.FINANCE, "32.75")
    made = run(db, "batch", str(cycle), "--channel", "bank", "--as", "siti")
    assert made.exit_code == 0, made.output
    assert made.output == f"Batch BYR-{cycle:05d}-001 (id 1) dibuat: 3 baris, Rp750.000.\n"
    out = tmp_path / "bayar.csv"
    exported = json.loads(run(db, "export", "1", "--out", str(out), "--as", "siti", "--json").output)
    assert exported["baris"] == 3 and exported["total"] == 750_000 and len(exported["sha256"]) == 64
    rows = list(csv.reader(out.open()))[1:-1]
    file = result_file(tmp_path, [(r[0], r[1], r[-1], "SUKSES") for r in rows])
    first = run(db, "import", "1", str(file), "--as", "siti")
    assert (
        first.exit_code == 0
        and "3 baris dibaca; status batch: selesai." in first.output
        and "Diterapkan: 3" in first.output
    )
    second = run(db, "import", "1", str(file), "--as", "siti")
    assert second.output == "Berkas ini sudah diimpor untuk batch 1 (impor 1); tidak ada yang diubah.\n"
    report = json.loads(run(db, "reconcile", "1", "--json").output)
    assert report["seimbang"] is True and report["total"]["dibayar_sum"] == 750_000
    cycle_report = run(db, "reconcile", "--cycle", str(cycle))
    assert cycle_report.output.startswith("Siklus Siklus uji: seimbang")
    listed = json.loads(run(db, "list", "--json").output)
    assert [(b["nomor"], b["status"]) for b in listed] == [(f"BYR-{cycle:05d}-001", "selesai")]


def test_cli_errors_are_one_indonesian_line(db, admin, tmp_path: Path) -> None:
    cycle = paying_cycle(db, admin, here=1, there=0)
    add_user(db, "opi", Role.OPERATOR, "32.75.01.1001")
    add_user(db, "siti", Role.FINANCE, "32.75")
    unknown = run(db, "batch", str(cycle), "--as", "hantu")
    assert (
        unknown.exit_code == 1
        and unknown.output == "Galat: Pengguna 'hantu' tidak ditemukan atau tidak aktif.\n"
    )
    operator = run(db, "batch", str(cycle), "--as", "opi")
    assert operator.exit_code == 1
    assert operator.output == "Galat: Hanya Keuangan dan Admin Dinsos yang boleh mengelola pembayaran.\n"
    assert run(db, "batch", str(cycle), "--as", "siti").exit_code == 0
    no_reason = run(db, "cancel", "1", "--reason", "", "--as", "siti")
    assert no_reason.exit_code == 1 and no_reason.output.startswith("Galat: Alasan pembatalan wajib diisi")
    cancelled = run(db, "cancel", "1", "--reason", "Salah kanal", "--as", "siti", "--json")
    assert json.loads(cancelled.output) == {"baris_dibatalkan": 1, "hak_dapat_diulang": 1}
    missing = run(db, "import", "1", str(tmp_path / "tidak-ada.csv"), "--as", "siti")
    assert missing.exit_code == 1 and missing.output.startswith("Galat: Berkas tidak ditemukan")
    tampered = result_file(tmp_path, [("P1-1", "", 250_000, "SUKSES")])
    tampered.write_bytes(tampered.read_bytes().replace(b"SUKSES", b"GAGAL"))
    refused = run(db, "import", "1", str(tampered), "--as", "siti")
    assert refused.exit_code == 1
    assert refused.output.splitlines()[0] == (
        "Galat: Berkas hasil ditolak: total kontrol atau checksum tidak cocok. Tidak ada yang diterapkan."
    )
