"""Messy registry files: every row the manifest names carries its problem, and no other row has one."""

from __future__ import annotations

import csv
import json
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from tepat.domain.households import CANONICAL_COLUMNS, FAMILY_FIELDS, MEMBER_FIELDS
from tepat.domain.nik import check_nik, clean_identifier
from tepat.domain.regions import Level, RegionIndex
from tepat.files.reference import read_regions
from tepat.synth import write_messy_files
from tepat.synth.messy import EXCEL_EPOCH, PROBLEMS

FIELDS = {f.column: f for f in FAMILY_FIELDS + MEMBER_FIELDS}
REFERENCE = date(2025, 6, 30)


@pytest.fixture(scope="module")
def messy(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("messy")
    paths = write_messy_files(out, seed=7, families=120)
    assert [p.name for p in paths] == ["registri_kotor.csv", "registri_kotor.xlsx", "manifest.json"]
    return out, json.loads((out / "manifest.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def kelurahan() -> set[str]:
    return {r.code for r in RegionIndex(read_regions()).descendants("32", Level.KELURAHAN)}


def _csv_sheet(path: Path) -> dict[int, dict[str, Any]]:
    """Rows as the spreadsheet numbers them (header = 1)."""
    with path.open(newline="", encoding="utf-8") as f:
        lines = list(csv.reader(f))
    assert tuple(lines[0]) == CANONICAL_COLUMNS
    return {i: dict(zip(CANONICAL_COLUMNS, line, strict=True)) for i, line in enumerate(lines[1:], start=2)}


def _xlsx_sheet(path: Path) -> tuple[dict[int, dict[str, Any]], Any]:
    from openpyxl import load_workbook

    ws = load_workbook(path).active
    assert tuple(c.value for c in ws[2]) == CANONICAL_COLUMNS
    rows = {}
    for r in range(3, ws.max_row + 1):
        rows[r] = {
            col: ("" if ws.cell(r, c + 1).value is None else ws.cell(r, c + 1).value)
            for c, col in enumerate(CANONICAL_COLUMNS)
        }
    return rows, ws


def _birth(value: Any) -> date:
    if isinstance(value, (int, float)):
        return EXCEL_EPOCH + timedelta(days=int(value))
    text = str(value).strip()
    if re.fullmatch(r"\d+", text):
        return EXCEL_EPOCH + timedelta(days=int(text))
    if re.fullmatch(r"\d\d/\d\d/\d{4}", text):
        d, m, y = text.split("/")
        return date(int(y), int(m), int(d))
    return date.fromisoformat(text)


def _carries(
    problem: str,
    entry: dict[str, Any],
    row: dict[str, Any],
    sheet: dict[int, dict[str, Any]],
    kelurahan: set[str],
) -> bool:
    """True when ``row`` really has ``problem``."""
    value = row[entry["column"]] if entry["column"] else None
    if problem == "baris_kosong":
        return all(v in ("", None) for v in row.values())
    if value != entry["value"]:
        return False
    if problem in ("nik_notasi_ilmiah", "kk_notasi_ilmiah"):
        return bool(re.fullmatch(r"\d\.\d{5}E\+15", value)) and clean_identifier(value)[0] is None
    if problem == "nik_angka_excel":
        # openpyxl gives an integer-valued number cell back as int; Excel itself holds a double.
        return isinstance(value, (int, float)) and clean_identifier(float(value))[0] is None
    if problem in ("nik_desimal_nol", "nik_apostrof"):
        return value != entry["original"] and clean_identifier(value)[0] == entry["original"]
    if problem == "spasi_berlebih":
        return value != value.strip() and value.strip() == entry["original"]
    if problem in ("tanggal_serial_excel", "tanggal_dmy"):
        return value != entry["original"] and _birth(value) == date.fromisoformat(entry["original"])
    if problem == "nik_duplikat":
        return sheet[entry["same_as_row"]]["nik"] == value and entry["same_as_row"] < entry["row"]
    if problem in ("nik_tanggal_salah", "nik_nomor_urut_0000", "nik_panjang_salah"):
        return not check_nik(value).valid
    if problem == "nik_jenis_kelamin_beda":
        r = check_nik(value, birth_date_hint=_birth(row["tanggal_lahir"]))
        return r.valid and r.sex != row["jenis_kelamin"]
    if problem == "nik_tanggal_lahir_beda":
        r = check_nik(row["nik"], birth_date_hint=_birth(value))
        return r.valid and r.birth_date != _birth(value)
    if problem == "meninggal_masih_aktif":
        died = date.fromisoformat(row["tanggal_meninggal"])
        return (
            value == "meninggal"
            and row["status_keluarga"] == "aktif"
            and died < REFERENCE - timedelta(days=365)
        )
    if problem == "kelurahan_tidak_dikenal":
        return value not in kelurahan
    if problem == "nilai_kode_salah":
        choices = FIELDS[entry["column"]].choices
        return choices is not None and value not in {c.value for c in choices}
    raise AssertionError(f"unknown problem {problem}")


def _clean(row: dict[str, Any], kelurahan: set[str]) -> bool:
    """True when a row has none of the problems."""
    nik = row["nik"]
    if not isinstance(nik, str) or nik != nik.strip() or not re.fullmatch(r"\d{16}", nik):
        return False
    born = date.fromisoformat(row["tanggal_lahir"])
    r = check_nik(nik, birth_date_hint=born)
    if not r.valid or r.sex != row["jenis_kelamin"] or r.birth_date != born:
        return False
    if not re.fullmatch(r"\d{16}", row["nomor_kk"]) or row["kode_kelurahan"] not in kelurahan:
        return False
    if row["status_hidup"] != "hidup":
        return False
    for column, spec in FIELDS.items():
        value = row[column]
        if (
            spec.choices is not None
            and value not in ("", None)
            and value not in {c.value for c in spec.choices}
        ):
            return False
        if isinstance(value, str) and value != value.strip():
            return False
    return True


def _check_file(
    rows: dict[int, dict[str, Any]], entries: list[dict[str, Any]], kelurahan: set[str]
) -> set[str]:
    named: dict[int, list[dict[str, Any]]] = {}
    for e in entries:
        named.setdefault(e["row"], []).append(e)
    for number, found in named.items():
        for e in found:
            assert e["problem"] in PROBLEMS
            assert _carries(e["problem"], e, rows[number], rows, kelurahan), e
    for number, row in rows.items():
        if number not in named:
            assert _clean(row, kelurahan), (number, row)
    return {e["problem"] for e in entries}


def test_manifest_describes_both_files(messy):
    _, manifest = messy
    assert set(manifest["files"]) == {"registri_kotor.csv", "registri_kotor.xlsx"}
    assert manifest["files"]["registri_kotor.csv"]["header_row"] == 1
    assert manifest["files"]["registri_kotor.xlsx"]["header_row"] == 2
    assert manifest["files"]["registri_kotor.xlsx"]["file_problems"] == [{"row": 1, "problem": "baris_judul"}]
    assert set(manifest["problems"]) == set(PROBLEMS)


def test_every_csv_row_named_in_the_manifest_carries_its_problem_and_no_other_row_has_one(messy, kelurahan):
    out, manifest = messy
    info = manifest["files"]["registri_kotor.csv"]
    rows = _csv_sheet(out / "registri_kotor.csv")
    assert max(rows) == info["last_row"]
    found = _check_file(rows, info["rows"], kelurahan)
    assert found == set(PROBLEMS) - {"baris_judul", "nik_angka_excel"}


def test_every_xlsx_row_named_in_the_manifest_carries_its_problem_and_no_other_row_has_one(messy, kelurahan):
    out, manifest = messy
    info = manifest["files"]["registri_kotor.xlsx"]
    rows, ws = _xlsx_sheet(out / "registri_kotor.xlsx")
    assert [str(r) for r in ws.merged_cells.ranges] == ["A1:AX1"] and ws["A1"].value.startswith(
        "DATA KELUARGA"
    )
    # Spreadsheet tools do not count trailing empty rows, so the sheet may end before the blank ones.
    assert max(rows) <= info["last_row"]
    entries = [e for e in info["rows"] if e["row"] in rows]
    found = _check_file(rows, entries, kelurahan)
    assert found >= set(PROBLEMS) - {
        "baris_judul",
        "baris_kosong",
        "nik_notasi_ilmiah",
        "kk_notasi_ilmiah",
        "nik_desimal_nol",
    }
    numeric = [e for e in entries if e["problem"] == "nik_angka_excel"]
    assert numeric and all(isinstance(rows[e["row"]]["nik"], (int, float)) for e in numeric)
    serial = [e for e in entries if e["problem"] == "tanggal_serial_excel"]
    assert serial and all(isinstance(rows[e["row"]]["tanggal_lahir"], int) for e in serial)


def test_messy_files_are_reproducible(tmp_path):
    """The same seed gives byte-identical files, the XLSX too (issue 19 point 6: its zip carried the clock)."""
    import time

    a = write_messy_files(tmp_path / "a", seed=3, families=30)
    time.sleep(2.1)  # zip times have a resolution of two seconds
    b = write_messy_files(tmp_path / "b", seed=3, families=30)
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]
