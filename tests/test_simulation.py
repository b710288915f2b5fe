"""What-if simulation: totals equal the sum over the listed beneficiaries, budget cuts poorest first."""

from __future__ import annotations

import pytest

from tepat.domain.access import Role
from tepat.errors import PermissionDenied, ValidationError
from tepat.services import registry_ranking, simulation
from tepat.services.simulation import Scenario, Unit
from tests.conftest import actor
from tests.factories import KELURAHAN, OTHER_KELURAHAN
from tests.targeting_data import DAY, saved_model, survey_file, varied_registry


@pytest.fixture
def ranked(db, admin, tmp_path):
    ids = varied_registry(db, admin, 12)
    model_id = saved_model(db, admin, tmp_path)
    registry_ranking.rank_registry(db, admin, model_id, reference_date=DAY)
    return ids, model_id


def check_totals(result):
    listed = result.beneficiaries
    assert result.families == len(listed)
    assert result.people == sum(b["people"] for b in listed)
    assert result.total_cost == sum(b["amount"] for b in listed)
    assert (
        result.families
        == sum(k["families"] for k in result.by_kecamatan)
        == sum(k["families"] for k in result.by_kelurahan)
    )
    assert (
        result.total_cost
        == sum(k["cost"] for k in result.by_kecamatan)
        == sum(k["cost"] for k in result.by_kelurahan)
    )


def test_totals_per_family_without_budget(db, admin, ranked):
    result = simulation.simulate(
        db, admin, Scenario('desil <= 5 and status == "aktif"', 250_000), reference_date=DAY
    )
    check_totals(result)
    assert result.families == result.eligible_families == 6
    assert result.total_cost == 6 * 250_000 and not result.budget_short
    names = {k["name"] for k in result.by_kelurahan}
    assert {"Bekasijaya"} <= names
    kec = {k["code"]: k for k in result.by_kecamatan}
    assert kec["32.75.01"]["active_families"] == 6 and kec["32.75.02"]["active_families"] == 6
    assert sum(k["families"] for k in kec.values()) == 6


def test_per_person_with_a_short_budget_cuts_by_desil_then_score(db, admin, ranked):
    everyone = simulation.simulate(db, admin, Scenario("desil <= 10", 100_000, Unit.JIWA), reference_date=DAY)
    check_totals(everyone)
    assert everyone.total_cost == 100_000 * everyone.people
    budget = everyone.total_cost // 2
    cut = simulation.simulate(
        db, admin, Scenario("desil <= 10", 100_000, Unit.JIWA, budget), reference_date=DAY
    )
    check_totals(cut)
    assert cut.budget_short and cut.total_cost <= budget
    order = [(b["desil"], b["score"]) for b in everyone.beneficiaries]
    assert order == sorted(order)
    # the cut keeps the poorest prefix; the next family would not fit
    assert cut.beneficiaries == everyone.beneficiaries[: cut.families]
    assert cut.total_cost + everyone.beneficiaries[cut.families]["amount"] > budget


def test_scenarios_compare_and_survey_errors(db, admin, ranked, tmp_path):
    _, model_id = ranked
    survey = survey_file(tmp_path, 400, seed=5)
    results = simulation.compare(
        db,
        admin,
        [Scenario("desil <= 2", 300_000), Scenario("desil <= 4", 300_000)],
        model_id=model_id,
        reference_date=DAY,
        survey=survey,
    )
    assert [r.families for r in results] == [3, 5]
    for r in results:
        check_totals(r)
        assert r.survey_errors is not None and 0 <= r.survey_errors["inclusion_error"] <= 1
        assert r.survey_errors["coverage"] == pytest.approx(r.families / 12)


def test_analyst_gets_aggregates_only_and_operators_are_refused(db, ranked):
    analyst = actor(Role.ANALYST, "32.75")
    result = simulation.simulate(db, analyst, Scenario("desil <= 3", 250_000), reference_date=DAY)
    assert result.beneficiaries == [] and result.families == 4 and result.total_cost == 4 * 250_000
    with pytest.raises(PermissionDenied):
        simulation.simulate(db, actor(Role.OPERATOR, KELURAHAN), Scenario("desil <= 3", 1))
    with pytest.raises(ValidationError):
        simulation.simulate(db, analyst, Scenario("desil <= 3", 0))


def test_area_actor_sees_only_their_families(db, ranked):
    local = actor(Role.ADMIN, OTHER_KELURAHAN)
    result = simulation.simulate(db, local, Scenario("desil <= 10", 1_000), reference_date=DAY)
    assert result.families == 6 and {b["kelurahan_code"] for b in result.beneficiaries} == {OTHER_KELURAHAN}
