"""The programme catalogue: validation (Indonesian errors), the seed, edits with version check and audit."""

from __future__ import annotations

import pytest

from tepat.domain.access import Role
from tepat.domain.programmes import (
    amount_for,
    member_rule_as_rule,
    school_level,
    seed_catalogue,
    validate_programme,
)
from tepat.domain.rules import RuleError
from tepat.errors import ConflictError, NotFound, PermissionDenied, ValidationError
from tepat.services import programmes
from tepat.services.setup import init_database
from tepat.store import audit
from tests.conftest import actor
from tests.programme_support import base_programme


def _errors(values: dict) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        validate_programme(values)
    found: dict[str, str] = {}
    for e in caught.value.errors:
        found.setdefault(e.field, e.message)
    return found


def test_seed_catalogue_is_valid_and_matches_domain_md() -> None:
    by_code = {s.code: s for s in seed_catalogue("Kota Bekasi")}
    assert set(by_code) == {"BLT-APBD", "BPNT", "LKM-NIK", "BANTUAN-PENDIDIKAN", "BLK", "UMKM"}
    for spec in seed_catalogue("Kota Bekasi"):
        assert validate_programme(spec.as_row()) == spec
    assert (by_code["BLT-APBD"].amount, by_code["BLT-APBD"].unit, by_code["BLT-APBD"].frequency) == (
        250_000,
        "keluarga",
        "sekali",
    )
    assert "desil <= 4" in by_code["BLT-APBD"].rule and "terverifikasi" in by_code["BLT-APBD"].rule
    assert (by_code["BPNT"].amount, by_code["BPNT"].frequency, by_code["BPNT"].funding_source) == (
        200_000,
        "bulanan",
        "APBN",
    )
    assert by_code["BANTUAN-PENDIDIKAN"].amounts_by_level == {"SD": 450_000, "SMP": 750_000, "SMA": 1_800_000}
    assert by_code["LKM-NIK"].unit == "orang" and by_code["LKM-NIK"].coverage_months == 12
    assert by_code["BLK"].quota and by_code["BLK"].benefit_type == "pelatihan"


def test_validation_lists_every_problem_in_indonesian() -> None:
    errors = _errors(
        base_programme(
            code="blt apbd",
            unit="rumah",
            benefit_type="uang",
            funding_source="APBN2",
            frequency="mingguan",
            amount=-5,
            annual_budget="banyak",
            quota=0,
            rule="desil <= ",
            budget_year=1990,
        )
    )
    assert "Kode program" in errors["code"]
    assert errors["unit"].startswith("Satuan penerima harus salah satu dari: keluarga, orang")
    assert "tunai, barang, layanan, pelatihan" in errors["benefit_type"]
    assert "APBD, APBN" in errors["funding_source"]
    assert "sekali, bulanan, tahunan, angkatan" in errors["frequency"]
    assert errors["amount"] == "Besaran bantuan tidak boleh negatif"
    assert errors["annual_budget"] == "Anggaran tahunan harus bilangan bulat rupiah"
    assert errors["quota"] == "Kuota harus bilangan bulat lebih dari 0"
    assert errors["rule"].startswith("posisi 10:")
    assert "Tahun anggaran" in errors["budget_year"]


def test_levels_member_rule_and_service_coverage() -> None:
    errors = _errors(
        base_programme(unit="orang", amounts_by_level={"SD": 1, "TK": 2}, member_rule="umur >= x")
    )
    assert "Jenjang 'TK' tidak dikenal" in errors["amounts_by_level"]
    assert errors["member_rule"].startswith(
        "posisi 9:"
    )  # the position in what the admin typed, not in any(…)
    assert (
        "belum lengkap: SMP, SMA"
        in _errors(base_programme(unit="orang", amounts_by_level={"SD": 1}))["amounts_by_level"]
    )
    assert "satuan orang" in _errors(base_programme(member_rule="umur >= 6"))["member_rule"]
    assert (
        "satuan orang"
        in _errors(base_programme(amounts_by_level={"SD": 1, "SMP": 2, "SMA": 3}))["amounts_by_level"]
    )
    assert "lama jaminan" in _errors(base_programme(benefit_type="layanan", unit="orang"))["coverage_months"]
    assert "data keluarga" in _errors(base_programme(unit="orang", member_rule="desil <= 4"))["member_rule"]
    assert "dirinya sendiri" in _errors(base_programme(exclusions="UJI"))["exclusions"]
    ok = validate_programme(base_programme(amount="1.250.000", exclusions="bpnt, BLK"))
    assert ok.amount == 1_250_000 and ok.exclusions == ("BPNT", "BLK")
    typed = validate_programme(base_programme(amount="Rp 250.000", annual_budget="Rp1.000.000.000"))
    assert (typed.amount, typed.annual_budget) == (250_000, 1_000_000_000)  # as on the cycle's Pagu field
    assert "bilangan bulat rupiah" in _errors(base_programme(amount="Rp 250rb"))["amount"]


def test_member_rule_is_a_condition_inside_any_anggota() -> None:
    rule = member_rule_as_rule("umur >= 6 and sekolah")
    assert rule.source == "any(anggota, umur >= 6 and sekolah)"
    with pytest.raises(RuleError) as caught:
        member_rule_as_rule("any(anggota, umur > 3)")
    assert caught.value.position == 1 and "tidak boleh dipakai di dalam" in caught.value.reason


@pytest.mark.parametrize(
    ("education", "age", "level"),
    [
        ("tidak_belum_sekolah", 7, "SD"),
        ("sd", 13, "SMP"),
        ("smp", 16, "SMA"),
        ("sma", 18, None),
        ("s1", 17, None),
        (None, 5, None),
        (None, 6, "SD"),
        (None, 12, "SD"),
        (None, 13, "SMP"),
        (None, 15, "SMP"),
        (None, 16, "SMA"),
        (None, 18, "SMA"),
        (None, 19, None),
    ],
)
def test_school_level_from_education_then_age(education, age, level) -> None:
    assert school_level(education, age) == level
    assert amount_for(0, {"SD": 1, "SMP": 2, "SMA": 3}, level) == {"SD": 1, "SMP": 2, "SMA": 3}.get(
        level or "", 0
    )


def test_seed_is_idempotent_and_init_can_seed(db, admin) -> None:
    assert programmes.list_programmes(db, admin) == []
    assert len(programmes.seed_catalogue(db, admin)) == 6
    programmes.update_programme(db, admin, "BLT-APBD", 1, {"amount": 300_000})
    assert programmes.seed_catalogue(db, admin) == []
    assert init_database(db, seed_programmes=True).programmes_added == ()
    assert programmes.get_programme(db, admin, "blt-apbd")["amount"] == 300_000  # an edit survives re-seeding
    assert len(programmes.list_programmes(db, actor(Role.ANALYST))) == 6


def test_update_checks_version_role_and_audits_before_and_after(db, admin) -> None:
    programmes.seed_catalogue(db, admin)
    with pytest.raises(PermissionDenied):
        programmes.update_programme(db, actor(Role.OPERATOR, "32.75.01.1001"), "BPNT", 1, {"amount": 1})
    with pytest.raises(PermissionDenied):
        programmes.update_programme(db, admin, "BPNT", 1, {"unit": "orang"})
    with pytest.raises(ValidationError) as caught:
        programmes.update_programme(db, admin, "BPNT", 1, {"rule": "desil <== 4"})
    assert caught.value.errors[0].field == "rule"
    with pytest.raises(ValidationError):
        programmes.update_programme(db, admin, "BPNT", 1, {"exclusions": ["TIDAK-ADA"]})
    row = programmes.update_programme(db, admin, "BPNT", 1, {"amount": 150_000, "annual_budget": 9_000_000})
    assert (row["amount"], row["annual_budget"], row["version"], row["updated_by"]) == (
        150_000,
        9_000_000,
        2,
        "admin",
    )
    with pytest.raises(ConflictError):
        programmes.update_programme(db, admin, "BPNT", 1, {"amount": 175_000})
    with db.read() as conn:
        entry = audit.entries(conn, entity="programme", entity_id=row["id"])[0]
    assert entry["action"] == "programme.update"
    assert entry["detail"] == {
        "before": {"amount": 200_000, "annual_budget": None},
        "after": {"amount": 150_000, "annual_budget": 9_000_000},
    }
    with pytest.raises(NotFound):
        programmes.get_programme(db, admin, "TIDAK-ADA")


def test_create_refuses_duplicates_and_non_admins(db, admin) -> None:
    programmes.create_programme(db, admin, base_programme())
    with pytest.raises(ConflictError):
        programmes.create_programme(db, admin, base_programme())
    with pytest.raises(PermissionDenied):
        programmes.create_programme(db, actor(Role.FINANCE), base_programme(code="LAIN"))
    assert programmes.get_programme(db, admin, "UJI")["created_by"] == "admin"
