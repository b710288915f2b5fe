"""One path for identifiers, dates and households (issue 14 point 5): ``Nik``, ``Kk`` and ``RegionCode`` value
objects, one ``parse_date``, one ``validate_household``, and the entry points that now go through them."""

from __future__ import annotations

import io
from datetime import date, datetime
from pathlib import Path

import pytest

from tepat.domain.nik import Kk, Nik, check_nik
from tepat.domain.regions import Level, RegionCode
from tepat.domain.validation import parse_date, validate_household
from tepat.errors import ValidationError
from tepat.services import case_submissions, registry
from tepat.services.status_check import StatusChecker
from tests.factories import KELURAHAN, family_values, kk, make_family, member_values

SECRET = "uji-" + "k" * 40


# ----------------------------------------------------------------- the value objects


def test_a_typed_number_loses_what_people_and_spreadsheets_add() -> None:
    for typed in (
        "3275015206902617",
        " 3275 0152 0690 2617 ",
        "3275-0152-0690-2617",
        "'3275015206902617",
        "3275015206902617.0",
        "3275\u00a0015206902617",
    ):
        assert Nik.typed(typed).digits == "3275015206902617", typed
    assert str(Kk.typed("3275 0115 0720 0001")) == "3275011507200001"


@pytest.mark.parametrize(
    "typed", ["", "123", "3275O15206902617", "32750152069026170", "3.27501E+15", "٣٢٧٥٠١٥٢٠٦٩٠٢٦١٧"]
)
def test_a_malformed_typed_number_is_named_on_its_field_with_where_to_find_it(typed: str) -> None:
    with pytest.raises(ValidationError) as nik_error:
        Nik.typed(typed)
    assert (
        nik_error.value.errors[0].field == "nik" and "lihat KTP atau KK" in nik_error.value.errors[0].message
    )
    with pytest.raises(ValidationError) as kk_error:
        Kk.typed(typed, field="to_kk")
    assert kk_error.value.errors[0].field == "to_kk" and "Kartu Keluarga" in kk_error.value.errors[0].message
    assert Nik.typed_or_none(typed) is None


@pytest.mark.parametrize(
    "raw",
    [
        "3275015206902617",
        "3275019906902617",
        "3275011302900000",
        "0000001705800001",
        "3275013102900001",
        3275011705800001.0,
    ],
)
def test_parse_takes_every_rule_of_the_check(raw: object) -> None:
    found = check_nik(raw)
    if found.valid:
        assert Nik.parse(raw).digits == found.value
    else:
        with pytest.raises(ValidationError) as error:
            Nik.parse(raw, field="members.0.nik")
        assert error.value.errors[0].field == "members.0.nik"
        assert error.value.errors[0].message == "; ".join(found.errors)


def test_a_nik_knows_its_region_and_its_mask() -> None:
    nik = Nik.parse("3275015206902617")
    assert nik.region_code == "32.75.01" and nik.masked == "3275**********17"
    assert (
        Nik.looks_like("3275015206902617") and not Nik.looks_like("3275 0152") and not Nik.looks_like("Siti")
    )


def test_region_codes_dotted_or_compact_at_every_level() -> None:
    assert [
        str(RegionCode.parse(raw)) for raw in ("32", "3276", "327601", "3276011006", " 32.76.01.1006 ")
    ] == ["32", "32.76", "32.76.01", "32.76.01.1006", "32.76.01.1006"]
    kelurahan = RegionCode.parse("3276011006", level=Level.KELURAHAN)
    assert kelurahan.level is Level.KELURAHAN and str(kelurahan.parent) == "32.76.01"
    assert RegionCode.parse("32.76").contains(kelurahan) and not RegionCode.parse("32.75").contains(kelurahan)
    assert RegionCode.parse("32.76").contains("32.76")
    for bad in ("32.7", "327", "32.76.01.10066", "Bekasi", "", None):
        with pytest.raises(ValueError):
            RegionCode.parse(bad)
    with pytest.raises(ValueError, match="kelurahan"):
        RegionCode.parse("32.76.01", level=Level.KELURAHAN)


def test_one_date_parser_reads_forms_files_and_stored_values() -> None:
    expected = date(2025, 7, 24)
    for raw in (
        "2025-07-24",
        "24/07/2025",
        "24-07-2025",
        "24.7.2025",
        "2025-07-24 10:31:00",
        "2025-07-24T10:31:00.123456+00:00",
        datetime(2025, 7, 24, 10, 31),
        expected,
    ):
        assert parse_date(raw) == expected, raw
    for bad in ("", "31/02/2025", "kemarin", "2025-7-24 "):
        with pytest.raises(ValueError):
            parse_date(bad)


# ----------------------------------------------------------------- one household check


def _household(*members: dict) -> tuple[dict, list[dict], list]:
    return validate_household(family_values(), list(members), require_head=True)


def test_a_household_needs_a_member_a_head_and_no_nik_twice() -> None:
    head = member_values("Joko Susilo", "L", date(1975, 1, 9))
    wife = member_values("Rina Wati", "P", date(1978, 4, 21), "istri_suami")
    family, people, errors = _household(head, {"nik": "", "name": ""}, wife)  # a form's spare row in between
    assert errors == [] and [p["name"] for p in people] == ["Joko Susilo", "Rina Wati"]
    assert family["kelurahan_code"] == KELURAHAN
    assert [e.message for e in _household()[2]] == ["Keluarga harus punya paling sedikit satu anggota"]
    assert [e.message for e in _household(wife)[2]] == ["Salah satu anggota harus kepala keluarga"]
    assert [e.message for e in _household(head, {**wife, "nik": head["nik"]})[2]][
        -1
    ] == "Ada NIK yang sama dua kali dalam keluarga ini"
    fields = [e.field for e in _household(head, {"nik": "", "name": ""}, {**wife, "nik": "123"})[2]]
    assert "members.2.nik" in fields  # the row as the form numbers it, spare rows counted


def test_the_registry_and_the_usul_refuse_the_same_household(db, admin, tmp_path: Path) -> None:
    wife = member_values("Rina Wati", "P", date(1978, 4, 21), "istri_suami")
    with pytest.raises(ValidationError) as usul:  # a proposal names its head ...
        case_submissions.submit_usul(
            db,
            tmp_path,
            family=family_values(),
            members=[wife],
            proposer_name="Rina",
            proposer_contact="",
            reason="uji",
            evidence=[case_submissions.Evidence(io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"0" * 40), "foto_rumah")],
        )
    assert [e.message for e in usul.value.errors] == ["Salah satu anggota harus kepala keluarga"]
    assert registry.create_family(
        db, admin, family_values(), [wife], reason="uji"
    )  # ... the registry's records may not
    head = member_values("Joko Susilo", "L", date(1975, 1, 9))
    for register in (
        lambda ms: registry.create_family(db, admin, family_values(), ms, reason="uji"),
        lambda ms: case_submissions.submit_usul(
            db,
            tmp_path,
            family=family_values(),
            members=ms,
            proposer_name="Joko",
            proposer_contact="",
            reason="uji",
            evidence=[],
        ),
    ):
        with pytest.raises(ValidationError) as twice:
            register([head, {**wife, "nik": head["nik"]}])
        assert "Ada NIK yang sama dua kali dalam keluarga ini" in [e.message for e in twice.value.errors]


# ----------------------------------------------------------------- entry points typed by people


def test_the_status_check_reads_a_nik_typed_with_dashes(db, admin) -> None:
    head = member_values("Alexander Zulkarnain", "L", date(1980, 5, 17))
    number = kk()
    make_family(db, admin, members=[head], kk_number=number)
    dashed = "-".join(head["nik"][i : i + 4] for i in range(0, 16, 4))
    answer = StatusChecker(db, SECRET).check(
        dashed, " ".join(number[i : i + 4] for i in range(0, 16, 4)), client="a"
    )
    assert answer.found
