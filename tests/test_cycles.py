"""Benefit cycles: generate → submit → approve (maker-checker) → freeze; illegal moves; blocking; budget cap; close."""

from __future__ import annotations

import hashlib
from datetime import date

import pytest
import sqlalchemy as sa

from tepat.domain.access import Role
from tepat.domain.cycles import TRANSITIONS, CycleAction, CycleState, next_state
from tepat.errors import PermissionDenied, StateError, ValidationError
from tepat.services import cycles, enrolment, programmes, registry
from tepat.store import audit
from tepat.store import cycles as cycle_store
from tepat.store.schema import benefit_cycles, entitlements, families, members
from tests.conftest import actor
from tests.factories import OTHER_KELURAHAN
from tests.programme_support import CHECKER, ranked_registry
from tests.targeting_data import DAY

PERIOD = {"period_start": DAY, "period_end": date(2026, 7, 31)}


@pytest.fixture
def ranked(db, admin, tmp_path):
    ids, model_id = ranked_registry(db, admin, tmp_path)
    programmes.seed_catalogue(db, admin)
    with db.begin() as conn:  # BLT-APBD is for verified families only
        conn.execute(families.update().values(verification_status="terverifikasi"))
    return ids, model_id


def _rows(db, cycle_id):
    with db.read() as conn:
        return [
            dict(r)
            for r in conn.execute(
                sa.select(entitlements)
                .where(entitlements.c.cycle_id == cycle_id)
                .order_by(entitlements.c.rank)
            ).mappings()
        ]


def _approved(db, admin, code="BLT-APBD", **extra):
    cycle_id = cycles.create_cycle(db, admin, code, name=f"{code} Juli 2026", **PERIOD, **extra)
    cycles.generate(db, admin, cycle_id)
    cycles.submit(db, admin, cycle_id)
    cycles.approve(db, CHECKER, cycle_id)
    return cycle_id


def test_generate_copies_the_kept_candidates_with_their_recipient(db, admin, ranked) -> None:
    programmes.update_programme(db, admin, "BLT-APBD", 1, {"rule": 'desil <= 6 and status == "aktif"'})
    cycle_id = cycles.create_cycle(db, admin, "BLT-APBD", name="BLT-APBD Juli 2026", **PERIOD)
    result = cycles.generate(db, admin, cycle_id)
    listed = enrolment.candidates(db, admin, "BLT-APBD", reference_date=DAY, limit=500)
    rows = _rows(db, cycle_id)
    assert result["entitlements"] == len(rows) == listed.kept > 0
    assert [r["unit_key"] for r in rows] == [p["unit_key"] for p in listed.page if p["kept"]]
    assert [r["rank"] for r in rows] == list(range(1, len(rows) + 1))
    assert result["total_amount"] == sum(r["amount"] for r in rows) == 250_000 * len(rows)
    with db.read() as conn:
        for r in rows:
            head = conn.execute(sa.select(members).where(members.c.id == r["member_id"])).mappings().one()
            fam = conn.execute(sa.select(families).where(families.c.id == r["family_id"])).mappings().one()
            assert (head["nik"], head["name"], head["relationship"]) == (
                r["recipient_nik"],
                r["recipient_name"],
                "kepala_keluarga",
            )
            assert (fam["kk_number"], fam["kelurahan_code"], fam["address"]) == (
                r["kk_number"],
                r["kelurahan_code"],
                r["address"],
            )
            assert r["state"] == "terjadwal" and r["source"] == "aturan"
    cycle = cycles.show(db, admin, cycle_id)
    assert cycle.cycle.entitlements == len(rows) and cycle.cycle.model_id is not None
    assert sum(k["count"] for k in cycle.by_kelurahan) == len(rows)
    assert cycle.actions == [CycleAction.GENERATE, CycleAction.SUBMIT, CycleAction.CANCEL]
    # re-generating in draf replaces the rows with the programme as it is now
    programmes.update_programme(db, admin, "BLT-APBD", 2, {"amount": 300_000})
    again = cycles.generate(db, admin, cycle_id)
    assert again["entitlements"] == len(rows) and {r["amount"] for r in _rows(db, cycle_id)} == {300_000}


def test_education_entitlements_are_per_pupil_by_level(db, admin, ranked) -> None:
    cycle_id = cycles.create_cycle(db, admin, "BANTUAN-PENDIDIKAN", name="Pendidikan 2026/2027", **PERIOD)
    cycles.generate(db, admin, cycle_id)
    rows = _rows(db, cycle_id)
    assert rows and {r["level"] for r in rows} <= {"SD", "SMP", "SMA"}
    prices = {"SD": 450_000, "SMP": 750_000, "SMA": 1_800_000}
    assert all(r["amount"] == prices[r["level"]] and r["unit_key"] == r["member_id"] for r in rows)
    with db.read() as conn:
        pupil = conn.execute(sa.select(members.c.id).where(members.c.name == "Anak SMA")).scalar_one()
    assert [r["level"] for r in rows if r["member_id"] == pupil] in ([], ["SMA"])


def test_maker_checker_and_roles(db, admin, ranked) -> None:
    cycle_id = cycles.create_cycle(db, admin, "BLT-APBD", name="BLT-APBD Juli 2026", **PERIOD)
    with pytest.raises(StateError):
        cycles.submit(db, admin, cycle_id)  # nothing generated yet
    cycles.generate(db, admin, cycle_id)
    with pytest.raises(PermissionDenied):
        cycles.submit(db, actor(Role.OPERATOR, "32.75.01.1001"), cycle_id)
    submitter = actor(Role.ADMIN, "32.75", "pengaju")
    cycles.submit(db, submitter, cycle_id)
    for same in (admin, submitter):
        with pytest.raises(PermissionDenied) as caught:
            cycles.approve(db, same, cycle_id)
        assert "maker-checker" in caught.value.message
    with pytest.raises(PermissionDenied):
        cycles.approve(db, actor(Role.FINANCE), cycle_id)
    with pytest.raises(PermissionDenied):
        cycles.create_cycle(db, actor(Role.ANALYST), "BLT-APBD", name="x", **PERIOD)
    assert CycleAction.APPROVE not in cycles.show(db, admin, cycle_id).actions
    assert CycleAction.APPROVE in cycles.show(db, CHECKER, cycle_id).actions
    result = cycles.approve(db, CHECKER, cycle_id)
    cycle = cycles.show(db, admin, cycle_id).cycle
    assert (cycle.state, cycle.approved_by, cycle.snapshot_sha256) == (
        "disetujui",
        "kepala.bidang",
        result["snapshot_sha256"],
    )
    with db.read() as conn:
        assert [e["action"] for e in audit.entries(conn, entity="benefit_cycle", entity_id=cycle_id)] == [
            "cycle.approve",
            "cycle.submit",
            "cycle.generate",
            "cycle.create",
        ]


@pytest.mark.parametrize("state", [s.value for s in CycleState])
def test_every_illegal_transition_is_refused(db, admin, ranked, state) -> None:
    cycle_id = cycles.create_cycle(db, admin, "BLT-APBD", name="uji", **PERIOD)
    cycles.generate(db, admin, cycle_id)
    with db.begin() as conn:
        conn.execute(
            benefit_cycles.update()
            .where(benefit_cycles.c.id == cycle_id)
            .values(state=state, submitted_by="pengaju")
        )
    calls = {
        CycleAction.GENERATE: lambda: cycles.generate(db, CHECKER, cycle_id),
        CycleAction.SUBMIT: lambda: cycles.submit(db, CHECKER, cycle_id),
        CycleAction.APPROVE: lambda: cycles.approve(db, CHECKER, cycle_id),
        CycleAction.RETURN: lambda: cycles.return_to_draft(db, CHECKER, cycle_id),
        CycleAction.CANCEL: lambda: cycles.cancel(db, CHECKER, cycle_id, "salah program"),
        CycleAction.CLOSE: lambda: cycles.close(db, CHECKER, cycle_id),
    }
    for action, call in calls.items():
        if (CycleState(state), action) in TRANSITIONS:
            continue
        with pytest.raises(StateError) as caught:
            call()
        assert "tidak diizinkan" in caught.value.message
        with pytest.raises(StateError):
            next_state(state, action)
    with db.read() as conn:
        assert (
            conn.execute(
                sa.select(benefit_cycles.c.state).where(benefit_cycles.c.id == cycle_id)
            ).scalar_one()
            == state
        )


def test_return_cancel_and_close(db, admin, ranked) -> None:
    cycle_id = cycles.create_cycle(db, admin, "BLT-APBD", name="uji", **PERIOD)
    cycles.generate(db, admin, cycle_id)
    cycles.submit(db, admin, cycle_id)
    cycles.return_to_draft(db, CHECKER, cycle_id, "periksa ulang RW 3")
    assert cycles.show(db, admin, cycle_id).cycle.state == "draf"
    with pytest.raises(ValidationError):
        cycles.cancel(db, admin, cycle_id, "")
    cycles.cancel(db, admin, cycle_id, "salah periode")
    assert cycles.show(db, admin, cycle_id).cycle.cancel_reason == "salah periode"
    approved = _approved(db, admin)
    with pytest.raises(StateError) as caught:
        cycles.close(db, admin, approved)
    assert "belum dapat ditutup" in caught.value.message
    with db.begin() as conn:
        conn.execute(
            entitlements.update()
            .where(entitlements.c.cycle_id == approved, entitlements.c.state == "terjadwal")
            .values(state="dibayar")
        )
    cycles.close(db, admin, approved)
    assert cycles.show(db, admin, approved).cycle.state == "ditutup"


def test_frozen_snapshot_is_unchanged_after_registry_edits(db, admin, ranked) -> None:
    cycle_id = _approved(db, admin)
    before = _rows(db, cycle_id)
    sha = cycles.show(db, admin, cycle_id).cycle.snapshot_sha256
    assert len(before) > 2 and cycles.verify_snapshot(db, admin, cycle_id)
    # the documented format, so any database (or anyone with the rows) gets the same digest
    lines = "".join(
        "\x1f".join("\\N" if r[c] is None else str(r[c]) for c in cycle_store.DIGEST_COLUMNS) + "\n"
        for r in sorted(before, key=lambda r: (r["rank"], r["unit_key"]))
    )
    assert hashlib.sha256(lines.encode()).hexdigest() == sha
    first, second, third = before[0], before[1], before[2]
    with db.read() as conn:
        head = conn.execute(sa.select(members).where(members.c.id == first["member_id"])).mappings().one()
        fam = conn.execute(sa.select(families).where(families.c.id == second["family_id"])).mappings().one()
        other = conn.execute(sa.select(members).where(members.c.id == third["member_id"])).mappings().one()
    registry.update_member(
        db,
        admin,
        head["id"],
        {"name": "Nama Baru Sekali"},
        expected_version=head["version"],
        reason="koreksi",
    )
    registry.update_family(
        db,
        admin,
        fam["id"],
        {
            "kelurahan_code": OTHER_KELURAHAN
            if fam["kelurahan_code"] != OTHER_KELURAHAN
            else "32.75.01.1001",
            "address": "Jl. Pindah No. 1",
        },
        expected_version=fam["version"],
        reason="pindah alamat",
    )
    registry.deactivate_member(
        db,
        admin,
        other["id"],
        "meninggal",
        expected_version=other["version"],
        note="wafat",
        death_date=date(2026, 7, 10),
    )
    payment = (
        "state",
        "block_reason",
        "updated_at",
    )  # a death after approval blocks payment (issue 18), nothing else
    assert [{k: v for k, v in r.items() if k not in payment} for r in _rows(db, cycle_id)] == [
        {k: v for k, v in r.items() if k not in payment} for r in before
    ]
    assert [(r["state"], r["block_reason"]) for r in _rows(db, cycle_id)][:3] == [
        ("terjadwal", None),
        ("terjadwal", None),
        ("diblokir", "meninggal"),
    ]
    assert cycles.show(db, admin, cycle_id).cycle.snapshot_sha256 == sha
    assert cycles.verify_snapshot(db, admin, cycle_id)
    with db.begin() as conn:  # tampering is detected
        conn.execute(entitlements.update().where(entitlements.c.id == first["id"]).values(amount=1))
    assert not cycles.verify_snapshot(db, admin, cycle_id)


def test_deceased_and_inactive_recipients_are_blocked_at_approval(db, admin, ranked) -> None:
    cycle_id = cycles.create_cycle(db, admin, "BLT-APBD", name="uji", **PERIOD)
    cycles.generate(db, admin, cycle_id)
    rows = _rows(db, cycle_id)
    assert len(rows) >= 3
    with db.read() as conn:
        dead = conn.execute(sa.select(members).where(members.c.id == rows[0]["member_id"])).mappings().one()
        gone = conn.execute(sa.select(families).where(families.c.id == rows[1]["family_id"])).mappings().one()
    registry.deactivate_member(
        db,
        admin,
        dead["id"],
        "meninggal",
        expected_version=dead["version"],
        note="wafat",
        death_date=date(2026, 7, 2),
    )
    registry.deactivate_family(
        db, admin, gone["id"], "pindah", expected_version=gone["version"], note="pindah kota"
    )
    cycles.submit(db, admin, cycle_id)
    assert cycles.approve(db, CHECKER, cycle_id)["blocked"] == 2
    after = {r["id"]: r for r in _rows(db, cycle_id)}
    assert (after[rows[0]["id"]]["state"], after[rows[0]["id"]]["block_reason"]) == ("diblokir", "meninggal")
    assert (after[rows[1]["id"]]["state"], after[rows[1]["id"]]["block_reason"]) == (
        "diblokir",
        "pindah",
    )  # its reason
    assert all(r["state"] == "terjadwal" for i, r in after.items() if i not in (rows[0]["id"], rows[1]["id"]))
    view = cycles.show(db, admin, cycle_id)
    assert view.cycle.blocked == 2 and view.states == {"diblokir": 2, "terjadwal": len(rows) - 2}


def test_budget_cap_defaults_to_what_the_year_has_left(db, admin, ranked) -> None:
    programmes.update_programme(
        db, admin, "BLT-APBD", 1, {"annual_budget": 1_000_000, "budget_year": 2026, "rule": "desil <= 10"}
    )
    first = cycles.create_cycle(db, admin, "BLT-APBD", name="Juli", **PERIOD)
    assert cycles.show(db, admin, first).cycle.budget_cap == 1_000_000
    assert cycles.generate(db, admin, first)["total_amount"] == 1_000_000  # four families of Rp250.000
    cycles.submit(db, admin, first)
    cycles.approve(db, CHECKER, first)
    second = cycles.create_cycle(
        db, admin, "BLT-APBD", name="Agustus", period_start=date(2026, 8, 1), period_end=date(2026, 8, 31)
    )
    assert cycles.show(db, admin, second).cycle.budget_cap == 0
    assert cycles.generate(db, admin, second)["entitlements"] == 0
    next_year = cycles.create_cycle(
        db, admin, "BLT-APBD", name="2027", period_start=date(2027, 1, 1), period_end=date(2027, 1, 31)
    )
    assert (
        cycles.show(db, admin, next_year).cycle.budget_cap is None
    )  # 2027 has no budget set: 2026's does not carry over
    forced = cycles.create_cycle(
        db,
        admin,
        "BLT-APBD",
        name="paksa",
        period_start=date(2026, 9, 1),
        period_end=date(2026, 9, 30),
        budget_cap=500_000,
    )
    cycles.generate(db, admin, forced)
    cycles.submit(db, admin, forced)
    with pytest.raises(StateError) as caught:
        cycles.approve(db, CHECKER, forced)  # the year's budget is spent
    assert "melebihi sisa anggaran" in caught.value.message


def test_a_crash_mid_generation_leaves_the_cycle_as_it_was(db, admin, ranked, monkeypatch) -> None:
    cycle_id = cycles.create_cycle(db, admin, "BLT-APBD", name="uji", **PERIOD)
    cycles.generate(db, admin, cycle_id)
    before, cycle_before = _rows(db, cycle_id), cycles.show(db, admin, cycle_id).cycle
    programmes.update_programme(db, admin, "BLT-APBD", 1, {"amount": 999_000})

    def crash(*args, **kwargs):
        raise RuntimeError("listrik padam")

    monkeypatch.setattr(cycle_store, "move", crash)
    with pytest.raises(RuntimeError):
        cycles.generate(db, admin, cycle_id)
    monkeypatch.undo()
    assert _rows(db, cycle_id) == before
    assert cycles.show(db, admin, cycle_id).cycle == cycle_before


def test_a_budget_belongs_to_its_year_and_never_caps_another_years_cycle(db, admin, ranked) -> None:
    """Issue 18 point 5: a 2025 budget is not 2026's "sisa"."""
    programmes.update_programme(
        db,
        admin,
        "BLT-APBD",
        1,
        {"rule": 'desil <= 6 and status == "aktif"', "budget_year": 2025, "annual_budget": 500_000},
    )
    uncapped = enrolment.candidates(db, admin, "BLT-APBD", reference_date=DAY, limit=500)
    assert uncapped.kept > 2  # two families' worth of a 2025 budget does not cut 2026's list
    cycle_id = cycles.create_cycle(db, admin, "BLT-APBD", name="BLT-APBD Juli 2026", **PERIOD)
    with db.read() as conn:
        assert (
            conn.execute(
                sa.select(benefit_cycles.c.budget_cap).where(benefit_cycles.c.id == cycle_id)
            ).scalar_one()
            is None
        )
    cycles.generate(db, admin, cycle_id)
    cycles.submit(db, admin, cycle_id)
    cycles.approve(db, CHECKER, cycle_id)  # not refused for "exceeding" 2025's budget
    assert len(_rows(db, cycle_id)) == uncapped.kept
    programmes.update_programme(
        db, admin, "BLT-APBD", 2, {"budget_year": 2026}
    )  # the same budget, now 2026's
    assert (
        enrolment.candidates(db, admin, "BLT-APBD", reference_date=DAY, limit=500).kept == 0
    )  # all committed
