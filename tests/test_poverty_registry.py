"""Registry indicators by area: counts, 'not verified in two years', small-cell suppression, area limits."""

from __future__ import annotations

from datetime import date

import pytest

from tepat.config import Settings
from tepat.domain.access import Role
from tepat.domain.regions import Level
from tepat.errors import ValidationError
from tepat.services.statistics import AreaIndicator, registry_indicators, suppress
from tests.conftest import actor
from tests.factories import KELURAHAN, OTHER_KELURAHAN, make_family, member_values

TODAY = date(2025, 7, 1)
THIRD = "32.75.03.1001"
SETTINGS = Settings(min_cell_size=3)


def one_person(name: str = "Budi") -> list[dict]:
    return [member_values(name)]


def populate(db, admin):
    # Bekasijaya: 4 families; two verified recently, one verified three years ago, one never.
    make_family(db, admin, KELURAHAN, verification_status="terverifikasi", verified_on="2024-01-10")
    make_family(db, admin, KELURAHAN, verification_status="terverifikasi", verified_on="2023-07-02")
    make_family(
        db,
        admin,
        KELURAHAN,
        members=one_person(),
        verification_status="terverifikasi",
        verified_on="2022-06-30",
    )
    make_family(db, admin, KELURAHAN, members=one_person())
    # 32.75.02.1001: 1 family only -> suppressed.
    make_family(db, admin, OTHER_KELURAHAN, members=one_person())
    # THIRD: 3 families, at the threshold but the next smallest -> suppressed to protect the lone small cell.
    for _ in range(3):
        make_family(db, admin, THIRD, members=one_person())


def test_counts_by_kelurahan_with_suppression(db, admin):
    populate(db, admin)
    cells = {c.code: c for c in registry_indicators(db, admin, SETTINGS, Level.KELURAHAN, TODAY)}
    assert len(cells) == 56
    bekasijaya = cells[KELURAHAN]
    assert (bekasijaya.families, bekasijaya.people, bekasijaya.not_verified) == (4, 8, 2)
    assert bekasijaya.not_verified_share == 50.0
    other = cells[OTHER_KELURAHAN]
    assert other.suppressed and other.families is None and other.people is None
    # A lone suppressed cell could be derived from the city total, so the next smallest goes too.
    assert cells[THIRD].suppressed
    assert sum(c.suppressed for c in cells.values()) == 2
    empty = cells["32.75.04.1001"]
    assert empty.families == 0 and not empty.suppressed


def test_second_cell_is_hidden_when_only_one_is_small():
    cells = [
        AreaIndicator("a", "A", 2, 2, 0, False),
        AreaIndicator("b", "B", 30, 90, 3, False),
        AreaIndicator("c", "C", 12, 30, 1, False),
        AreaIndicator("d", "D", 0, 0, 0, False),
    ]
    result = {c.code: c.suppressed for c in suppress(cells, 10)}
    assert result == {"a": True, "b": False, "c": True, "d": False}


def test_by_kecamatan_and_inside_the_actor_area(db, admin):
    populate(db, admin)
    by_kecamatan = registry_indicators(db, admin, Settings(min_cell_size=1), Level.KECAMATAN, TODAY)
    assert len(by_kecamatan) == 12
    bekasi_timur = next(c for c in by_kecamatan if c.code == "32.75.01")
    assert bekasi_timur.families == 4 and bekasi_timur.people == 8
    operator = actor(Role.ANALYST, "32.75.02")
    mine = registry_indicators(db, operator, Settings(min_cell_size=1), Level.KELURAHAN, TODAY)
    assert mine and all(c.code.startswith("32.75.02.") for c in mine)
    assert sum(c.families or 0 for c in mine) == 1


def test_a_kelurahan_account_sees_its_kelurahan_only(db, admin):
    populate(db, admin)
    kelurahan_actor = actor(Role.OPERATOR, KELURAHAN)
    cells = registry_indicators(db, kelurahan_actor, SETTINGS, Level.KELURAHAN, TODAY)
    assert [c.code for c in cells] == [KELURAHAN]
    with pytest.raises(ValidationError):
        registry_indicators(db, kelurahan_actor, SETTINGS, Level.KECAMATAN, TODAY)


def test_desil_1_to_4_counts_follow_the_latest_ranking(db, admin, tmp_path):
    import sqlalchemy as sa

    from tepat.services import registry_ranking
    from tepat.store.schema import family_scores, members
    from tests.targeting_data import saved_model, varied_registry

    before = {
        c.code: c for c in registry_indicators(db, admin, Settings(min_cell_size=1), Level.KELURAHAN, TODAY)
    }
    varied_registry(db, admin, 20)
    assert before[KELURAHAN].poorest_families is None  # nothing ranked yet
    model_id = saved_model(db, admin, tmp_path)
    registry_ranking.rank_registry(db, admin, model_id)
    cells = {
        c.code: c for c in registry_indicators(db, admin, Settings(min_cell_size=1), Level.KELURAHAN, TODAY)
    }
    with db.read() as conn:
        poor_ids = [
            r[0]
            for r in conn.execute(
                sa.select(family_scores.c.family_id).where(
                    family_scores.c.model_id == model_id, family_scores.c.desil <= 4
                )
            )
        ]
        people = conn.execute(
            sa.select(sa.func.count()).where(
                members.c.family_id.in_(poor_ids),
                members.c.status == "aktif",
                members.c.life_status == "hidup",
            )
        ).scalar_one()
    assert sum(c.poorest_families or 0 for c in cells.values()) == len(poor_ids) > 0
    assert sum(c.poorest_people or 0 for c in cells.values()) == people
    assert cells[KELURAHAN].as_dict()["desil_1_4_families"] == cells[KELURAHAN].poorest_families
