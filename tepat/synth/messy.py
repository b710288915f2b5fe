"""Registry files with the problems real offices send, and a manifest of every problem.

``write_messy_files`` writes a CSV (as Excel saves it) and an XLSX (a merged
title row above the header, NIKs typed as numbers) built from a clean synthetic
registry, then spoils chosen rows: scientific-notation and numeric NIKs, ``.0``,
apostrophes, stray spaces, Excel serial and ``dd/mm/yyyy`` dates, empty rows,
duplicate and invalid NIKs, NIKs that contradict the sex or birth date columns,
deceased members of active families, unknown kelurahan codes and bad codes.
``manifest.json`` names, per file, each spoiled row as the spreadsheet numbers
it (the header row is given; in the CSV it is row 1), with the column, the
value written and the clean original, so tests can check that an importer
reports every one.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from tepat.domain.households import CANONICAL_COLUMNS
from tepat.synth.registry import generate_registry

# code: (what is wrong, what an importer should do: galat = reject the row, peringatan = flag it,
#        perbaikan = fix it silently or with a note, abaikan = skip it)
PROBLEMS: dict[str, tuple[str, str]] = {
    "baris_judul": ("Judul (sel digabung) di atas baris header", "abaikan"),
    "baris_kosong": ("Baris kosong di akhir berkas", "abaikan"),
    "nik_notasi_ilmiah": (
        "NIK tertulis sebagai notasi ilmiah Excel (3.27501E+15); digit terakhir hilang",
        "galat",
    ),
    "kk_notasi_ilmiah": ("Nomor KK tertulis sebagai notasi ilmiah Excel; digit terakhir hilang", "galat"),
    "nik_angka_excel": ("NIK tersimpan sebagai angka di sel Excel; digit ke-16 menjadi 0", "galat"),
    "nik_desimal_nol": ("NIK berakhiran .0", "perbaikan"),
    "nik_apostrof": ("NIK diawali apostrof", "perbaikan"),
    "spasi_berlebih": ("Spasi berlebih di awal/akhir nilai", "perbaikan"),
    "tanggal_serial_excel": ("Tanggal lahir berupa nomor seri tanggal Excel", "perbaikan"),
    "tanggal_dmy": ("Tanggal lahir ditulis dd/mm/yyyy", "perbaikan"),
    "nik_duplikat": ("NIK sama dengan baris lain (baris ganda)", "galat"),
    "nik_tanggal_salah": ("Tanggal lahir pada NIK bukan tanggal yang ada", "galat"),
    "nik_nomor_urut_0000": ("Nomor urut NIK 0000", "galat"),
    "nik_panjang_salah": ("NIK tidak 16 digit", "galat"),
    "nik_jenis_kelamin_beda": ("Jenis kelamin pada NIK tidak sama dengan kolom jenis_kelamin", "peringatan"),
    "nik_tanggal_lahir_beda": ("Tanggal lahir pada NIK tidak sama dengan kolom tanggal_lahir", "peringatan"),
    "meninggal_masih_aktif": ("Anggota sudah meninggal (lama) tetapi keluarganya masih aktif", "peringatan"),
    "kelurahan_tidak_dikenal": ("Kode kelurahan tidak ada dalam daftar wilayah", "galat"),
    "nilai_kode_salah": ("Nilai bukan salah satu kode yang sah", "galat"),
}
UNKNOWN_KELURAHAN = ("32.75.01.1005", "32.75.07.1001", "32.75.13.1001")
BAD_CODES = (
    ("jenis_kelamin", "Laki"),
    ("pendidikan", "SLTA sederajat"),
    ("jenis_lantai", "keramik bagus"),
    ("status_kawin", "nikah"),
    ("disabilitas", "ya"),
    ("daya_listrik", "900 watt"),
)
EXCEL_EPOCH = date(1899, 12, 30)
_COL = {c: i for i, c in enumerate(CANONICAL_COLUMNS)}
PER_PROBLEM = 3


@dataclass
class _Row:
    values: list[Any]
    family: int
    problems: list[dict[str, Any]] = field(default_factory=list)
    blank: bool = False

    def get(self, column: str) -> Any:
        return self.values[_COL[column]]

    def spoil(self, problem: str, column: str, value: Any) -> None:
        self.problems.append(
            {"problem": problem, "column": column, "value": value, "original": self.get(column)}
        )
        self.values[_COL[column]] = value


def _rows(families: int, seed: int) -> list[_Row]:
    members = generate_registry(families, seed=seed).members
    family_ids = members["nomor_kk"].rank("dense").cast(int).to_list()
    return [_Row(list(values), fam) for values, fam in zip(members.iter_rows(), family_ids, strict=True)]


class _Spoiler:
    """Chooses distinct rows for each problem and spoils them."""

    def __init__(self, rows: list[_Row], rng: np.random.Generator) -> None:
        self.rows = rows
        self.rng = rng
        self.used: set[int] = set()  # id() of rows already spoiled
        self.niks = {r.get("nik") for r in rows}

    def pick(self, ok: Any = None, count: int = PER_PROBLEM) -> list[_Row]:
        chosen: list[_Row] = []
        for i in self.rng.permutation(len(self.rows)):
            row = self.rows[int(i)]
            if id(row) in self.used or row.blank or (ok is not None and not ok(row)):
                continue
            self.used.add(id(row))
            chosen.append(row)
            if len(chosen) == count:
                break
        return chosen

    def family_rows(self) -> list[_Row]:
        families = sorted({r.family for r in self.rows})
        for f in self.rng.permutation(families):
            members = [r for r in self.rows if r.family == f]
            if not self.used.intersection(id(r) for r in members):
                self.used.update(id(r) for r in members)
                return members
        return []

    def new_nik(self, nik: str) -> str:
        self.niks.add(nik)
        return nik

    def common(self) -> None:
        """Problems every file carries: invalid, duplicate and contradicting NIKs, bad codes, deaths."""
        for row in self.pick():
            nik = row.get("nik")
            row.spoil("nik_tanggal_salah", "nik", nik[:8] + "13" + nik[10:])
        for row in self.pick():
            nik = row.get("nik")
            row.spoil("nik_nomor_urut_0000", "nik", nik[:12] + "0000")
        for k, row in enumerate(self.pick()):
            nik = row.get("nik")
            row.spoil("nik_panjang_salah", "nik", nik[:-1] if k % 2 == 0 else nik + "7")
        for row in self.pick():
            nik = row.get("nik")
            day = int(nik[6:8])
            flipped = f"{day - 40 if day > 40 else day + 40:02d}"
            row.spoil("nik_jenis_kelamin_beda", "nik", self.new_nik(nik[:6] + flipped + nik[8:]))
        for row in self.pick():
            born = date.fromisoformat(row.get("tanggal_lahir"))
            shifted = born - timedelta(days=int(self.rng.integers(400, 3000)))
            row.spoil("nik_tanggal_lahir_beda", "tanggal_lahir", shifted.isoformat())
        for row, k in zip(self.pick(), self.rng.permutation(len(BAD_CODES)), strict=False):
            column, bad = BAD_CODES[int(k)]
            row.spoil("nilai_kode_salah", column, bad)

        def deceased_ok(row: _Row) -> bool:
            return bool(
                row.get("status_keluarga") == "aktif" and row.get("hubungan_keluarga") != "kepala_keluarga"
            )

        for row in self.pick(deceased_ok):
            born = date.fromisoformat(row.get("tanggal_lahir"))
            earliest = max(born + timedelta(days=30), date(2015, 1, 1))
            died = earliest + timedelta(
                days=int(self.rng.integers(0, max((date(2023, 6, 30) - earliest).days, 1)))
            )
            row.spoil("meninggal_masih_aktif", "status_hidup", "meninggal")
            row.values[_COL["tanggal_meninggal"]] = died.isoformat()
        for code in UNKNOWN_KELURAHAN[: PER_PROBLEM - 1]:
            for row in self.family_rows():
                row.spoil("kelurahan_tidak_dikenal", "kode_kelurahan", code)

    def duplicates(self) -> None:
        """Enter some people twice: a copy of the whole row a few rows later."""
        for source in self.pick():
            copy = _Row(list(source.values), source.family)
            copy.problems.append(
                {
                    "problem": "nik_duplikat",
                    "column": "nik",
                    "value": source.get("nik"),
                    "original": source.get("nik"),
                    "same_as": source,
                }
            )
            at = next(i for i, r in enumerate(self.rows) if r is source) + 1 + int(self.rng.integers(0, 5))
            self.rows.insert(min(at, len(self.rows)), copy)
            self.used.add(id(copy))

    def dates(self, serial_as_number: bool) -> None:
        for row in self.pick():
            born = date.fromisoformat(row.get("tanggal_lahir"))
            serial = (born - EXCEL_EPOCH).days
            row.spoil("tanggal_serial_excel", "tanggal_lahir", serial if serial_as_number else str(serial))
        for row in self.pick():
            born = date.fromisoformat(row.get("tanggal_lahir"))
            row.spoil("tanggal_dmy", "tanggal_lahir", born.strftime("%d/%m/%Y"))

    def cosmetics(self) -> None:
        for row in self.pick():
            row.spoil("nik_apostrof", "nik", "'" + row.get("nik"))
        for k, row in enumerate(self.pick()):
            column = ("nik", "nama", "jenis_lantai")[k % 3]
            row.spoil("spasi_berlebih", column, f"  {row.get(column)} ")

    def blank_rows(self, count: int = 3) -> None:
        for _ in range(count):
            row = _Row([None] * len(CANONICAL_COLUMNS), -1, blank=True)
            row.problems.append({"problem": "baris_kosong", "column": None, "value": None, "original": None})
            self.rows.append(row)


def _scientific(digits: str) -> str:
    return f"{float(digits):.5E}"


def _spoil_csv(rows: list[_Row], rng: np.random.Generator) -> list[_Row]:
    s = _Spoiler(rows, rng)
    s.common()
    for row in s.pick():
        row.spoil("nik_notasi_ilmiah", "nik", _scientific(row.get("nik")))
    family = s.family_rows()
    for row in family:
        row.spoil("kk_notasi_ilmiah", "nomor_kk", _scientific(row.get("nomor_kk")))
    for row in s.pick():
        row.spoil("nik_desimal_nol", "nik", row.get("nik") + ".0")
    s.cosmetics()
    s.dates(serial_as_number=False)
    s.duplicates()
    s.blank_rows()
    return s.rows


def _spoil_xlsx(rows: list[_Row], rng: np.random.Generator) -> list[_Row]:
    s = _Spoiler(rows, rng)
    s.common()
    for row in s.pick(count=2 * PER_PROBLEM):
        nik = row.get("nik")
        row.spoil("nik_angka_excel", "nik", float(nik[:15] + "0"))  # Excel keeps 15 significant digits
    s.cosmetics()
    s.dates(serial_as_number=True)
    s.duplicates()
    s.blank_rows()
    return s.rows


def _manifest_rows(rows: list[_Row], first_data_row: int) -> list[dict[str, Any]]:
    number = {id(r): first_data_row + i for i, r in enumerate(rows)}
    out = []
    for row in rows:
        for p in row.problems:
            entry = {"row": number[id(row)], **{k: v for k, v in p.items() if k != "same_as"}}
            if "same_as" in p:
                entry["same_as_row"] = number[id(p["same_as"])]
            out.append(entry)
    return sorted(out, key=lambda e: (e["row"], e["problem"]))


def _write_csv(rows: list[_Row], path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(CANONICAL_COLUMNS)
        for row in rows:
            w.writerow(["" if v is None else v for v in row.values])


FIXED_CREATED = datetime(2024, 1, 1)


def _write_xlsx(rows: list[_Row], path: Path) -> None:
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path))
    # A fixed creation date: xlsxwriter also stamps the zip's parts with it, so the same seed gives the same bytes.
    book.set_properties({"created": FIXED_CREATED})
    ws = book.add_worksheet("DTKS")
    title = book.add_format({"bold": True, "align": "center"})
    ws.merge_range(0, 0, 0, len(CANONICAL_COLUMNS) - 1, "DATA KELUARGA - DINAS SOSIAL KOTA BEKASI", title)
    ws.write_row(1, 0, CANONICAL_COLUMNS)
    empty = book.add_format({"border": 1})
    for r, row in enumerate(rows, start=2):
        for c, value in enumerate(row.values):
            if row.blank:
                ws.write_blank(r, c, None, empty)
            elif isinstance(value, (int, float)):
                ws.write_number(r, c, value)
            elif value is not None:
                ws.write_string(r, c, value)
    book.close()


def write_messy_files(out_dir: Path, seed: int, families: int = 200) -> list[Path]:
    """Write ``registri_kotor.csv``, ``registri_kotor.xlsx`` and ``manifest.json`` into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    csv_rows = _spoil_csv(_rows(families, seed), rng)
    xlsx_rows = _spoil_xlsx(_rows(families, seed + 1), rng)
    csv_path, xlsx_path = out / "registri_kotor.csv", out / "registri_kotor.xlsx"
    _write_csv(csv_rows, csv_path)
    _write_xlsx(xlsx_rows, xlsx_path)
    manifest = {
        "seed": seed,
        "families": families,
        "problems": {
            code: {"keterangan": text, "tingkat": level} for code, (text, level) in PROBLEMS.items()
        },
        "files": {
            csv_path.name: {
                "format": "csv",
                "header_row": 1,
                "first_data_row": 2,
                "last_row": 1 + len(csv_rows),
                "file_problems": [],
                "rows": _manifest_rows(csv_rows, 2),
            },
            xlsx_path.name: {
                "format": "xlsx",
                "header_row": 2,
                "first_data_row": 3,
                "last_row": 2 + len(xlsx_rows),
                "file_problems": [{"row": 1, "problem": "baris_judul"}],
                "rows": _manifest_rows(xlsx_rows, 3),
            },
        },
    }
    manifest_path = out / "manifest.json"
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    return [csv_path, xlsx_path, manifest_path]
