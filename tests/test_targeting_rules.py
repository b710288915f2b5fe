"""Property: on ranked registry families, the eligibility service and the explanation never disagree."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from tepat.services import eligibility, registry, registry_ranking, registry_reads
from tests.targeting_data import DAY, saved_model, varied_registry
from tests.test_rules_sql import rules


@pytest.fixture
def ranked_registry(db, admin, tmp_path):
    ids = varied_registry(db, admin, 12)
    # a deceased member and an inactive family, so that semua_anggota and status matter
    view = registry_reads.get_family(db, admin, ids[3])
    child = next(m for m in view.members if m["relationship"] == "anak")
    registry.deactivate_member(
        db,
        admin,
        child["id"],
        "meninggal",
        expected_version=child["version"],
        note="wafat",
        death_date=date(2026, 1, 5),
    )
    registry.deactivate_family(db, admin, ids[7], "pindah", expected_version=1, note="pindah")
    model_id = saved_model(db, admin, tmp_path)
    registry_ranking.rank_registry(db, admin, model_id, reference_date=DAY)
    return ids


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(source=rules)
def test_eligibility_and_explanations_never_disagree(db, admin, ranked_registry: Any, source: str) -> None:
    result = eligibility.eligibility(db, admin, source, reference_date=DAY, limit=100)
    selected = {r["id"] for r in result.page}
    explained = {
        i
        for i in ranked_registry
        if eligibility.explain_family(db, admin, source, i, reference_date=DAY).eligible
    }
    assert selected == explained, source
    assert result.families == len(selected)
