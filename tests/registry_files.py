"""Building registry files (canonical rows, clean and messy CSV/XLSX) for the import and export tests."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from tepat.domain.households import CANONICAL_COLUMNS
from tests.factories import KELURAHAN, OTHER_KELURAHAN, next_serial

__all__ = [
    "CANONICAL_COLUMNS",
    "KELURAHAN",
    "OTHER_KELURAHAN",
    "family",
    "kk",
    "nik",
    "row",
    "write_csv",
    "write_xlsx",
]


def nik(birth: date, sex: str = "L", serial: int | None = None, region: str = "327501") -> str:
    day = birth.day + (40 if sex == "P" else 0)
    return f"{region}{day:02d}{birth.month:02d}{birth.year % 100:02d}{serial or next_serial():04d}"


def kk(serial: int | None = None, region: str = "327501", issued: date = date(2020, 7, 15)) -> str:
    return f"{region}{issued.day:02d}{issued.month:02d}{issued.year % 100:02d}{serial or next_serial():04d}"


def row(
    kk_number: str,
    name: str = "Budi Santoso",
    sex: str = "L",
    birth: date = date(1980, 5, 17),
    relationship: str = "kepala_keluarga",
    kelurahan: str = KELURAHAN,
    **cells: Any,
) -> dict[str, str]:
    """One canonical row (all text), family columns filled with plausible values."""
    values: dict[str, Any] = {
        "nomor_kk": kk_number,
        "kode_kelurahan": kelurahan,
        "rw": "3",
        "rt": "5",
        "alamat": "Jl. Mawar No. 7",
        "status_rumah": "milik_sendiri",
        "luas_lantai": "36",
        "jenis_lantai": "keramik",
        "jenis_dinding": "tembok",
        "jenis_atap": "genteng",
        "sumber_air_minum": "air_isi_ulang",
        "sumber_penerangan": "pln_meteran",
        "daya_listrik": "900",
        "bahan_bakar_memasak": "lpg_3kg",
        "fasilitas_bab": "sendiri",
        "pembuangan_tinja": "tangki_septik",
        "aset_kulkas": "1",
        "aset_televisi": "1",
        "aset_sepeda_motor": "0",
        "status_keluarga": "aktif",
        "status_verifikasi": "belum",
        "nik": cells.pop("nik", None) or nik(birth, sex),
        "nama": name,
        "jenis_kelamin": sex,
        "tempat_lahir": "Bekasi",
        "tanggal_lahir": birth.isoformat(),
        "hubungan_keluarga": relationship,
        "status_kawin": "kawin" if relationship in ("kepala_keluarga", "istri_suami") else "belum_kawin",
        "pendidikan": "sma",
        "status_hidup": "hidup",
    }
    values.update(cells)
    return {c: "" if values.get(c) is None else str(values.get(c)) for c in CANONICAL_COLUMNS}


def family(
    kk_number: str | None = None, kelurahan: str = KELURAHAN, **family_cells: Any
) -> list[dict[str, str]]:
    """A head, a spouse and a child sharing one KK."""
    number = kk_number or kk()
    return [
        row(number, "Budi Santoso", "L", date(1980, 5, 17), "kepala_keluarga", kelurahan, **family_cells),
        row(number, "Siti Aminah", "P", date(1983, 2, 3), "istri_suami", kelurahan, **family_cells),
        row(number, "Rizky Pratama", "L", date(2012, 9, 1), "anak", kelurahan, **family_cells),
    ]


def write_csv(
    path: Path,
    rows: Iterable[dict[str, str]],
    *,
    columns: Sequence[str] = CANONICAL_COLUMNS,
    sep: str = ",",
    above: Sequence[str] = (),
    below: Sequence[str] = (),
    bom: bool = False,
) -> Path:
    """A CSV file; ``above``/``below`` are raw lines before the header and after the data."""
    import csv
    import io

    buf = io.StringIO()
    for line in above:
        buf.write(line + "\n")
    writer = csv.writer(buf, delimiter=sep, lineterminator="\n")
    writer.writerow(columns)
    for r in rows:
        writer.writerow([r.get(c, "") for c in columns])
    for line in below:
        buf.write(line + "\n")
    path.write_bytes(("\ufeff" if bom else "").encode() + buf.getvalue().encode("utf-8"))
    return path


def write_xlsx(
    path: Path,
    rows: Iterable[dict[str, Any]],
    *,
    columns: Sequence[str] = CANONICAL_COLUMNS,
    title: str | None = None,
    numbers: Sequence[str] = (),
    dates: Sequence[str] = (),
) -> Path:
    """An XLSX file as Excel users make them: optional merged title row, ``numbers`` columns as number cells,
    ``dates`` columns as real date cells (``dd/mm/yyyy`` display)."""
    from datetime import datetime

    import xlsxwriter

    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Data")
    date_format = book.add_format({"num_format": "dd/mm/yyyy"})
    top = 0
    if title:
        sheet.merge_range(0, 0, 0, 5, title)
        top = 2  # title, an empty row, then the header
    for i, name in enumerate(columns):
        sheet.write_string(top, i, name)
    for r_index, r in enumerate(rows, start=top + 1):
        for c_index, name in enumerate(columns):
            value = r.get(name, "")
            if value in ("", None):
                continue
            if name in numbers and isinstance(value, (int, float)):
                sheet.write_number(r_index, c_index, value)
            elif name in numbers and str(value).isdigit():
                sheet.write_number(r_index, c_index, int(value))
            elif name in dates and isinstance(value, str) and len(value) == 10 and value[4] == "-":
                sheet.write_datetime(r_index, c_index, datetime.fromisoformat(value), date_format)
            elif isinstance(value, (int, float)):
                sheet.write_number(r_index, c_index, value)
            else:
                sheet.write_string(r_index, c_index, str(value))
    book.close()
    return path
