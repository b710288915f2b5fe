"""Enrolment: candidates equal a brute-force evaluation; the cut from the poorest; exclusions; overrides; explanations."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from tepat.domain.access import Role
from tepat.domain.cycles import kept_keys
from tepat.errors import NotFound, PermissionDenied, StateError, ValidationError
from tepat.services import enrolment, programmes
from tepat.store import audit
from tepat.store.candidates import ranked_candidates
from tepat.store.schema import families, members
from tests.conftest import actor
from tests.factories import KELURAHAN, OTHER_KELURAHAN
from tests.programme_data import approved_cycle
from tests.programme_support import CHECKER, brute_force, create, ranked_registry
from tests.targeting_data import DAY

RULES = [
    ("keluarga", 'desil <= 6 and status == "aktif"', None, None),
    ("keluarga", "desil <= 8 and any(anggota, umur >= 60) or count(anggota, sekolah) >= 2", None, None),
    ("keluarga", "not (desil > 3) and jumlah_anggota >= 3", None, None),
    (
        "orang",
        "desil <= 7",
        "umur >= 6 and umur <= 18 and sekolah",
        {"SD": 450_000, "SMP": 750_000, "SMA": 1_800_000},
    ),
    ("orang", 'status == "aktif"', "umur >= 18 and not sekolah", None),
    ("orang", "desil <= 10", None, None),
]


@pytest.fixture
def ranked(db, admin, tmp_path):
    return ranked_registry(db, admin, tmp_path)


def _sql_places(db, admin, prog, *, quota=None, budget=None):
    with db.read() as conn:
        scope = enrolment.programme_scope(
            conn, prog, admin, reference_date=DAY, quota=quota, budget=budget, use_programme_limits=False
        )
        rows = conn.execute(ranked_candidates(scope).order_by(sa.text("rank"))).mappings().all()
    return [(r["unit_key"], r["rank"], r["running_total"], bool(r["kept"])) for r in rows], rows


@pytest.mark.parametrize(("unit", "rule", "member_rule", "levels"), RULES)
def test_candidates_equal_a_brute_force_evaluation(
    db, admin, ranked, unit, rule, member_rule, levels
) -> None:
    _, model_id = ranked
    prog = create(
        db,
        admin,
        unit=unit,
        rule=rule,
        member_rule=member_rule,
        amounts_by_level=levels,
        amount=0 if levels else 250_000,
    )
    expected = brute_force(db, prog, model_id)
    got, rows = _sql_places(db, admin, prog)
    assert got == [(p.key, p.rank, p.running_total, p.kept) for p in expected]
    assert len(got) > 0
    if levels:
        assert {r["level"] for r in rows} <= {"SD", "SMP", "SMA"} and all(r["amount"] > 0 for r in rows)
        # "Anak Tanpa Data" has no education: her level comes from her age (12 on the reference day: SD)
        with db.read() as conn:
            nodata = conn.execute(
                sa.select(members.c.id).where(members.c.name == "Anak Tanpa Data")
            ).scalar_one()
        assert [(r["level"], r["amount"]) for r in rows if r["unit_key"] == nodata] in ([("SD", 450_000)], [])


def test_the_cut_keeps_the_poorest_within_quota_and_budget(db, admin, ranked) -> None:
    _, model_id = ranked
    prog = create(db, admin, rule="desil <= 10")
    everyone = brute_force(db, prog, model_id)
    assert len(everyone) >= 8
    for quota, budget in ((3, None), (None, 1_000_000), (5, 1_000_000), (None, 0)):
        expected = brute_force(db, prog, model_id, quota=quota, budget=budget)
        got, rows = _sql_places(db, admin, prog, quota=quota, budget=budget)
        kept = [k for k, _, _, is_kept in got if is_kept]
        assert kept == kept_keys(expected)
        assert len(kept) == min(
            quota or 99, (budget if budget is not None else 10**12) // 250_000, len(everyone)
        )
        desil = [r["desil"] for r in rows]
        assert desil == sorted(desil)  # poorest first
        if kept:
            assert (
                max(r["desil"] for r in rows if r["kept"]) <= min(r["desil"] for r in rows if not r["kept"])
                if any(not r["kept"] for r in rows)
                else True
            )


def test_candidate_counts_pages_and_roles(db, admin, ranked) -> None:
    programmes.seed_catalogue(db, admin)
    result = enrolment.candidates(db, admin, "BANTUAN-PENDIDIKAN", reference_date=DAY, limit=100)
    assert result.candidates == len(result.page) == sum(result.by_desil) > 0
    assert result.kept_total == sum(p["amount"] for p in result.page if p["kept"])
    assert sum(k["candidates"] for k in result.by_kelurahan) == result.candidates
    assert all(p["name"] for p in result.page)
    analyst = enrolment.candidates(db, actor(Role.ANALYST), "BANTUAN-PENDIDIKAN", reference_date=DAY)
    assert analyst.page == [] and analyst.candidates == result.candidates
    local = enrolment.candidates(
        db, actor(Role.OPERATOR, KELURAHAN), "BANTUAN-PENDIDIKAN", reference_date=DAY, limit=100
    )
    assert {p["kelurahan_code"] for p in local.page} == {KELURAHAN}
    assert local.candidates == next(
        k["candidates"] for k in result.by_kelurahan if k["kelurahan_code"] == KELURAHAN
    )
    with db.read() as conn:
        reads = audit.entries(conn, entity="programme_candidates")
    assert {r["actor"] for r in reads} == {"admin", f"operator-{KELURAHAN}"}  # the analyst read no names


def test_exclusion_of_current_recipients_in_an_overlapping_period(db, admin, ranked) -> None:
    _ids, _model_id = ranked
    other = create(db, admin, code="LAIN", rule="desil <= 10")
    prog = create(db, admin, rule="desil <= 10", exclusions=["LAIN"])
    before = {k for k, *_ in _sql_places(db, admin, prog)[0]}
    receiving = sorted(before)[:2]
    approved_cycle(db, other["id"], receiving, period=(date(2026, 6, 1), date(2026, 7, 31)))
    approved_cycle(
        db, other["id"], [sorted(before)[2]], period=(date(2025, 1, 1), date(2025, 1, 31)), name="lama"
    )
    approved_cycle(db, other["id"], [sorted(before)[3]], state="draf", name="belum disetujui")
    after = {k for k, *_ in _sql_places(db, admin, prog)[0]}
    assert after == before - set(receiving)
    decision = enrolment.explain(db, admin, "UJI", receiving[0], reference_date=DAY)
    assert not decision.included and decision.rule.eligible
    assert any("sudah menerima LAIN" in r for r in decision.reasons)


def test_overrides_need_reason_evidence_and_a_second_admin(db, admin, ranked) -> None:
    ids, _ = ranked
    prog = create(db, admin, rule="desil <= 2")
    inside = {k for k, *_ in _sql_places(db, admin, prog)[0]}
    outsider = next(i for i in ids if i not in inside)
    with db.read() as conn:
        kel = conn.execute(sa.select(families.c.kelurahan_code).where(families.c.id == outsider)).scalar_one()
    operator = actor(Role.OPERATOR, kel, "operator.kel")
    with pytest.raises(ValidationError) as caught:
        enrolment.request_override(db, operator, "UJI", outsider, "tambah", "pendek", "")
    assert {e.field for e in caught.value.errors} == {"reason", "evidence"}
    stranger = actor(Role.OPERATOR, OTHER_KELURAHAN if kel == KELURAHAN else KELURAHAN, "operator.lain")
    with pytest.raises(NotFound):
        enrolment.request_override(
            db, stranger, "UJI", outsider, "tambah", "Korban kebakaran rumah", "BA Muskel 12/2026"
        )
    add = enrolment.request_override(
        db, operator, "UJI", outsider, "tambah", "Korban kebakaran rumah", "BA Muskel 12/2026"
    )
    with pytest.raises(StateError):
        enrolment.request_override(
            db, operator, "UJI", outsider, "tambah", "Korban kebakaran rumah", "BA lagi"
        )
    assert outsider not in {k for k, *_ in _sql_places(db, admin, prog)[0]}  # pending: no effect yet
    with pytest.raises(PermissionDenied):
        enrolment.decide_override(db, operator, add, True)
    self_made = enrolment.request_override(
        db, admin, "UJI", min(inside), "hapus", "Sudah pindah ke luar kota", "Surat pindah 470/2026"
    )
    with pytest.raises(PermissionDenied) as same:
        enrolment.decide_override(db, admin, self_made, True)
    assert "maker-checker" in same.value.message
    with pytest.raises(ValidationError):
        enrolment.decide_override(db, CHECKER, add, False)  # a rejection needs a note
    enrolment.decide_override(db, CHECKER, add, True, "sesuai BA")
    enrolment.decide_override(db, CHECKER, self_made, True)
    with pytest.raises(StateError):
        enrolment.decide_override(db, CHECKER, add, False, "terlambat")
    places, rows = _sql_places(db, admin, prog)
    keys = {k for k, *_ in places}
    assert outsider in keys and min(inside) not in keys
    assert next(r["source"] for r in rows if r["unit_key"] == outsider) == "tambahan"
    decision = enrolment.explain(db, admin, "UJI", outsider, reference_date=DAY)
    assert decision.included and not decision.rule.eligible
    assert any("Korban kebakaran" in o and "BA Muskel 12/2026" in o for o in decision.overrides)
    listed = enrolment.list_overrides(db, actor(Role.ANALYST), "UJI")
    assert len(listed) == 2 and all(r["kk_number"] is None for r in listed)


def test_explanation_names_the_budget_cut_and_the_members(db, admin, ranked) -> None:
    programmes.seed_catalogue(db, admin)
    programmes.update_programme(
        db, admin, "BANTUAN-PENDIDIKAN", 1, {"annual_budget": 2_000_000, "budget_year": 2026}
    )
    result = enrolment.candidates(db, admin, "BANTUAN-PENDIDIKAN", reference_date=DAY, limit=100)
    assert result.budget == 2_000_000 and 0 < result.kept < result.candidates
    cut_out = next(p for p in result.page if not p["kept"])
    decision = enrolment.explain(db, admin, "BANTUAN-PENDIDIKAN", cut_out["family_id"], reference_date=DAY)
    assert any("melebihi pagu anggaran Rp2.000.000" in text for _, text in decision.places)
    assert decision.people and any(p.explanation.eligible for p in decision.people)
    as_json = decision.as_dict()
    assert as_json["program"] == "BANTUAN-PENDIDIKAN" and as_json["anggota"][0]["nama"]
    hidden = enrolment.explain(
        db, actor(Role.ANALYST), "BANTUAN-PENDIDIKAN", cut_out["family_id"], reference_date=DAY
    )
    assert all(p.name is None for p in hidden.people)
    with pytest.raises(NotFound):
        enrolment.explain(
            db, actor(Role.OPERATOR, "32.75.12.1001"), "BANTUAN-PENDIDIKAN", cut_out["family_id"]
        )


def test_the_cut_is_the_citys_whoever_looks(db, admin, ranked) -> None:
    programmes.seed_catalogue(db, admin)
    programmes.update_programme(
        db, admin, "BANTUAN-PENDIDIKAN", 1, {"annual_budget": 3_000_000, "budget_year": 2026}
    )
    city = enrolment.candidates(db, admin, "BANTUAN-PENDIDIKAN", reference_date=DAY, limit=100)
    for kel in (KELURAHAN, OTHER_KELURAHAN):
        local = enrolment.candidates(
            db, actor(Role.OPERATOR, kel), "BANTUAN-PENDIDIKAN", reference_date=DAY, limit=100
        )
        mine = [p for p in city.page if p["kelurahan_code"] == kel]
        assert [(p["unit_key"], p["rank"], p["kept"]) for p in local.page] == [
            (p["unit_key"], p["rank"], p["kept"]) for p in mine
        ]
        assert local.kept == sum(p["kept"] for p in mine)
    assert 0 < city.kept < city.candidates
