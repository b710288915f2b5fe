"""Field verification: the work list, a visit and its effect on the registry."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from tepat.domain.access import Role
from tepat.domain.verification import VisitDecision, is_due, parse_gps
from tepat.errors import ConflictError, NotFound, PermissionDenied, ValidationError
from tepat.services import case_submissions, registry_history, registry_reads, verification
from tests.conftest import actor
from tests.factories import KELURAHAN, OTHER_KELURAHAN, make_family

NOW = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


def clock() -> datetime:
    return NOW


def test_due_rule() -> None:
    assert is_due(None, date(2026, 1, 1))
    assert is_due(date(2024, 1, 1), date(2026, 1, 1))
    assert not is_due(date(2024, 1, 2), date(2026, 1, 1))
    assert not is_due(date(2024, 2, 29), date(2026, 2, 27)) and is_due(date(2024, 2, 29), date(2026, 2, 28))
    assert VisitDecision.KUNJUNGAN_ULANG.verification_status is None


def test_gps_is_optional_but_checked() -> None:
    assert parse_gps("", "") is None
    assert parse_gps("-6.2383", "106.9756").latitude == pytest.approx(-6.2383)
    with pytest.raises(ValidationError):
        parse_gps("-96", "106")
    with pytest.raises(ValidationError):
        parse_gps("utara", "106")


def test_work_list_and_visit_update_the_registry_with_history(db, admin, tmp_path: Path) -> None:
    due = make_family(db, admin, floor_material="keramik", power_va="900")
    fresh = make_family(db, admin, verification_status="terverifikasi", verified_on="2025-06-01")
    far = make_family(db, admin, OTHER_KELURAHAN)
    verifier = actor(Role.VERIFIER, KELURAHAN, "vera")
    work = verification.work_list(db, verifier, clock=clock)
    assert [f["id"] for f in work.families_due] == [due]
    assert fresh not in [f["id"] for f in work.families_due] and far not in [
        f["id"] for f in work.families_due
    ]

    version = registry_reads.get_family(db, admin, due).family["version"]
    visit_id = verification.record_visit(
        db,
        verifier,
        due,
        observed={"floor_material": "tanah", "power_va": "900", "roof_material": ""},
        decision="layak",
        expected_version=version,
        note="Lantai tanah, atap bocor",
        gps=parse_gps("-6.24", "106.99"),
        photos=[case_submissions.Evidence(io.BytesIO(JPEG), "foto_kunjungan")],
        upload_dir=tmp_path / "unggahan",
        clock=clock,
    )
    fam = registry_reads.get_family(db, admin, due).family
    assert fam["floor_material"] == "tanah" and fam["power_va"] == "900"
    assert fam["verification_status"] == "terverifikasi" and fam["verified_on"] == date(2026, 3, 2)
    assert fam["changed_by"] == "vera" and fam["version"] == version + 1
    change = next(
        h
        for h in registry_history.family_history(db, admin, due)
        if h.reason.startswith("Verifikasi lapangan")
    )
    assert ("Jenis lantai terluas", "keramik", "tanah") in change.changes and change.actor == "vera"
    visits = verification.visits(db, admin, due)
    assert visits[0]["id"] == visit_id and visits[0]["changed_fields"] == ["floor_material"]
    assert visits[0]["latitude"] == pytest.approx(-6.24)
    assert due not in [f["id"] for f in verification.work_list(db, verifier, clock=clock).families_due]

    with pytest.raises(ConflictError):  # someone else's visit saved first
        verification.record_visit(
            db, verifier, due, observed={}, decision="layak", expected_version=version, clock=clock
        )


def test_visit_rules(db, admin) -> None:
    family_id = make_family(db, admin)
    version = registry_reads.get_family(db, admin, family_id).family["version"]
    with pytest.raises(NotFound):
        verification.record_visit(
            db,
            actor(Role.VERIFIER, OTHER_KELURAHAN),
            family_id,
            observed={},
            decision="layak",
            expected_version=version,
        )
    with pytest.raises(PermissionDenied):
        verification.record_visit(
            db,
            actor(Role.FINANCE, KELURAHAN),
            family_id,
            observed={},
            decision="layak",
            expected_version=version,
        )
    with pytest.raises(ValidationError):
        verification.record_visit(
            db,
            actor(Role.VERIFIER, KELURAHAN),
            family_id,
            observed={"floor_material": "emas"},
            decision="layak",
            expected_version=version,
        )
    # "nobody home" changes nothing in the registry
    verification.record_visit(
        db,
        actor(Role.VERIFIER, KELURAHAN),
        family_id,
        observed={},
        decision="kunjungan_ulang",
        expected_version=version,
    )
    assert registry_reads.get_family(db, admin, family_id).family["version"] == version


def test_work_list_pages_counts_filters_and_sorts_families_due(db, admin) -> None:
    never = [make_family(db, admin) for _ in range(3)]
    old = make_family(db, admin, verification_status="terverifikasi", verified_on="2020-05-01")
    older = make_family(db, admin, verification_status="terverifikasi", verified_on="2019-01-01")
    rw9 = make_family(db, admin, rw=9)
    verifier = actor(Role.VERIFIER, KELURAHAN, "vera")
    first = verification.work_list(db, verifier, clock=clock, per_page=2)
    assert first.families_due_total == 6 and len(first.families_due) == 2 and first.has_next
    pages = [
        verification.work_list(db, verifier, clock=clock, per_page=2, page=p).families_due for p in (1, 2, 3)
    ]
    ids = [f["id"] for page in pages for f in page]
    assert sorted(ids) == sorted([*never, old, older, rw9])
    assert ids.index(older) < ids.index(old)  # oldest verification first, never-verified before both
    assert set(ids[:4]) == {*never, rw9}
    assert [f["id"] for f in verification.work_list(db, verifier, clock=clock, rw=9).families_due] == [rw9]
    five = verification.work_list(
        db, verifier, clock=clock, since_years=6
    )  # verified more than 6 years ago, or never
    assert older in [f["id"] for f in five.families_due] and old not in [f["id"] for f in five.families_due]
    assert (
        verification.work_list(db, verifier, clock=clock, kelurahan=OTHER_KELURAHAN).families_due_total == 0
    )
    assert verification.work_list(db, verifier, clock=clock).families_due[0]["head_name"] == "Budi Santoso"


def test_a_revisit_needed_changes_nothing_even_with_observations(db, admin) -> None:
    """Issue 13 point 14: "nobody home" leaves the registry as it was, whatever the form carried."""
    family_id = make_family(db, admin)
    before = registry_reads.get_family(db, admin, family_id).family
    other_floor = "tanah" if before["floor_material"] != "tanah" else "keramik"
    verification.record_visit(
        db,
        actor(Role.VERIFIER, KELURAHAN),
        family_id,
        observed={"floor_material": other_floor},
        decision="kunjungan_ulang",
        expected_version=before["version"],
    )
    after = registry_reads.get_family(db, admin, family_id).family
    assert (after["version"], after["floor_material"]) == (before["version"], before["floor_material"])
    visit = verification.visits(db, admin, family_id)[0]
    assert visit["decision"] == "kunjungan_ulang" and visit["changed_fields"] == []
    assert visit["observed"] == {"floor_material": other_floor}  # what was seen is kept with the visit
