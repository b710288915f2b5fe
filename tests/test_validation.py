"""Single-record validation against the field catalogue."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from tepat.domain.households import FAMILY_FIELDS, MEMBER_FIELDS
from tepat.domain.regions import RegionCode
from tepat.domain.validation import parse_bool, parse_date, validate_family, validate_member
from tests.factories import family_values, member_values

KELURAHAN = frozenset({"32.75.01.1001"})


def test_a_complete_family_is_clean():
    clean, errors = validate_family(family_values(), known_kelurahan=KELURAHAN)
    assert errors == []
    assert clean["rw"] == 3 and clean["floor_material"] == "keramik"


def test_required_fields_are_reported_by_label():
    _, errors = validate_family({}, known_kelurahan=KELURAHAN)
    assert {e.field for e in errors} == {f.name for f in FAMILY_FIELDS if f.required}
    assert any(e.message == "Nomor KK wajib diisi" for e in errors)


def test_partial_validation_checks_only_given_fields():
    clean, errors = validate_family({"rt": "007"}, partial=True, known_kelurahan=KELURAHAN)
    assert errors == [] and clean == {"rt": 7}


def test_enum_accepts_code_or_label():
    clean, errors = validate_family({"power_va": "900 VA", "cooking_fuel": "lpg_3kg"}, partial=True)
    assert errors == [] and clean == {"power_va": "900", "cooking_fuel": "lpg_3kg"}
    _, errors = validate_family({"floor_material": "emas"}, partial=True)
    assert errors[0].field == "floor_material" and "pilihan" in errors[0].message


def test_inactive_family_needs_a_reason():
    _, errors = validate_family(
        {"registry_status": "nonaktif"}, partial=True, current={"registry_status": "aktif"}
    )
    assert [e.field for e in errors] == ["inactive_reason"]


def test_member_must_agree_with_nik():
    values = member_values(birth=date(1980, 5, 17))
    clean, errors = validate_member(values)
    assert errors == [] and clean["birth_date"] == date(1980, 5, 17)
    _, errors = validate_member({**values, "birth_date": "18/05/1980"})
    assert [e.field for e in errors] == ["birth_date"]


def test_member_rules_between_fields():
    values = member_values(pregnant="ya", life_status="hidup", death_date="2020-01-01")
    _, errors = validate_member(values)
    assert {e.field for e in errors} == {"pregnant", "death_date"}


def test_every_required_member_field_is_reported():
    _, errors = validate_member({})
    assert {e.field for e in errors} == {f.name for f in MEMBER_FIELDS if f.required}


def test_parsers():
    assert parse_date("17/08/1945") == parse_date("1945-08-17") == date(1945, 8, 17)
    assert parse_bool("Ya") is True and parse_bool("0") is False
    assert str(RegionCode.parse("3275011001")) == "32.75.01.1001"


@given(
    st.dictionaries(
        st.sampled_from([f.name for f in FAMILY_FIELDS]),
        st.one_of(st.none(), st.text(max_size=12), st.integers()),
    )
)
def test_family_validation_never_crashes_and_never_returns_a_bad_field_as_clean(values):
    clean, errors = validate_family(values, partial=True, known_kelurahan=KELURAHAN)
    assert not (set(clean) & {e.field for e in errors} - {"inactive_reason"})


def test_statuses_default_on_create_and_cannot_be_emptied_by_an_edit():
    clean, errors = validate_family(family_values(), known_kelurahan=KELURAHAN)
    assert errors == [] and clean["registry_status"] == "aktif" and clean["verification_status"] == "belum"
    _, errors = validate_family({"verification_status": ""}, partial=True)
    assert [(e.field, e.message) for e in errors] == [
        ("verification_status", "Status verifikasi wajib diisi")
    ]
    clean, errors = validate_member(member_values())
    assert errors == [] and clean["life_status"] == "hidup"
    _, errors = validate_member({"life_status": " "}, partial=True)
    assert [e.field for e in errors] == ["life_status"]


def test_dtks_relation_labels_are_recognised_without_a_mapping():
    expected = {
        "Istri": "istri_suami",
        "SUAMI": "istri_suami",
        "Kepala Rumah Tangga": "kepala_keluarga",
        "KRT": "kepala_keluarga",
        "Kepala Keluarga": "kepala_keluarga",
        "Anak Kandung": "anak",
        "ANAK TIRI": "anak",
        "Orang Tua": "orang_tua",
        "MERTUA": "mertua",
        "Famili Lain": "famili_lain",
        "Pembantu": "lainnya",
        "PEMBANTU": "lainnya",
    }
    for text, code in expected.items():
        clean, errors = validate_member({"relationship": text}, partial=True)
        assert errors == [] and clean == {"relationship": code}, text
    _, errors = validate_member({"relationship": "Tetangga"}, partial=True)
    assert errors and errors[0].field == "relationship"
