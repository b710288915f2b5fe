"""Welfare deciles (boundaries, ties, small n) and targeting accuracy (inclusion/exclusion error)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tepat.domain.deciles import decile_boundaries, decile_of_rank, rank_families
from tepat.domain.targeting_accuracy import poorest_share, targeting_errors, targeting_table
from tepat.errors import ValidationError

# ----------------------------------------------------------------- deciles


def test_ten_families_one_per_decile_poorest_first() -> None:
    welfare = [900, 100, 500, 300, 1000, 200, 800, 400, 700, 600]
    ranking = rank_families(welfare, list(range(1, 11)))
    assert ranking.decile.tolist() == [9, 1, 5, 3, 10, 2, 8, 4, 7, 6]
    assert ranking.rank.tolist() == [9, 1, 5, 3, 10, 2, 8, 4, 7, 6]
    assert decile_boundaries(welfare, ranking) == [
        100.0,
        200.0,
        300.0,
        400.0,
        500.0,
        600.0,
        700.0,
        800.0,
        900.0,
        1000.0,
    ]


def test_n_not_divisible_by_ten_sizes_differ_by_at_most_one() -> None:
    ranking = rank_families(np.arange(15.0), np.arange(15))
    assert ranking.sizes() == [2, 1, 2, 1, 2, 1, 2, 1, 2, 1]
    assert ranking.decile.tolist() == [1, 1, 2, 3, 3, 4, 5, 5, 6, 7, 7, 8, 9, 9, 10]
    assert rank_families(np.arange(25.0), np.arange(25)).sizes() == [3, 2, 3, 2, 3, 2, 3, 2, 3, 2]


def test_small_n() -> None:
    assert rank_families([5.0], [42]).decile.tolist() == [1]
    three = rank_families([3.0, 1.0, 2.0], [1, 2, 3])
    assert three.decile.tolist() == [7, 1, 4]
    assert three.sizes() == [1, 0, 0, 1, 0, 0, 1, 0, 0, 0]
    assert decile_boundaries([3.0, 1.0, 2.0], three) == [
        1.0,
        None,
        None,
        2.0,
        None,
        None,
        3.0,
        None,
        None,
        None,
    ]
    assert rank_families([], []).decile.tolist() == []


def test_ties_are_broken_by_family_key_whatever_the_input_order() -> None:
    welfare = [1.0] * 20
    keys = list(range(100, 120))
    ranking = rank_families(welfare, keys)
    assert ranking.decile.tolist() == [d for d in range(1, 11) for _ in range(2)]
    shuffled = np.random.default_rng(1).permutation(20)
    again = rank_families(np.asarray(welfare)[shuffled], np.asarray(keys)[shuffled])
    assert again.decile.tolist() == ranking.decile[shuffled].tolist()


def test_decile_of_rank_matches_the_ranking() -> None:
    ranking = rank_families(np.arange(37.0), np.arange(37))
    assert [decile_of_rank(int(r), 37) for r in ranking.rank] == ranking.decile.tolist()
    with pytest.raises(ValidationError):
        decile_of_rank(0, 37)


def test_bad_inputs() -> None:
    with pytest.raises(ValidationError, match="unik"):
        rank_families([1.0, 2.0], [7, 7])
    with pytest.raises(ValidationError, match="kosong"):
        rank_families([1.0, float("nan")], [1, 2])
    with pytest.raises(ValidationError, match="tidak sama"):
        rank_families([1.0, 2.0], [1])


@given(st.lists(st.integers(0, 5), min_size=1, max_size=200))
def test_deciles_are_monotone_and_balanced(values: list[int]) -> None:
    n = len(values)
    ranking = rank_families([float(v) for v in values], list(range(n)))
    sizes = ranking.sizes()
    assert sum(sizes) == n and max(sizes) - min(sizes) <= 1
    order = sorted(range(n), key=lambda i: (values[i], i))
    assert [int(ranking.decile[i]) for i in order] == sorted(int(d) for d in ranking.decile)


# ----------------------------------------------------------------- targeting accuracy

CONSUMPTION = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
PREDICTED = [2, 1, 5, 4, 3, 6, 7, 8, 9, 10]


def test_inclusion_and_exclusion_error_unweighted() -> None:
    errors = targeting_errors(CONSUMPTION, PREDICTED, 0.3)
    # target = households 0,1,2; selected = 0,1,4
    assert (errors.inclusion_error, errors.exclusion_error) == (pytest.approx(1 / 3), pytest.approx(1 / 3))
    assert (errors.target_count, errors.selected_count) == (3, 3)
    perfect = targeting_errors(CONSUMPTION, CONSUMPTION, 0.4)
    assert (perfect.inclusion_error, perfect.exclusion_error) == (0.0, 0.0)
    reversed_ = targeting_errors(CONSUMPTION, CONSUMPTION[::-1], 0.2)
    assert (reversed_.inclusion_error, reversed_.exclusion_error) == (1.0, 1.0)


def test_weighted_errors_use_survey_weights() -> None:
    weights = [5, 1, 1, 1, 1, 1, 1, 1, 1, 1]  # Σw = 14; 30 % = 4.2
    assert poorest_share(CONSUMPTION, 0.3, weights).tolist() == [True] + [False] * 9
    errors = targeting_errors(CONSUMPTION, PREDICTED, 0.3, weights)
    # selected by prediction: household 1 (w 1, before 0) and 0 (w 5, before 1); household 4 starts at 6 > 4.2
    assert errors.selected_weight == 6.0 and errors.target_weight == 5.0
    assert errors.inclusion_error == pytest.approx(1 / 6)
    assert errors.exclusion_error == 0.0


def test_selecting_a_larger_share_than_the_target_group() -> None:
    errors = targeting_errors(CONSUMPTION, PREDICTED, 0.2, selection=0.5)
    # target = households 0,1; selected (5 lowest predictions) = 1,0,4,3,2
    assert errors.exclusion_error == 0.0
    assert errors.inclusion_error == pytest.approx(3 / 5)
    assert (errors.target_count, errors.selected_count) == (2, 5)


def test_coverage_that_is_not_a_whole_number_of_households_rounds_up() -> None:
    assert poorest_share(list(range(15)), 0.1).sum() == 2  # ceil(1.5)
    assert (
        poorest_share(list(range(10)), 0.1 * 3).sum() == 3
    )  # 0.1·3·10 is 3.0000000000000004 in floating point
    assert [t.coverage for t in targeting_table(CONSUMPTION, PREDICTED)] == [0.1, 0.2, 0.4]


def test_accuracy_input_errors() -> None:
    with pytest.raises(ValidationError, match="Cakupan"):
        targeting_errors(CONSUMPTION, PREDICTED, 0)
    with pytest.raises(ValidationError, match="tidak sama"):
        targeting_errors(CONSUMPTION, PREDICTED[:5], 0.2)
