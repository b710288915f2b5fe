"""``tepat dokumen …`` and ``tepat fasilitas …``: files written, JSON summaries, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
from typer.testing import CliRunner

from tepat.cli import app
from tests.document_data import blt_cycle, pay, pdf_text
from tests.factories import KELURAHAN

runner = CliRunner()


def _run(*args: str):
    return runner.invoke(app, list(args))


def test_nominatif_bast_and_cycle_listing(db, admin, tmp_path: Path) -> None:
    cycle_id, _here, _ = blt_cycle(db, admin)
    out = tmp_path / "nominatif.pdf"
    r = _run(
        "dokumen", "nominatif", str(cycle_id), "--kelurahan", KELURAHAN, "--out", str(out), "--db", db.url
    )
    assert r.exit_code == 0, r.output
    assert r.stdout == f"{out} ditulis: 3 baris, Rp750.000.\n"
    assert "Menyusun nominatif.pdf" in r.stderr  # said before the (possibly long) rendering
    assert "Budi Santoso" in pdf_text(out.read_bytes())
    bast = tmp_path / "bast.pdf"
    r = _run(
        "dokumen",
        "bast",
        str(cycle_id),
        "--kelurahan",
        KELURAHAN,
        "--out",
        str(bast),
        "--tanggal",
        "2025-07-14",
        "--json",
        "--db",
        db.url,
    )
    summary = json.loads(r.output)
    assert summary["baris"] == 3 and summary["jumlah"] == 750_000 and summary["berkas"] == str(bast)
    assert "hari Senin tanggal empat belas bulan Juli" in pdf_text(bast.read_bytes())
    listing = json.loads(_run("dokumen", "siklus", str(cycle_id), "--json", "--db", db.url).output)
    assert listing["jumlah"] == 1_000_000 and [k["penerima"] for k in listing["kelurahan"]] == [3, 1]
    text = _run("dokumen", "siklus", str(cycle_id), "--db", db.url).output
    assert text.startswith("BLT-APBD Juli 2025 (disetujui): 2 kelurahan, Rp1.000.000")


def test_every_kelurahan_of_a_cycle_in_one_folder(db, admin, tmp_path: Path) -> None:
    cycle_id, _, _ = blt_cycle(db, admin)
    folder = tmp_path / "siklus" / "juli"  # made if missing
    r = _run(
        "dokumen", "semua", str(cycle_id), "--folder", str(folder), "--tanggal", "2025-07-14", "--db", db.url
    )
    assert r.exit_code == 0, r.output
    assert r.stdout == f"4 berkas ditulis di {folder} (2 kelurahan, Rp1.000.000).\n"
    assert "[1/2] Bekasijaya (3 penerima)" in r.stderr
    files = sorted(p.name for p in folder.iterdir())
    assert len(files) == 4 and sum(f.startswith("bast-") for f in files) == 2
    nominatif = next(folder.glob(f"daftar-nominatif-*-{KELURAHAN}.pdf"))
    assert "Budi Santoso" in pdf_text(nominatif.read_bytes())
    again = json.loads(
        _run("dokumen", "semua", str(cycle_id), "--folder", str(folder), "--json", "--db", db.url).output
    )
    assert [f["baris"] for f in again["berkas"]] == [3, 3, 1, 1] and len(
        list(folder.iterdir())
    ) == 4  # overwritten
    r = _run("dokumen", "semua", "999", "--folder", str(tmp_path / "none"), "--db", db.url)
    assert (
        r.exit_code == 1 and "Galat: Siklus tidak ditemukan." in r.output and not (tmp_path / "none").exists()
    )


def test_errors_are_one_indonesian_line(db, admin, tmp_path: Path) -> None:
    cycle_id, _, _ = blt_cycle(db, admin)
    r = _run(
        "dokumen",
        "nominatif",
        "999",
        "--kelurahan",
        KELURAHAN,
        "--out",
        str(tmp_path / "x.pdf"),
        "--db",
        db.url,
    )
    assert r.exit_code == 1 and "Galat: Siklus tidak ditemukan." in r.output
    r = _run("dokumen", "realisasi", "--year", "2025", "--out", str(tmp_path / "x.csv"), "--db", db.url)
    assert r.exit_code == 1 and "Galat: Berkas keluaran harus berakhiran .pdf atau .xlsx" in r.output
    r = _run(
        "dokumen",
        "bast",
        str(cycle_id),
        "--kelurahan",
        KELURAHAN,
        "--out",
        str(tmp_path / "b.pdf"),
        "--tanggal",
        "kemarin",
        "--db",
        db.url,
    )
    assert (
        r.exit_code == 1
        and "Galat: --tanggal harus berformat TTTT-BB-HH atau HH-BB-TTTT, bukan 'kemarin'." in r.output
    )


def test_realisation_pdf_and_xlsx(db, admin, tmp_path: Path) -> None:
    cycle_id, here, _ = blt_cycle(db, admin)
    pay(db, cycle_id, here)
    pdf, xlsx = tmp_path / "r.pdf", tmp_path / "r.xlsx"
    assert _run("dokumen", "realisasi", "--year", "2025", "--out", str(pdf), "--db", db.url).exit_code == 0
    assert "Rp750.000" in pdf_text(pdf.read_bytes())
    r = _run("dokumen", "realisasi", "--year", "2025", "--out", str(xlsx), "--json", "--db", db.url)
    assert json.loads(r.output)["jumlah"] == 750_000
    assert openpyxl.load_workbook(xlsx)["Program"]["F4"].value == 750_000


def test_facilities_add_list_revoke(db, tmp_path: Path) -> None:
    r = _run(
        "fasilitas",
        "add",
        "--code",
        "RSUD-CAM",
        "--name",
        "RSUD dr. Chasbullah Abdulmadjid",
        "--kind",
        "rsud",
        "--db",
        db.url,
    )
    assert r.exit_code == 0 and r.output.startswith(
        "Fasilitas RSUD-CAM (RSUD dr. Chasbullah Abdulmadjid) terdaftar."
    )
    key = r.output.split(": ")[-1].strip()
    assert key.startswith("fas_")
    added = json.loads(
        _run(
            "fasilitas",
            "add",
            "--code",
            "PKM-1",
            "--name",
            "Puskesmas Satu",
            "--kind",
            "puskesmas",
            "--json",
            "--db",
            db.url,
        ).output
    )
    assert added["kode"] == "PKM-1" and added["kunci_api"].startswith("fas_")
    listed = json.loads(_run("fasilitas", "list", "--json", "--db", db.url).output)
    assert [(f["kode"], f["awalan_kunci"], f["aktif"]) for f in listed] == [
        ("PKM-1", added["kunci_api"][:12], True),
        ("RSUD-CAM", key[:12], True),
    ]
    assert key not in _run("fasilitas", "list", "--db", db.url).output
    assert (
        _run("fasilitas", "revoke", "rsud-cam", "--db", db.url).output
        == "Kunci fasilitas RSUD-CAM dicabut.\n"
    )
    again = _run("fasilitas", "revoke", "RSUD-CAM", "--db", db.url)
    assert again.exit_code == 1 and "Galat: Kunci fasilitas ini sudah dicabut." in again.output
    bad = _run("fasilitas", "add", "--code", "x y", "--name", "Klinik", "--kind", "apotek", "--db", db.url)
    assert bad.exit_code == 1 and "Galat: Data fasilitas belum benar" in bad.output
