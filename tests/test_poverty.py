"""FGT estimator: hand-checked examples, the variance formula by hand, invariants (hypothesis), poverty line."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tepat.domain.poverty import Z95, LonelyPsu, SurveyDesign, estimate_fgt
from tepat.domain.poverty_line import BasketItem, food_line, per_capita, poverty_line


def fgt(consumption, line, weight=None, **design):
    w = np.ones(len(consumption)) if weight is None else weight
    return estimate_fgt(SurveyDesign(w, **design), np.asarray(consumption, dtype=float), line)


def test_four_people_by_hand():
    # Gaps 0.5 and 0.2 for the two poor: P0 = 2/4, P1 = 0.7/4, P2 = (0.25 + 0.04)/4.
    (e,) = fgt([50, 80, 120, 200], 100)
    assert e.p0 == pytest.approx(50.0)
    assert e.p1 == pytest.approx(17.5)
    assert e.p2 == pytest.approx(7.25)
    assert e.poor == 2 and e.population == 4 and e.n == 4 and e.domain is None


def test_consumption_equal_to_the_line_is_not_poor():
    (e,) = fgt([100, 99.99], 100)
    assert e.p0 == pytest.approx(50.0)


def test_household_size_weights_persons():
    # Household A: 1 person, poor; household B: 3 persons, not poor -> 1 poor person in 4.
    (e,) = fgt([50, 300], 100, weight=np.array([10.0, 10.0]), size=np.array([1, 3]))
    assert e.p0 == pytest.approx(25.0)
    assert e.population == pytest.approx(40.0)
    assert e.poor == pytest.approx(10.0)


def test_standard_error_by_hand_for_srs():
    # One stratum, every row its own PSU, equal weights: var(mean) = s^2 / n with s^2 on n-1.
    y = np.array([50, 80, 120, 200, 90, 300])
    (e,) = fgt(y, 100)
    poor = (y < 100).astype(float)
    expected = math.sqrt(poor.var(ddof=1) / len(y)) * 100
    assert e.se_p0 == pytest.approx(expected, rel=1e-12)
    assert e.deff_p0 == pytest.approx(1.0)
    low, high = e.ci95("p0")
    assert low == pytest.approx(e.p0 - Z95 * e.se_p0) and high == pytest.approx(e.p0 + Z95 * e.se_p0)
    assert e.rse("p0") == pytest.approx(100 * e.se_p0 / e.p0)


def test_standard_error_by_hand_for_two_strata_of_two_psus():
    # Each PSU one person of weight 1: z_i = (f_i - p)/N; stratum h adds 2/(2-1) * sum_j (z_hj - zbar_h)^2.
    y = np.array([50.0, 150.0, 60.0, 70.0])
    (e,) = fgt(y, 100, strata=np.array(["a", "a", "b", "b"]), psu=np.array([1, 2, 1, 2]))
    f = (y < 100).astype(float)
    z = (f - f.mean()) / 4
    var = 2 * ((z[0] - z[:2].mean()) ** 2 + (z[1] - z[:2].mean()) ** 2) + 2 * (
        (z[2] - z[2:].mean()) ** 2 + (z[3] - z[2:].mean()) ** 2
    )
    assert e.se_p0 == pytest.approx(100 * math.sqrt(var), rel=1e-12)


def test_lonely_psu_adjust_adds_its_total_and_certainty_adds_nothing():
    y = np.array([50.0, 150.0, 60.0, 70.0, 40.0])
    strata, psu = np.array(["a", "a", "b", "b", "c"]), np.array([1, 2, 1, 2, 1])
    (adjust,) = fgt(y, 100, strata=strata, psu=psu, lonely_psu=LonelyPsu.ADJUST)
    (certainty,) = fgt(y, 100, strata=strata, psu=psu, lonely_psu=LonelyPsu.CERTAINTY)
    f = (y < 100).astype(float)
    lonely_total = (f[4] - f.mean()) / 5
    assert (adjust.se_p0 / 100) ** 2 - (certainty.se_p0 / 100) ** 2 == pytest.approx(
        lonely_total**2, rel=1e-9
    )


def test_psu_labels_are_nested_in_strata():
    y = np.array([50.0, 150.0, 60.0, 170.0])
    (nested,) = fgt(y, 100, strata=np.array(["a", "a", "b", "b"]), psu=np.array([1, 2, 1, 2]))
    (unique,) = fgt(y, 100, strata=np.array(["a", "a", "b", "b"]), psu=np.array([11, 12, 21, 22]))
    assert nested.se_p0 == unique.se_p0


def test_domain_estimates_equal_subset_means_but_keep_the_design():
    rng = np.random.default_rng(7)
    n = 200
    y = rng.lognormal(np.log(120), 0.5, n)
    w = rng.uniform(1, 5, n)
    strata = np.repeat(np.arange(10), 20)
    psu = np.tile(np.repeat(np.arange(4), 5), 10)
    domain = np.where(
        (psu == 0) | (rng.random(n) < 0.2), "kota", "desa"
    )  # no "desa" in the first PSU of a stratum
    by = estimate_fgt(SurveyDesign(w, strata=strata, psu=psu, domain=domain), y, 100.0)
    assert [e.domain for e in by] == ["desa", "kota"]
    for e in by:
        keep = domain == e.domain
        (subset,) = fgt(y[keep], 100.0, weight=w[keep], strata=strata[keep], psu=psu[keep])
        assert e.p0 == pytest.approx(subset.p0, rel=1e-12)
        assert e.n == keep.sum()
        if e.domain == "desa":  # subsetting drops the PSUs without the domain: the wrong n_h
            assert e.se_p0 != pytest.approx(subset.se_p0, rel=1e-6)
    assert sum(e.population for e in by) == pytest.approx(w.sum())


def test_zero_poor_domain_has_zero_error_and_no_design_effect():
    by = fgt([50, 60, 500, 600], 100, domain=np.array(["a", "a", "b", "b"]))
    assert by[1].p0 == 0 and by[1].se_p0 == 0
    assert by[1].as_dict()["deff_p0"] is None and by[1].as_dict()["rse_p0"] is None


def test_a_domain_without_weight_gives_null_not_nan():
    by = fgt([50, 60, 500], 100, weight=np.array([1.0, 1.0, 0.0]), domain=np.array(["a", "a", "b"]))
    row = by[1].as_dict()
    assert row["p0"] is None and row["ci95_p0"] == [None, None] and row["population"] == 0


@pytest.mark.parametrize("bad", [{"weight": np.array([1.0, -1.0])}, {"weight": np.array([1.0, np.nan])}])
def test_bad_weights_are_refused(bad):
    with pytest.raises(ValueError, match="Bobot"):
        SurveyDesign(**bad)


def test_bad_line_is_refused():
    design = SurveyDesign(np.ones(2))
    with pytest.raises(ValueError, match="Garis kemiskinan"):
        estimate_fgt(design, np.array([1.0, 2.0]), 0)
    with pytest.raises(ValueError, match="setiap baris"):
        estimate_fgt(design, np.array([1.0, 2.0]), np.array([100.0, -1.0]))


# ----------------------------------------------------------------- invariants


def test_everyone_equally_poor_has_zero_standard_error_not_nan():
    # Found by hypothesis: the linearised values cancel to rounding noise and the variance came out at -1e-20,
    # which made the standard error NaN.
    y = [18.001553605221403] * 5
    w = np.array(
        [40.28287307073903, 36.594669440680654, 38.12008510706625, 24.09290137498637, 35.2221098707927]
    )
    (e,) = fgt(y, 100, weight=w)
    assert e.p0 == pytest.approx(100.0)
    assert [e.se_p0, e.se_p1, e.se_p2] == pytest.approx([0.0, 0.0, 0.0], abs=1e-9)


samples = st.lists(
    st.tuples(st.floats(1, 10_000, allow_nan=False), st.floats(0.1, 50, allow_nan=False)),
    min_size=1,
    max_size=40,
)


@settings(max_examples=80, deadline=None)
@given(samples, st.floats(1, 10_000))
def test_severity_below_gap_below_headcount(rows, line):
    y, w = np.array([r[0] for r in rows]), np.array([r[1] for r in rows])
    (e,) = fgt(y, line, weight=w)
    assert e.p2 <= e.p1 + 1e-9 <= e.p0 + 2e-9
    assert 0 <= e.p2 and e.p0 <= 100 + 1e-9


@settings(max_examples=80, deadline=None)
@given(samples, st.floats(1, 10_000), st.floats(0.001, 1000))
def test_scale_invariance(rows, line, factor):
    y, w = np.array([r[0] for r in rows]), np.array([r[1] for r in rows])
    (a,) = fgt(y, line, weight=w)
    (b,) = fgt(y * factor, line * factor, weight=w)
    assert (
        b.p0 == pytest.approx(a.p0, abs=1e-9) or abs(y / line - 1).min() < 1e-9
    )  # rounding right at the line
    assert b.p1 == pytest.approx(a.p1, abs=1e-7)
    assert b.p2 == pytest.approx(a.p2, abs=1e-7)


@settings(max_examples=80, deadline=None)
@given(samples, st.floats(1, 10_000), st.data())
def test_a_transfer_to_a_poor_person_never_raises_the_gap(rows, line, data):
    y, w = np.array([r[0] for r in rows]), np.array([r[1] for r in rows])
    poor = np.flatnonzero(y < line)
    if poor.size == 0:
        return
    i = data.draw(st.sampled_from(poor.tolist()))
    gift = data.draw(st.floats(0, 2 * line))
    after = y.copy()
    after[i] += gift
    (before_e,) = fgt(y, line, weight=w)
    (after_e,) = fgt(after, line, weight=w)
    assert after_e.p1 <= before_e.p1 + 1e-9
    assert after_e.p0 <= before_e.p0 + 1e-9


# ----------------------------------------------------------------- poverty line


def test_food_line_scales_the_basket_to_2100_kcal():
    basket = [BasketItem("beras", 7.0, 3600.0, 14_000), BasketItem("telur", 1.0, 1540.0, 30_000)]
    calories = 7 * 3600 + 1540  # per capita per month
    expected = (7 * 14_000 + 30_000) * 2100 * 30 / calories
    assert food_line(basket) == round(expected)


def test_poverty_line_from_share_or_rupiah():
    line = poverty_line(600_000, non_food_share=0.25)
    assert line.total == 800_000 and line.non_food == 200_000 and line.food_share == 0.75
    assert poverty_line(600_000, non_food=242_927).total == 842_927
    with pytest.raises(ValueError):
        poverty_line(600_000)
    with pytest.raises(ValueError):
        poverty_line(600_000, non_food_share=1.0)


def test_basket_without_calories_is_refused():
    with pytest.raises(ValueError, match="kalori"):
        food_line([BasketItem("air", 1.0, 0.0, 1000)])


def test_per_capita_divides_by_size():
    assert per_capita([900_000, 1_000_000], [3, 4]).tolist() == [300_000.0, 250_000.0]
    with pytest.raises(ValueError):
        per_capita([1.0], [0])
