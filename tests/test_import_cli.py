"""``tepat import`` and ``tepat export``: the exact text a user reads."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from typer.testing import CliRunner

from tepat.cli import app
from tepat.store.database import Database
from tests.registry_files import family, kk, nik, row, write_csv


def _run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, list(args))


def _files(tmp_path: Path) -> tuple[Path, list[dict[str, str]]]:
    number = kk(serial=77)
    rows = [
        row(number, nik=nik(date(1980, 5, 17), "L", 11)),
        row(
            number,
            name="Siti",
            sex="P",
            birth=date(1983, 2, 3),
            relationship="istri_suami",
            nik="3.27501E+15",
        ),
        row(
            number,
            name="Rizky",
            birth=date(2012, 9, 1),
            relationship="anak",
            nik=nik(date(2012, 9, 1), "L", 12),
            rt="6",
        ),
    ]
    return write_csv(tmp_path / "dtks.csv", rows), rows


def test_import_prints_a_summary_in_indonesian(db: Database, tmp_path: Path) -> None:
    path, _ = _files(tmp_path)
    result = _run("import", str(path), "--db", db.url)
    assert result.exit_code == 0
    assert result.stdout == (
        "Impor selesai: 3 baris dibaca, 1 diterima, 2 ditolak.\n"
        "Keluarga: 1 baru, 0 diperbarui.\n"
        "Anggota: 1 baru, 0 diperbarui.\n"
        "Baris yang ditolak:\n"
        "  - baris 3, nik = 3.27501E+15: NIK tertulis sebagai notasi ilmiah Excel (mis. 3.27501E+15); "
        "digit terakhir sudah hilang, ketik ulang sebagai teks\n"
        "  - baris 4, rt = 6: RT berbeda dengan baris 2 untuk nomor KK yang sama\n"
    )


def test_import_strict_with_bad_rows_exits_1_and_writes_the_errors_file(db: Database, tmp_path: Path) -> None:
    path, _ = _files(tmp_path)
    errors = tmp_path / "galat.csv"
    result = _run("import", str(path), "--mode", "strict", "--errors", str(errors), "--db", db.url)
    assert result.exit_code == 1
    assert result.stdout == (
        "Impor ditolak (mode strict): 2 baris bermasalah; tidak ada data yang disimpan.\n"
        "  - baris 3, nik = 3.27501E+15: NIK tertulis sebagai notasi ilmiah Excel (mis. 3.27501E+15); "
        "digit terakhir sudah hilang, ketik ulang sebagai teks\n"
        "  - baris 4, rt = 6: RT berbeda dengan baris 2 untuk nomor KK yang sama\n"
        f"Daftar masalah ditulis ke {errors}.\n"
    )
    assert errors.read_text(encoding="utf-8").splitlines()[0] == "baris,kolom,nilai,pesan"


def test_import_json_summary(db: Database, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "ok.csv", family())
    result = _run("import", str(path), "--json", "--db", db.url)
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {
        "import_id": 1,
        "status": "done",
        "mode": "valid-only",
        "rows_read": 3,
        "rows_rejected": 0,
        "families_created": 1,
        "families_updated": 0,
        "members_created": 3,
        "members_updated": 0,
        "errors": [],
        "warnings": [],
    }


def test_import_of_a_missing_file_prints_one_line(db: Database, tmp_path: Path) -> None:
    result = _run("import", str(tmp_path / "tidak-ada.csv"), "--db", db.url)
    assert (result.exit_code, result.stderr) == (1, "Galat: Berkas tidak-ada.csv tidak ditemukan\n")


def test_import_with_a_bad_mode(db: Database, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "ok.csv", family())
    result = _run("import", str(path), "--mode", "semua", "--db", db.url)
    assert (result.exit_code, result.stderr) == (1, "Galat: Mode impor harus strict atau valid-only\n")


def test_export_prints_what_it_wrote(db: Database, tmp_path: Path) -> None:
    _run("import", str(write_csv(tmp_path / "ok.csv", family() + family())), "--db", db.url)
    out = tmp_path / "bekasi-timur.xlsx"
    result = _run("export", str(out), "--area", "32.75.01", "--db", db.url)
    assert result.exit_code == 0
    assert (
        result.stdout
        == f"Ekspor selesai: 6 anggota dari 2 keluarga, Bekasi Timur (32.75.01), ditulis ke {out} (XLSX).\n"
    )
    whole = _run("export", str(tmp_path / "semua.dat"), "--format", "parquet", "--db", db.url)
    assert (
        whole.stdout
        == f"Ekspor selesai: 6 anggota dari 2 keluarga, semua wilayah, ditulis ke {tmp_path / 'semua.dat'} (PARQUET).\n"
    )
    bad = _run("export", str(tmp_path / "x.txt"), "--db", db.url)
    assert (bad.exit_code, bad.stderr) == (
        1,
        "Galat: Format berkas tidak dikenal: txt; gunakan csv, xlsx atau parquet\n",
    )


def test_import_as_an_account_keeps_to_its_area(db: Database, tmp_path: Path) -> None:
    from tepat.domain.access import Role
    from tests.registry_files import OTHER_KELURAHAN
    from tests.test_web_support import add_user

    add_user(db, "ani", Role.OPERATOR, "32.75.01")
    path = write_csv(tmp_path / "dua.csv", family() + family(kelurahan=OTHER_KELURAHAN))
    result = _run("import", str(path), "--json", "--as", "ani", "--db", db.url)
    summary = json.loads(result.output)
    assert (summary["rows_rejected"], summary["families_created"]) == (3, 1)
    assert _run("import", str(path), "--as", "hantu", "--db", db.url).exit_code == 1


def test_strict_json_counts_what_valid_only_would_do(db: Database, tmp_path: Path) -> None:
    """Issue 19 point 5: a rejected strict import reports rows read, rejected and the would-be created/updated
    figures — the same numbers valid-only then reports for the same file."""
    rows = family() + family() + family()
    rows[1] = dict(rows[1], tanggal_lahir="31/02/1983")  # one bad row in the first family
    path = write_csv(tmp_path / "tiga.csv", rows)
    strict = _run("import", str(path), "--mode", "strict", "--json", "--db", db.url)
    assert strict.exit_code == 1
    rejected = json.loads(strict.output)
    stored = json.loads(_run("import", str(path), "--json", "--db", db.url).output)
    keys = (
        "rows_read",
        "rows_rejected",
        "families_created",
        "families_updated",
        "members_created",
        "members_updated",
    )
    assert rejected["status"] == "rejected" and stored["status"] == "done"
    assert {k: rejected[k] for k in keys} == {k: stored[k] for k in keys}
    assert stored["families_created"] == 3 and stored["rows_rejected"] == 1
