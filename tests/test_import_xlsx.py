"""Importing XLSX files as Excel users make them: number cells, date cells, title rows."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import sqlalchemy as sa

from tepat.services.imports import import_file
from tepat.store.database import Database
from tepat.store.schema import families, members
from tests.registry_files import family, kk, nik, row, write_xlsx


def _niks(db: Database) -> set[str]:
    with db.read() as conn:
        return set(conn.execute(sa.select(members.c.nik)).scalars())


def test_clean_xlsx_with_title_rows_and_text_cells(db: Database, admin, tmp_path: Path) -> None:
    rows = family() + family()
    path = write_xlsx(tmp_path / "dtks.xlsx", rows, title="DTKS Kelurahan Bekasijaya — Juli 2025")
    result = import_file(db, admin, path)
    assert (result.rows_read, result.rows_rejected, result.families_created, result.members_created) == (
        6,
        0,
        2,
        6,
    )
    assert _niks(db) == {r["nik"] for r in rows}
    assert import_file(db, admin, path).members_updated == 0


def test_number_cells_and_date_cells_as_excel_stores_them(db: Database, admin, tmp_path: Path) -> None:
    number = kk(serial=9234)  # ends in 4: all 16 digits survive as a number
    rows = [
        row(number, birth=date(1980, 5, 17), nik=nik(date(1980, 5, 17), "L", 17)),
        row(
            number,
            name="Siti",
            sex="P",
            birth=date(1983, 2, 3),
            relationship="istri_suami",
            nik=nik(date(1983, 2, 3), "P", 21),
        ),
        row(
            number,
            name="Rizky",
            birth=date(2012, 9, 1),
            relationship="anak",
            nik=nik(date(2012, 9, 1), "L", 33),
        ),
    ]
    rows[1]["tanggal_lahir"] = 30350  # an Excel serial day number
    path = write_xlsx(
        tmp_path / "angka.xlsx",
        rows,
        numbers=("nomor_kk", "nik", "rw", "rt", "luas_lantai"),
        dates=("tanggal_lahir",),
        title="Data",
    )
    result = import_file(db, admin, path)
    assert result.errors == [] and result.members_created == 3
    with db.read() as conn:
        births = dict(conn.execute(sa.select(members.c.name, members.c.birth_date)).all())
        assert conn.execute(sa.select(families.c.kk_number)).scalar_one() == number
    assert births == {"Budi Santoso": date(1980, 5, 17), "Siti": date(1983, 2, 3), "Rizky": date(2012, 9, 1)}


def test_digits_lost_in_number_cells_are_rejected_never_stored(db: Database, admin, tmp_path: Path) -> None:
    number = kk()
    good = row(number, birth=date(1980, 5, 17), nik="3275011705800011")
    lost = row(
        number,
        name="Siti",
        sex="P",
        birth=date(1983, 2, 3),
        relationship="istri_suami",
        nik="3275014302830020",
    )
    scientific = row(number, name="Rizky", birth=date(2012, 9, 1), relationship="anak", nik="3.27501E+15")
    decimal = row(number, name="Dewi", sex="P", birth=date(2014, 1, 1), relationship="anak")
    decimal["nik"] = 3275014101.5
    path = write_xlsx(tmp_path / "rusak.xlsx", [good, lost, scientific, decimal], numbers=("nik",))
    result = import_file(db, admin, path)
    assert [(e.row, e.field, e.value, e.message) for e in result.errors] == [
        (
            3,
            "nik",
            "3275014302830020",
            "NIK tersimpan sebagai angka di Excel dan berakhir 0; digit ke-16 mungkin hilang, ketik ulang sebagai teks",
        ),
        (
            4,
            "nik",
            "3.27501E+15",
            "NIK tertulis sebagai notasi ilmiah Excel (mis. 3.27501E+15); digit terakhir sudah hilang, ketik ulang sebagai teks",
        ),
        (
            5,
            "nik",
            "3275014101.5",
            "NIK angka desimal dari Excel; digit terakhir sudah hilang, ketik ulang sebagai teks",
        ),
    ]
    assert _niks(db) == {"3275011705800011"}


def test_a_text_cell_ending_in_zero_is_fine(db: Database, admin, tmp_path: Path) -> None:
    number = kk()
    head = row(number, nik="3275011705800010")
    result = import_file(db, admin, write_xlsx(tmp_path / "teks.xlsx", [head]))
    assert result.errors == [] and _niks(db) == {"3275011705800010"}


def test_formatted_empty_rows_at_the_end_are_ignored(db: Database, admin, tmp_path: Path) -> None:
    import xlsxwriter

    from tepat.domain.households import CANONICAL_COLUMNS

    rows = family()
    path = tmp_path / "kosong.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    bold = book.add_format({"bold": True, "border": 1})
    sheet.write_row(0, 0, CANONICAL_COLUMNS)
    for i, r in enumerate(rows, start=1):
        sheet.write_row(i, 0, [r[c] for c in CANONICAL_COLUMNS])
    for i in range(4, 40):
        for j in range(len(CANONICAL_COLUMNS)):
            sheet.write_blank(i, j, None, bold)
    sheet.write_string(41, 0, "   ")
    book.close()
    result = import_file(db, admin, path)
    assert (result.rows_read, result.rows_rejected, result.members_created) == (3, 0, 3)
