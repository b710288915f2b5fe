"""NIK and KK parsing (DOMAIN.md §2)."""

from __future__ import annotations

import json
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from tepat.cli import app
from tepat.domain.nik import check_kk, check_nik, clean_identifier

KNOWN = frozenset({"32.75.01", "32.75.02"})


def nik_for(
    day: int, month: int, year: int, female: bool = False, serial: int = 1, region: str = "327501"
) -> str:
    return f"{region}{day + (40 if female else 0):02d}{month:02d}{year % 100:02d}{serial:04d}"


def test_valid_male_nik_gives_sex_birth_date_and_region():
    r = check_nik("3275011708450001", known_regions=KNOWN, today=date(2025, 7, 24))
    assert r.valid and r.sex == "L" and r.birth_date == date(1945, 8, 17) and r.region_code == "32.75.01"


def test_women_have_forty_added_to_the_day():
    r = check_nik(nik_for(5, 3, 1990, female=True), known_regions=KNOWN, today=date(2025, 1, 1))
    assert r.sex == "P" and r.birth_date == date(1990, 3, 5)


@pytest.mark.parametrize(
    ("nik", "fragment"),
    [
        ("327501170845000", "16 digit"),
        ("32750117084500011", "16 digit"),
        ("32750117O8450001", "hanya boleh berisi angka"),
        ("3275013002900001", "bukan tanggal yang ada"),  # 30 Feb
        ("3275013506900001", "harus 01–31, atau 41–71"),  # day 35
        ("3275017206900001", "harus 01–31, atau 41–71"),  # day 72
        ("3275011513900001", "Bulan lahir"),  # month 13
        ("3275011708450000", "tidak boleh 0000"),
        ("3.27501E+15", "notasi ilmiah"),
        ("", "kosong"),
    ],
)
def test_invalid_niks_are_rejected_with_an_indonesian_message(nik, fragment):
    r = check_nik(nik, known_regions=KNOWN)
    assert not r.valid
    assert any(fragment in e for e in r.errors), r.errors
    assert "sex" not in r.as_dict() and "birth_date" not in r.as_dict()


def test_leap_day_follows_the_century():
    # 29 Feb 00 exists (2000); 29 Feb 01 does not exist in 1901 nor 2001
    assert check_nik("3275012902000001").valid
    assert not check_nik("3275012902010001").valid


def test_unknown_region_is_only_a_warning():
    r = check_nik("9999011708450001", known_regions=KNOWN)
    assert r.valid and r.warnings and "32.75" not in r.warnings[0]


def test_century_prefers_the_recorded_birth_date():
    r = check_nik("3275010101200001", today=date(2025, 1, 1), birth_date_hint=date(1920, 1, 1))
    assert r.birth_date == date(1920, 1, 1)
    assert check_nik("3275010101200001", today=date(2025, 1, 1)).birth_date == date(2020, 1, 1)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("'3275011708450001", "3275011708450001"),
        (" 3275 0117 0845 0001 ", "3275011708450001"),
        ("3275011708450001.0", "3275011708450001"),
        (3275011708450001.0, "3275011708450001"),
        (3275011708450001, "3275011708450001"),
    ],
)
def test_spreadsheet_damage_is_undone_where_no_digit_was_lost(raw, expected):
    assert clean_identifier(raw) == (expected, None)


@pytest.mark.parametrize("raw", ["3.27501E+15", "3,27501E+15", 3.27501e15, 3275011708450010.0])
def test_lost_digits_are_refused(raw):
    digits, problem = clean_identifier(raw)
    assert digits is None and problem


@given(
    st.dates(min_value=date(1900, 1, 1), max_value=date(2024, 12, 31)),
    st.booleans(),
    st.integers(min_value=1, max_value=9999),
)
def test_any_real_birth_date_round_trips(birth, female, serial):
    nik = nik_for(birth.day, birth.month, birth.year, female, serial)
    r = check_nik(nik, today=date(2025, 1, 1), birth_date_hint=birth)
    assert r.valid, r.errors
    assert r.birth_date == birth and r.sex == ("P" if female else "L")


@given(st.text(max_size=20))
def test_the_checker_never_crashes(text):
    r = check_nik(text)
    assert r.valid == (not r.errors)


def test_kk_number_checks_date_and_serial():
    assert check_kk("3275011507200003", known_regions=KNOWN).valid
    assert not check_kk("3275013102200003").valid  # 31 Feb
    assert not check_kk("3275011507200000").valid


def test_cli_nik_check_json_shape():
    result = CliRunner().invoke(app, ["nik", "check", "3275014101900001", "--json"])
    assert result.exit_code == 0
    assert json.loads(result.output) == {
        "valid": True,
        "errors": [],
        "warnings": [],
        "sex": "P",
        "birth_date": "1990-01-01",
        "region_code": "32.75.01",
    }


def test_cli_nik_check_invalid_exits_one_with_message():
    result = CliRunner().invoke(app, ["nik", "check", "3275011708450000"])
    assert result.exit_code == 1
    assert result.output == "NIK tidak sah:\n  - Nomor urut NIK (4 digit terakhir) tidak boleh 0000\n"
