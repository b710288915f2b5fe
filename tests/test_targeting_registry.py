"""Model versions, ranking the registry (deciles, re-runs), family targeting and eligibility over the registry."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
import sqlalchemy as sa

from tepat.domain.access import Role
from tepat.domain.deciles import rank_families
from tepat.errors import ConflictError, NotFound, PermissionDenied
from tepat.services import eligibility, registry, registry_ranking, targeting
from tepat.store import pmt_features
from tepat.store.schema import family_scores
from tests.conftest import actor
from tests.factories import KELURAHAN, make_family, member_values
from tests.targeting_data import DAY, FEATURES, fitted, saved_model, survey_file, varied_registry


def scores(db, model_id):
    with db.read() as conn:
        rows = (
            conn.execute(
                sa.select(family_scores)
                .where(family_scores.c.model_id == model_id)
                .order_by(family_scores.c.family_id)
            )
            .mappings()
            .all()
        )
    return {r["family_id"]: dict(r) for r in rows}


def test_saved_version_keeps_provenance_and_coefficients(db, admin, tmp_path):
    path = survey_file(tmp_path)
    model = fitted(path)
    model_id = targeting.save_model(db, admin, model, source=path, name="PMT 2026")
    version = targeting.get_model(db, admin, model_id)
    assert version.name == "PMT 2026" and version.source_file == path.name and version.created_by == "admin"
    assert len(version.source_sha256) == 64 and version.source_sha256 == targeting.file_hash(path)
    assert version.model.coefficients == model.coefficients
    data = version.as_dict()
    assert data["references"]["jenis_lantai"] == model.features[FEATURES.index("jenis_lantai")].reference
    assert data["used"] is False


def test_a_version_is_immutable_once_used_for_a_ranking(db, admin, tmp_path):
    make_family(db, admin)
    model_id = saved_model(db, admin, tmp_path)
    targeting.rename_model(db, admin, model_id, "nama baru")  # allowed before use
    assert targeting.get_model(db, admin, model_id).name == "nama baru"
    registry_ranking.rank_registry(db, admin, model_id, reference_date=DAY)
    assert targeting.get_model(db, admin, model_id).used
    with pytest.raises(ConflictError):
        targeting.rename_model(db, admin, model_id, "lagi")
    with pytest.raises(ConflictError):
        targeting.delete_model(db, admin, model_id)
    assert targeting.get_model(db, admin, model_id).name == "nama baru"


def test_unused_version_can_be_deleted(db, admin, tmp_path):
    model_id = saved_model(db, admin, tmp_path)
    targeting.delete_model(db, admin, model_id)
    with pytest.raises(NotFound):
        targeting.get_model(db, admin, model_id)


def test_features_from_members_are_computed_in_sql(db, admin):
    fid = make_family(
        db,
        admin,
        members=[
            member_values(
                "Ayah",
                "L",
                date(1970, 7, 2),
                "kepala_keluarga",
                education="smp",
                work_status="buruh_karyawan",
            ),
            member_values("Anak", "P", date(2008, 7, 1), "anak"),  # turns 18 on DAY: not a child any more
            member_values("Adik", "L", date(2015, 1, 1), "anak", disability="netra"),
            member_values("Kakek", "L", date(1966, 7, 1), "orang_tua"),  # 60 on DAY
        ],
    )
    other = make_family(
        db, admin, members=[member_values("Sendiri", "P", date(1990, 1, 1), "kepala_keluarga")]
    )
    names = [
        "jumlah_art",
        "jumlah_anak",
        "jumlah_lansia",
        "umur_kepala",
        "jenis_kelamin_kepala",
        "pendidikan_kepala",
        "status_pekerjaan_kepala",
        "ada_disabilitas",
        "jenis_lantai",
        "aset_mobil",
    ]
    with db.read() as conn:
        ids, versions, cols = pmt_features.read_features(conn, names, DAY)
    assert list(ids) == [fid, other] and list(versions) == [1, 1]
    assert list(cols["jumlah_art"]) == [4, 1]
    assert list(cols["jumlah_anak"]) == [1, 0]
    assert list(cols["jumlah_lansia"]) == [1, 0]
    assert list(cols["umur_kepala"]) == [55, 36]  # 1970-07-02: 55 until the next day
    assert list(cols["jenis_kelamin_kepala"]) == ["L", "P"]
    assert list(cols["pendidikan_kepala"]) == ["smp", None]
    assert list(cols["status_pekerjaan_kepala"]) == ["buruh_karyawan", None]
    assert list(cols["ada_disabilitas"]) == [1, 0]
    assert list(cols["jenis_lantai"]) == ["keramik", "keramik"]
    assert np.isnan(cols["aset_mobil"]).all()


def test_ranking_stores_city_wide_deciles_and_a_rerun_changes_only_what_changed(db, admin, tmp_path):
    ids = varied_registry(db, admin, 12)
    model_id = saved_model(db, admin, tmp_path)
    first = registry_ranking.rank_registry(db, admin, model_id, reference_date=DAY)
    assert (first.families, first.inserted, first.updated, first.deleted) == (12, 12, 0, 0)
    stored = scores(db, model_id)
    assert sorted(stored) == ids
    # the stored desil is rank_families of the model's prediction, ties by family id
    model = targeting.get_model(db, admin, model_id).model
    with db.read() as conn:
        fam_ids, _, cols = pmt_features.read_features(conn, FEATURES, DAY)
    predicted = model.predict(cols).log_welfare
    expected = rank_families(predicted, fam_ids).decile
    assert [stored[i]["desil"] for i in fam_ids] == list(expected)
    assert sorted(first.decile_sizes) == [1, 1, 1, 1, 1, 1, 1, 1, 2, 2]
    assert all(abs(stored[i]["score"] - p) < 1e-12 for i, p in zip(fam_ids, predicted, strict=True))
    assert all(abs(stored[i]["predicted"] - np.exp(stored[i]["score"])) < 1e-6 for i in fam_ids)

    again = registry_ranking.rank_registry(db, admin, model_id, reference_date=DAY)
    assert (again.inserted, again.updated, again.deleted, again.unchanged) == (0, 0, 0, 12)
    assert all(r["run_id"] == first.run_id for r in scores(db, model_id).values())

    # one family gets a car: its version and prediction change; deciles may move for a few others only
    target = ids[5]
    registry.update_family(
        db,
        admin,
        target,
        {"asset_car": True, "floor_material": "marmer_granit"},
        expected_version=1,
        reason="kunjungan",
    )
    gone = ids[0]
    registry.deactivate_family(db, admin, gone, "pindah", expected_version=1, note="pindah kota")
    third = registry_ranking.rank_registry(db, admin, model_id, reference_date=DAY)
    after = scores(db, model_id)
    assert third.deleted == 1 and gone not in after
    assert after[target]["family_version"] == 2 and after[target]["run_id"] == third.run_id
    changed = {i for i in after if after[i]["run_id"] == third.run_id}
    assert target in changed and third.updated == len(changed) and third.inserted == 0
    unchanged = set(after) - changed
    assert all(after[i] == {**stored[i]} for i in unchanged)
    assert third.unchanged == len(unchanged)


def test_ties_are_broken_by_family_id(db, admin, tmp_path):
    ids = [make_family(db, admin) for _ in range(10)]  # identical families: identical predictions
    model_id = saved_model(db, admin, tmp_path)
    registry_ranking.rank_registry(db, admin, model_id, reference_date=DAY)
    stored = scores(db, model_id)
    assert [stored[i]["desil"] for i in ids] == list(range(1, 11))


def test_family_targeting_shows_desil_and_what_pushed_it(db, admin, tmp_path):
    ids = varied_registry(db, admin, 6)
    model_id = saved_model(db, admin, tmp_path)
    assert targeting.family_targeting(db, admin, ids[0]) is None  # not ranked yet
    registry_ranking.rank_registry(db, admin, model_id, reference_date=DAY)
    found = targeting.family_targeting(db, admin, ids[0])
    assert found is not None and found.model_id == model_id and 1 <= found.desil <= 10 and not found.stale
    effects = [c["effect"] for c in found.contributions]
    assert effects == sorted(effects, key=lambda e: -abs(e))
    assert {c["feature"] for c in found.contributions} == set(FEATURES)
    car = next(c for c in found.contributions if c["feature"] == "aset_mobil")
    assert car["label"] == "Mobil" and car["value"] == 1 and car["direction"] in ("naik", "turun")
    operator = actor(Role.OPERATOR, KELURAHAN)  # ids[0] lives in the other kelurahan
    with pytest.raises(NotFound):
        targeting.family_targeting(db, operator, ids[0])
    assert targeting.family_targeting(db, operator, ids[1]) is not None
    registry.update_family(db, admin, ids[1], {"floor_area_m2": 99}, expected_version=1, reason="ukur ulang")
    assert targeting.family_targeting(db, admin, ids[1]).stale


RULES = [
    'desil <= 4 and status == "aktif"',
    "desil <= 6 and any(anggota, umur >= 6 and umur <= 18 and sekolah)",
    'desil >= 3 and (jenis_lantai in ["tanah", "bambu"] or not aset_mobil)',
    "count(anggota, umur >= 60) >= 1 or skor < 14",
    'kecamatan == "32.75.01" and desil <= 8',
]


@pytest.mark.parametrize("rule", RULES)
def test_eligibility_over_the_registry_agrees_with_each_explanation(db, admin, tmp_path, rule):
    ids = varied_registry(db, admin, 12)
    model_id = saved_model(db, admin, tmp_path)
    registry_ranking.rank_registry(db, admin, model_id, reference_date=DAY)
    result = eligibility.eligibility(db, admin, rule, reference_date=DAY, limit=100)
    selected = {r["id"] for r in result.page}
    explained = {
        i for i in ids if eligibility.explain_family(db, admin, rule, i, reference_date=DAY).eligible
    }
    assert selected == explained
    assert result.families == len(selected) and sum(result.by_desil) == len(selected)
    assert result.people == sum(r["jiwa"] for r in result.page)
    desils = [r["desil"] for r in result.page]
    assert desils == sorted(desils)  # poorest first


def test_eligibility_is_limited_to_the_area_and_analysts_get_counts_only(db, admin, tmp_path):
    varied_registry(db, admin, 8)
    model_id = saved_model(db, admin, tmp_path)
    registry_ranking.rank_registry(db, admin, model_id, reference_date=DAY)
    everyone = eligibility.eligibility(db, admin, "desil <= 10", reference_date=DAY)
    assert everyone.families == 8
    local = eligibility.eligibility(db, admin, "desil <= 10", area_code=KELURAHAN, reference_date=DAY)
    assert local.families == 4 and all(r["kelurahan_code"] == KELURAHAN for r in local.page)
    analyst = actor(Role.ANALYST, "32.75")
    counted = eligibility.eligibility(db, analyst, "desil <= 10", reference_date=DAY)
    assert counted.families == 8 and counted.page == []
    family_id = everyone.page[0]["id"]
    text = eligibility.explain_family(
        db, analyst, "any(anggota, umur >= 0)", family_id, reference_date=DAY
    ).text()
    assert "Kepala" not in text and "anggota ke-1" in text
    with pytest.raises(PermissionDenied):
        eligibility.eligibility(db, actor(Role.OPERATOR, KELURAHAN), "desil <= 4")


def test_evaluation_is_stored_and_versions_compare_side_by_side(db, admin, tmp_path):
    first = saved_model(db, admin, tmp_path, "lengkap")
    second = saved_model(db, admin, tmp_path, "sederhana", ["jumlah_art", "aset_mobil"])
    held_out = survey_file(tmp_path, 500, seed=99)
    results, svg = targeting.compare_models(db, admin, [first, second], held_out, [0.1, 0.4])
    assert [r.model_id for r in results] == [first, second]
    assert [row["coverage"] for row in results[0].rows] == [0.1, 0.4]
    assert all(
        0 <= row["inclusion_error"] <= 1 and 0 <= row["exclusion_error"] <= 1
        for r in results
        for row in r.rows
    )
    assert svg.startswith("<svg") and "lengkap" in svg and "sederhana" in svg
    listed = {v.id: v for v in targeting.list_models(db, admin)}
    assert listed[first].last_evaluation["results"] == results[0].rows


def test_only_admins_and_analysts_manage_models(db, tmp_path):
    with pytest.raises(PermissionDenied):
        saved_model(db, actor(Role.OPERATOR, KELURAHAN), tmp_path)


def test_registry_prediction_equals_the_model_prediction(db, admin, tmp_path):
    varied_registry(db, admin, 12)
    make_family(
        db,
        admin,
        members=[member_values("Tanpa", "L", date(1980, 1, 1), "anak")],  # no head
        floor_material=None,
        floor_area_m2=None,
        power_va=None,
    )
    model = fitted(survey_file(tmp_path))
    with db.read() as conn:
        _, _, cols = pmt_features.read_features(conn, FEATURES, DAY)
    fast = registry_ranking.predict_registry(model, cols)
    slow = model.predict(cols)
    assert np.allclose(fast.log_welfare, slow.log_welfare, rtol=0, atol=1e-12)
    assert (fast.unknown_levels, fast.imputed) == (slow.unknown_levels, slow.imputed)
    assert fast.unknown_levels >= 3 and fast.imputed >= 2
