"""Proxy-means model: weighted least squares equal to statsmodels WLS, prediction, groups."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import statsmodels.api as sm

from tepat.domain.welfare import fit_pmt, fit_pmt_by_group
from tepat.errors import ValidationError

# ten households, fixed: per-capita consumption (Rp/month), floor area, floor, car, survey weight
FIXED = {
    "konsumsi": [
        450_000,
        620_000,
        380_000,
        910_000,
        1_250_000,
        530_000,
        700_000,
        300_000,
        1_600_000,
        820_000,
    ],
    "luas": [24, 36, 18, 45, 70, 30, 40, 15, 90, 50],
    "lantai": [
        "keramik",
        "keramik",
        "tanah",
        "keramik",
        "keramik",
        "semen_bata",
        "semen_bata",
        "tanah",
        "keramik",
        "semen_bata",
    ],
    "mobil": [False, False, False, True, True, False, False, False, True, False],
    "bobot": [1.5, 2.0, 1.0, 0.5, 1.0, 2.5, 1.0, 3.0, 0.5, 1.0],
}


def survey(n: int = 3000, seed: int = 7) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    area = rng.integers(12, 200, n).astype(float)
    floor = rng.choice(["keramik", "tanah", "semen_bata", "kayu_papan"], n, p=[0.5, 0.2, 0.2, 0.1])
    fuel = rng.choice(["lpg_3kg", "kayu_bakar", "listrik"], n, p=[0.7, 0.2, 0.1])
    car = rng.integers(0, 2, n)
    size = rng.integers(1, 8, n)
    weight = rng.uniform(20, 400, n)
    log_c = (
        12.5
        + 0.004 * area
        - 0.25 * (floor == "tanah")
        - 0.1 * (fuel == "kayu_bakar")
        + 0.3 * car
        - 0.08 * size
        + rng.normal(0, 0.35, n)
    )
    return {
        "konsumsi": np.exp(log_c),
        "luas": area,
        "lantai": floor.astype(object),
        "bahan_bakar": fuel,
        "mobil": car,
        "anggota": size,
        "bobot": weight,
        "kelompok": rng.choice(["utara", "selatan"], n),
    }


def test_fixed_reference_values() -> None:
    model = fit_pmt(FIXED, target="konsumsi", weight="bobot", features=["luas", "lantai", "mobil"])
    expected = {
        "intercept": 12.642887346782944,
        "luas": 0.01805877863816686,
        "lantai=semen_bata": 0.03439653583688368,
        "lantai=tanah": -0.2566781621796727,
        "mobil": 0.13657719290809103,
    }
    assert list(model.coefficients) == list(expected)
    for name, value in expected.items():
        assert model.coefficients[name] == pytest.approx(value, abs=1e-9)
    assert model.r2 == pytest.approx(0.98008260319247, abs=1e-9)
    assert model.residual_variance == pytest.approx(0.011629358688542712, abs=1e-12)
    assert (model.n, model.weight_sum, model.dropped) == (10, 14.0, 0)
    assert model.features[1].reference == "keramik"  # the most frequent floor


def test_equals_statsmodels_wls() -> None:
    data = survey()
    model = fit_pmt(
        data,
        target="konsumsi",
        weight="bobot",
        features=["luas", "lantai", "bahan_bakar", "mobil", "anggota"],
        reference={"lantai": "tanah"},
    )
    columns = [np.ones(len(data["luas"])), data["luas"]]
    columns += [(data["lantai"] == lv).astype(float) for lv in ("kayu_papan", "keramik", "semen_bata")]
    columns += [(data["bahan_bakar"] == lv).astype(float) for lv in ("kayu_bakar", "listrik")]
    columns += [data["mobil"], data["anggota"]]
    reference = sm.WLS(np.log(data["konsumsi"]), np.column_stack(columns), weights=data["bobot"]).fit()
    assert model.coefficient_names == (
        "intercept",
        "luas",
        "lantai=kayu_papan",
        "lantai=keramik",
        "lantai=semen_bata",
        "bahan_bakar=kayu_bakar",
        "bahan_bakar=listrik",
        "mobil",
        "anggota",
    )
    np.testing.assert_allclose(model.coefficient_values, reference.params, rtol=0, atol=1e-9)
    assert model.r2 == pytest.approx(reference.rsquared, abs=1e-9)
    assert model.residual_variance == pytest.approx(reference.scale, abs=1e-9)
    fitted = model.predict(data).log_welfare
    np.testing.assert_allclose(fitted, reference.fittedvalues, atol=1e-9)


def test_one_categorical_feature_gives_weighted_group_means() -> None:
    data = {"c": [math.e**1, math.e**3, math.e**2, math.e**6], "g": ["a", "a", "b", "b"], "w": [1, 3, 2, 2]}
    model = fit_pmt(data, target="c", weight="w", features=["g"], reference={"g": "a"})
    # reference group a: (1·1 + 3·3)/4 = 2.5; group b: (2·2 + 2·6)/4 = 4
    assert model.coefficients == pytest.approx({"intercept": 2.5, "g=b": 1.5}, abs=1e-12)


def test_unweighted_fit_uses_unit_weights() -> None:
    model = fit_pmt(FIXED, target="konsumsi", features=["luas"])
    y = np.log(FIXED["konsumsi"])
    slope, intercept = np.polyfit(FIXED["luas"], y, 1)
    assert model.coefficients == pytest.approx({"intercept": intercept, "luas": slope}, abs=1e-9)
    assert model.weight is None and model.weight_sum == 10.0


def test_rows_with_missing_or_unusable_values_are_dropped_and_counted() -> None:
    data = {k: list(v) for k, v in FIXED.items()}
    data["konsumsi"][0] = 0  # ln(0) undefined
    data["lantai"][1] = None
    data["bobot"][2] = float("nan")
    data["luas"][3] = None  # a gap in a numeric column: still numeric
    model = fit_pmt(data, target="konsumsi", weight="bobot", features=["luas", "lantai"])
    assert (model.n, model.dropped) == (6, 4)
    assert model.features[0].kind == "numeric"


def test_prediction_takes_unknown_levels_as_reference_and_fills_missing_numbers() -> None:
    model = fit_pmt(FIXED, target="konsumsi", weight="bobot", features=["luas", "lantai", "mobil"])
    coef = model.coefficients
    prediction = model.predict(
        {"luas": [30, None], "lantai": ["marmer_granit", "tanah"], "mobil": [True, False]}
    )
    assert (prediction.unknown_levels, prediction.imputed) == (1, 1)
    mean_area = float(np.average(FIXED["luas"], weights=FIXED["bobot"]))
    assert prediction.log_welfare[0] == pytest.approx(coef["intercept"] + 30 * coef["luas"] + coef["mobil"])
    assert prediction.log_welfare[1] == pytest.approx(
        coef["intercept"] + mean_area * coef["luas"] + coef["lantai=tanah"]
    )
    assert prediction.per_capita[0] == pytest.approx(math.exp(prediction.log_welfare[0]))


def test_contributions_name_what_pushed_the_prediction() -> None:
    model = fit_pmt(FIXED, target="konsumsi", weight="bobot", features=["luas", "lantai", "mobil"])
    terms = dict(model.contributions({"luas": 20, "lantai": "tanah", "mobil": False}))
    assert terms["lantai=tanah"] == pytest.approx(model.coefficients["lantai=tanah"])
    assert terms["luas"] == pytest.approx(20 * model.coefficients["luas"])
    assert terms["mobil"] == 0.0


def test_specification_errors() -> None:
    with pytest.raises(ValidationError) as caught:
        fit_pmt(FIXED, target="konsumsi", features=["luas", "atap"], reference={"dinding": "tembok"})
    assert [(e.field, e.message) for e in caught.value.errors] == [
        ("atap", "kolom tidak ada"),
        ("dinding", "bukan fitur model"),
    ]
    with pytest.raises(ValidationError, match="Level acuan 'marmer' tidak ada"):
        fit_pmt(FIXED, target="konsumsi", features=["lantai"], reference={"lantai": "marmer"})
    collinear = dict(FIXED, luas2=[2 * a for a in FIXED["luas"]])
    with pytest.raises(ValidationError, match="kolinear") as caught:
        fit_pmt(collinear, target="konsumsi", features=["luas", "luas2"])
    assert [e.field for e in caught.value.errors] == ["luas2"]
    with pytest.raises(ValidationError, match="terlalu sedikit"):
        fit_pmt({k: v[:3] for k, v in FIXED.items()}, target="konsumsi", features=["luas", "lantai"])


def test_one_model_per_group() -> None:
    data = survey(2000, seed=3)
    grouped = fit_pmt_by_group(
        data, group_column="kelompok", target="konsumsi", weight="bobot", features=["luas", "lantai", "mobil"]
    )
    assert [m.group for m in grouped.models] == ["selatan", "utara"]
    north = data["kelompok"] == "utara"
    alone = fit_pmt(
        {k: v[north] for k, v in data.items()},
        target="konsumsi",
        weight="bobot",
        features=["luas", "lantai", "mobil"],
    )
    assert grouped.model_for("utara").coefficients == pytest.approx(alone.coefficients, abs=1e-12)
    predicted = grouped.predict(data).log_welfare
    np.testing.assert_allclose(
        predicted[north], alone.predict({k: v[north] for k, v in data.items()}).log_welfare
    )
    with pytest.raises(ValidationError, match="kelompok 'barat'"):
        grouped.model_for("barat")


def test_numeric_codes_can_be_categorical_and_missing_levels_count_as_unknown() -> None:
    data = dict(FIXED, daya=[450, 900, 450, 1300, 1300, 900, 900, 450, 1300, 900])
    model = fit_pmt(data, target="konsumsi", weight="bobot", features=["luas", "daya"], categorical=["daya"])
    assert model.features[1].levels == ("1300", "450", "900")
    assert model.features[1].reference == "900"  # 4 of 10, the most frequent
    prediction = model.predict({"luas": [30.0, 30.0, 30.0], "daya": [450.0, None, "450"]})
    assert prediction.unknown_levels == 1
    assert prediction.log_welfare[0] == pytest.approx(prediction.log_welfare[2])
    assert prediction.log_welfare[1] == pytest.approx(
        model.coefficients["intercept"] + 30 * model.coefficients["luas"]
    )


def test_model_survives_a_json_round_trip() -> None:
    model = fit_pmt(FIXED, target="konsumsi", weight="bobot", features=["luas", "lantai", "mobil"])
    again = type(model).from_dict(json.loads(json.dumps(model.as_dict())))
    assert again == model
