"""The vectorised row checks agree with the one-value domain checks and catch every problem."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tepat.domain.nik import check_kk, check_nik
from tepat.domain.office import Office, Offices
from tepat.files.canonical import CANONICAL_COLUMNS
from tepat.files.readers import ROW
from tepat.files.row_checks import CheckContext, RowChecker, check_identifiers, parse_dates
from tests.registry_files import KELURAHAN, kk, nik, row

CTX = CheckContext.build([KELURAHAN, "32.75.01.1002", "32.75.02.1001"], "", today=date(2026, 11, 28))


def _vector(
    values: list[object], kind: str, excel: list[bool] | None = None
) -> list[tuple[str | None, str | None]]:
    flags = pl.Series(excel, dtype=pl.Boolean) if excel else None
    out = check_identifiers(pl.Series(values, dtype=pl.String), kind, flags)
    return list(zip(out["digits"].to_list(), out["error"].to_list(), strict=True))


def _domain(value: object, kind: str) -> tuple[str | None, str | None]:
    result = check_nik(value) if kind == "NIK" else check_kk(value)
    return (result.value if result.valid else None), ("; ".join(result.errors) or None)


digit = st.sampled_from("0123456789")
messy_identifier = st.one_of(
    st.text(digit, min_size=16, max_size=16),
    st.builds(lambda d: f"3275{d}", st.text(digit, min_size=12, max_size=12)),
    st.builds(
        lambda p, d, s: f"{p}{d}{s}",
        st.sampled_from(["", "'", " ", "\u00a0", "`", "\u2019"]),
        st.text(digit, min_size=14, max_size=17),
        st.sampled_from(["", ".0", ",00", " ", ".5"]),
    ),
    st.builds(
        lambda a, b, e: f"{a}.{b}E+{e}",
        digit,
        st.text(digit, min_size=1, max_size=6),
        st.sampled_from(["15", "14", "16"]),
    ),
    st.text(st.sampled_from("0123456789 .,'eE+-aX\u00a0"), max_size=20),
    st.builds(
        lambda d, mm: f"327501{d}{mm}90{'0001'}",
        st.integers(0, 99).map(lambda x: f"{x:02d}"),
        st.integers(0, 19).map(lambda x: f"{x:02d}"),
    ),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(messy_identifier, min_size=1, max_size=30), st.sampled_from(["NIK", "KK"]))
def test_vectorised_identifier_check_agrees_with_domain(values: list[str], kind: str) -> None:
    assert _vector(list(values), kind) == [_domain(v, kind) for v in values]


@pytest.mark.parametrize("kind", ["NIK", "KK"])
def test_identifier_edge_cases_agree(kind: str) -> None:
    values: list[object] = [
        None,
        "",
        "   ",
        "3275014501900001",
        "3275010000000000",
        "0000001501900001",
        "3275011302900001",
        "3275012902010001",
        "3275016902000001",
        "3275017202000001",
        "3275011301900000",
        "32750145019000012",
        "327501450190",
        "3.27501E+15",
        "3275014501900001.0",
        "'3275014501900001",
        "3275 0145 0190 0001",
        "32750145O1900001",
    ]
    assert _vector(values, kind) == [_domain(v, kind) for v in values]


def test_excel_number_cells_follow_the_float_rule() -> None:
    cells = ["3275014501900001", "3275014501900010", "123.5", "12345"]
    floats = [3275014501900001.0, 3275014501900010.0, 123.5, 12345.0]
    assert _vector(cells, "NIK", [True] * 4) == [_domain(f, "NIK") for f in floats]


def test_dates_in_every_spreadsheet_shape() -> None:
    values = [
        "1990-01-05",
        "05/01/1990",
        "5/1/1990",
        "05-01-1990",
        "05.01.1990",
        "32878",
        "32878.0",
        "1990-01-05 00:00:00",
        "31/02/1990",
        "1990/01/05",
        "kemarin",
        None,
    ]
    got = parse_dates(pl.Series("v", values, dtype=pl.String)).to_list()
    jan5 = date(1990, 1, 5)
    assert got == [jan5, jan5, jan5, jan5, jan5, jan5, jan5, jan5, None, None, None, None]


def _batch(rows: list[dict[str, str]], first_row: int = 2) -> pl.DataFrame:
    frame = pl.DataFrame(rows, schema={c: pl.String for c in CANONICAL_COLUMNS})
    frame = frame.with_columns(pl.col(c).replace("", None) for c in CANONICAL_COLUMNS)
    return frame.with_columns(pl.int_range(first_row, first_row + frame.height, dtype=pl.Int64).alias(ROW))


def _errors(
    checker: RowChecker, rows: list[dict[str, str]], first_row: int = 2
) -> list[tuple[int, str, str | None, str]]:
    return [tuple(r) for r in checker.check(_batch(rows, first_row)).errors.iter_rows()]  # type: ignore[misc]


def test_a_clean_row_passes_with_canonical_values() -> None:
    number = kk()
    r = row(
        number,
        nik=nik(date(1983, 2, 3), "P"),
        sex="P",
        birth=date(1983, 2, 3),
        jenis_kelamin="Perempuan",
        hubungan_keluarga="Istri/suami",
        aset_kulkas="ya",
        aset_televisi="tidak",
        tanggal_lahir="03/02/1983",
        kode_kelurahan="3275011001",
        daya_listrik="900 VA",
        rw="03",
        luas_lantai="36.0",
    )
    checked = RowChecker(CTX, CANONICAL_COLUMNS).check(_batch([r]))
    assert checked.errors.height == 0
    got = checked.valid.row(0, named=True)
    assert got["jenis_kelamin"] == "P" and got["hubungan_keluarga"] == "istri_suami"
    assert got["aset_kulkas"] is True and got["aset_televisi"] is False
    assert got["tanggal_lahir"] == date(1983, 2, 3) and got["kode_kelurahan"] == KELURAHAN
    assert got["daya_listrik"] == "900" and got["rw"] == 3 and got["luas_lantai"] == 36


def test_every_field_problem_is_reported_with_row_column_value_message() -> None:
    number = kk()
    bad = row(
        number,
        rw="tiga",
        rt="1000",
        kode_kelurahan="32.75.99.9999",
        status_rumah="istana",
        aset_ac="mungkin",
        nama="",
        tanggal_lahir="31/02/1980",
        alamat="x" * 201,
        hamil="2",
    )
    got = {(r[1], r[2]): r[3] for r in _errors(RowChecker(CTX, CANONICAL_COLUMNS), [bad])}
    assert got[("rw", "tiga")] == "RW harus bilangan bulat"
    assert got[("rt", "1000")] == "RT harus antara 1 dan 999"
    assert (
        got[("kode_kelurahan", "32.75.99.9999")]
        == "Kode kelurahan tidak ada dalam daftar wilayah Kepmendagri 2025"
    )
    assert got[("status_rumah", "istana")].startswith(
        "Status kepemilikan rumah tidak dikenal; pilihan: Milik sendiri"
    )
    assert got[("aset_ac", "mungkin")] == "AC harus 1/0 atau ya/tidak"
    assert got[("nama", None)] == "Nama lengkap wajib diisi"
    assert (
        got[("tanggal_lahir", "31/02/1980")]
        == "Tanggal lahir bukan tanggal yang sah (gunakan YYYY-MM-DD atau DD/MM/YYYY)"
    )
    assert got[("alamat", "x" * 201)] == "Alamat paling panjang 200 karakter"
    assert got[("hamil", "2")] == "Sedang hamil harus 1/0 atau ya/tidak"


def test_nik_must_match_birth_date_and_sex() -> None:
    number = kk()
    r1 = row(number, nik=nik(date(1980, 5, 17), "L"), tanggal_lahir="1980-05-18")
    r2 = row(
        number,
        name="Siti",
        nik=nik(date(1983, 2, 3), "P"),
        birth=date(1983, 2, 3),
        jenis_kelamin="L",
        relationship="istri_suami",
    )
    got = _errors(RowChecker(CTX, CANONICAL_COLUMNS), [r1, r2])
    assert got == [
        (
            2,
            "tanggal_lahir",
            "1980-05-18",
            "Tanggal lahir tidak sesuai dengan tanggal lahir pada NIK (17-05-80)",
        ),
        (3, "jenis_kelamin", "L", "Jenis kelamin tidak sesuai dengan NIK (NIK menunjukkan perempuan)"),
    ]


def test_duplicate_nik_and_disagreeing_family_columns_across_batches() -> None:
    checker = RowChecker(CTX, CANONICAL_COLUMNS)
    number = kk()
    first = row(number)
    assert _errors(checker, [first], 2) == []
    again = dict(first, nama="Budi Lain")
    other = row(
        number, name="Anak", birth=date(2010, 1, 1), relationship="anak", rt="6", jenis_lantai="tanah"
    )
    got = _errors(checker, [again, other], 3)
    assert got == [
        (3, "nik", first["nik"], "NIK ganda: sudah ada di baris 2"),
        (4, "rt", "6", "RT berbeda dengan baris 2 untuk nomor KK yang sama"),
        (4, "jenis_lantai", "tanah", "Jenis lantai terluas berbeda dengan baris 2 untuk nomor KK yang sama"),
    ]


def test_family_values_written_differently_but_meaning_the_same_agree() -> None:
    number = kk()
    a = row(number, aset_kulkas="1", kode_kelurahan="3275011001")
    b = row(
        number,
        name="Siti",
        sex="P",
        birth=date(1983, 2, 3),
        relationship="istri_suami",
        aset_kulkas="Ya",
        kode_kelurahan="32.75.01.1001",
    )
    assert _errors(RowChecker(CTX, CANONICAL_COLUMNS), [a, b]) == []


def test_rows_outside_the_actors_area_are_rejected() -> None:
    ctx = CheckContext.build([KELURAHAN, "32.75.02.1001"], "32.75.01", today=date(2026, 11, 28))
    got = _errors(RowChecker(ctx, CANONICAL_COLUMNS), [row(kk(), kelurahan="32.75.02.1001")])
    assert got == [(2, "kode_kelurahan", "32.75.02.1001", "Kelurahan di luar wilayah kerja Anda (32.75.01)")]


def test_rows_of_a_kabupaten_kota_the_database_does_not_serve_are_rejected() -> None:
    """Even for an account of every area: a family lives in an office the database serves (on PostgreSQL that
    office has the partitions that hold it)."""
    offices = Offices((Office(code="32.75", name="Kota Bekasi", province_name="Jawa Barat"),))
    ctx = CheckContext.build([KELURAHAN, "32.76.01.1006"], "", today=date(2026, 11, 28), offices=offices)
    got = _errors(RowChecker(ctx, CANONICAL_COLUMNS), [row(kk(), kelurahan="32.76.01.1006")])
    assert got == [
        (2, "kode_kelurahan", "32.76.01.1006", "Kelurahan ini di luar kabupaten/kota yang dilayani (32.75).")
    ]


def test_an_import_reads_dtks_relation_labels() -> None:
    number = kk()
    labels = {"ISTRI": "istri_suami", "Anak Kandung": "anak", "KRT": "kepala_keluarga", "Pembantu": "lainnya"}
    rows = [
        row(number, nik=nik(date(1983, 2, 3), "P"), sex="P", birth=date(1983, 2, 3), hubungan_keluarga=text)
        for text in labels
    ]
    checked = RowChecker(CTX, CANONICAL_COLUMNS).check(_batch(rows))
    assert [r["hubungan_keluarga"] for r in checked.valid.iter_rows(named=True)] == list(labels.values())
