"""Susenas-like synthetic survey: design, weights and columns."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from tepat.synth import POVERTY_LINE, generate_registry, generate_survey
from tepat.synth.population import INDICATOR_COLUMNS
from tepat.synth.survey import CITY_HOUSEHOLDS

REQUIRED = (
    "id_ruta",
    "strata",
    "psu",
    "perkotaan",
    "kode_kecamatan",
    "kode_kelurahan",
    "bobot",
    "pengeluaran_per_kapita",
    "jumlah_art",
    "jumlah_anak",
    "jumlah_lansia",
    "umur_kepala",
    "jenis_kelamin_kepala",
    "pendidikan_kepala",
    "status_pekerjaan_kepala",
    "ada_disabilitas",
)
INDICATORS = INDICATOR_COLUMNS


@pytest.fixture(scope="module")
def survey() -> pl.DataFrame:
    return generate_survey(800, seed=3)


def test_city_survey_has_the_design_columns_and_every_indicator(survey: pl.DataFrame):
    assert survey.height == 800
    assert tuple(survey.columns[: len(REQUIRED)]) == REQUIRED
    assert tuple(survey.columns[len(REQUIRED) :]) == INDICATORS
    assert len(INDICATORS) == 26 and INDICATORS[0] == "status_rumah" and INDICATORS[-1] == "aset_ternak"
    assert survey["id_ruta"].n_unique() == 800
    assert survey.select(pl.col(REQUIRED).null_count()).sum_horizontal()[0] == 0
    assert (survey["perkotaan"] == 1).all()


def test_ten_households_per_psu_in_twelve_kecamatan_strata(survey: pl.DataFrame):
    per_psu = survey.group_by("psu").len()
    assert per_psu.height == 80 and (per_psu["len"] == 10).all()
    assert survey["strata"].n_unique() == 12
    # A PSU lies in one stratum and one kelurahan, and that kelurahan lies in the stratum's kecamatan.
    nested = survey.group_by("psu").agg(pl.col("strata").n_unique(), pl.col("kode_kelurahan").n_unique())
    assert (nested["strata"] == 1).all() and (nested["kode_kelurahan"] == 1).all()
    assert (survey["strata"].str.slice(0, 8) == survey["kode_kecamatan"]).all()
    assert (survey["kode_kelurahan"].str.slice(0, 8) == survey["kode_kecamatan"]).all()
    per_stratum = survey.group_by("strata").agg(pl.col("psu").n_unique())
    assert per_stratum["psu"].min() >= 2


def test_weights_add_up_to_the_city_households(survey: pl.DataFrame):
    assert survey["bobot"].min() > 0
    assert survey["bobot"].sum() == pytest.approx(CITY_HOUSEHOLDS, rel=0.01)


def test_survey_consumption_and_features_are_plausible(survey: pl.DataFrame):
    size = survey["jumlah_art"].to_numpy()
    w = survey["bobot"].to_numpy() * size
    poor = float(np.sum(w * (survey["pengeluaran_per_kapita"].to_numpy() < POVERTY_LINE)) / np.sum(w))
    assert 0.01 < poor < 0.09  # 4.01 % in the population; one 800-household sample varies
    assert (survey["jumlah_anak"] + survey["jumlah_lansia"] <= survey["jumlah_art"]).all()
    assert survey["umur_kepala"].min() >= 18
    assert set(survey["jenis_kelamin_kepala"].unique()) == {"L", "P"}
    assert survey["luas_lantai"].dtype == pl.Int64 and survey["aset_mobil"].dtype == pl.Int8


def test_survey_is_reproducible():
    assert generate_survey(100, seed=8).equals(generate_survey(100, seed=8))
    assert not generate_survey(100, seed=8).equals(generate_survey(100, seed=9))


def test_a_large_survey_gets_province_like_strata():
    big = generate_survey(30_000, seed=1)
    assert big.height == 30_000
    assert big["strata"].n_unique() == 150
    assert (big.group_by("psu").len()["len"] == 10).all()
    assert big["kode_kelurahan"].str.starts_with("32.75.").all()
    assert big["bobot"].sum() > 1_000_000


def test_survey_from_a_registry_samples_its_families():
    reg = generate_registry(6000, seed=4)
    s = generate_survey(400, seed=2, population=reg)
    assert s.columns == generate_survey(50, seed=2).columns
    assert s.dtypes == generate_survey(50, seed=2).dtypes
    assert s["bobot"].sum() == pytest.approx(reg.families, rel=1e-9)
    assert s.group_by("psu").len()["len"].max() == 10
    assert s["id_ruta"].n_unique() == s.height
    # Every sampled household is one of the registry's families, with its true consumption.
    truth = reg.truth.select("pengeluaran_per_kapita", "jumlah_art", "kode_kelurahan")
    matched = s.join(truth, on=["pengeluaran_per_kapita", "jumlah_art", "kode_kelurahan"], how="semi")
    assert matched.height == s.height


def test_a_tiny_registry_is_sampled_whole():
    reg = generate_registry(7, seed=7)
    s = generate_survey(30, seed=1, population=reg)
    assert s.height == 7 and s["bobot"].sum() == pytest.approx(7)
    assert sorted(s["pengeluaran_per_kapita"].to_list()) == sorted(
        reg.truth["pengeluaran_per_kapita"].to_list()
    )
