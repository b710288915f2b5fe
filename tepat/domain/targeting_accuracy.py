"""Targeting accuracy: inclusion and exclusion error at a stated coverage.

In the form of Alatas, Banerjee, Hanna, Olken and Tobias (2012), "Targeting the
Poor: Evidence from a Field Experiment in Indonesia", AER 102(4):

* the **target group** is the truly poorest share ``q`` of households by
  (observed) per-capita consumption;
* the **selected** group is the poorest share ``q`` by the model's prediction;
* **inclusion error** = share of the selected who are not in the target group;
* **exclusion error** = share of the target group who are not selected.

With survey weights, shares are weighted: the poorest ``q`` is the set of
households, in ascending order, whose cumulative weight *before* them is below
``q · Σw`` (so the household that crosses the line is included; unweighted this is
``ceil(q · n)`` households), and each error is a ratio of weight sums. Pass
household weight × household size for person-weighted errors. Ties in
consumption or prediction are broken by input order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from tepat.errors import ValidationError

BoolArray = npt.NDArray[np.bool_]
ArrayLike = Sequence[float] | npt.NDArray[Any]


@dataclass(frozen=True)
class TargetingErrors:
    """Inclusion and exclusion error of one model at one coverage."""

    coverage: float
    inclusion_error: float
    exclusion_error: float
    target_count: int
    selected_count: int
    target_weight: float
    selected_weight: float


def poorest_share(values: ArrayLike, share: float, weights: ArrayLike | None = None) -> BoolArray:
    """Mask of the poorest ``share`` of units by ``values`` (weighted if ``weights`` given)."""
    x = np.asarray(values, dtype=np.float64)
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=np.float64)
    _check(x, w, share)
    order = np.argsort(x, kind="stable")
    before = np.cumsum(w[order]) - w[order]
    line = share * w.sum()
    # a relative tolerance, so that e.g. 0.3 · 10 households selects exactly 3
    inside = before < line - 1e-12 * w.sum()
    mask = np.zeros(x.shape[0], dtype=np.bool_)
    mask[order[inside]] = True
    return mask


def targeting_errors(
    consumption: ArrayLike,
    predicted: ArrayLike,
    coverage: float,
    weights: ArrayLike | None = None,
    selection: float | None = None,
) -> TargetingErrors:
    """Inclusion and exclusion error for the poorest ``coverage`` share, selecting by prediction.

    The selected share is ``coverage`` too unless ``selection`` (e.g. a programme quota) is given.
    """
    target = poorest_share(consumption, coverage, weights)
    selected = poorest_share(predicted, coverage if selection is None else selection, weights)
    w = np.ones(target.shape[0]) if weights is None else np.asarray(weights, dtype=np.float64)
    if target.shape != selected.shape:
        raise ValidationError("Jumlah nilai konsumsi dan prediksi tidak sama.")
    w_target = float(w[target].sum())
    w_selected = float(w[selected].sum())
    return TargetingErrors(
        coverage=coverage,
        inclusion_error=float(w[selected & ~target].sum()) / w_selected if w_selected else 0.0,
        exclusion_error=float(w[target & ~selected].sum()) / w_target if w_target else 0.0,
        target_count=int(target.sum()),
        selected_count=int(selected.sum()),
        target_weight=w_target,
        selected_weight=w_selected,
    )


def targeting_table(
    consumption: ArrayLike,
    predicted: ArrayLike,
    coverages: Sequence[float] = (0.1, 0.2, 0.4),
    weights: ArrayLike | None = None,
) -> list[TargetingErrors]:
    """``targeting_errors`` at each coverage (default the poorest 10 %, 20 % and 40 %)."""
    return [targeting_errors(consumption, predicted, q, weights) for q in coverages]


def _check(x: npt.NDArray[np.float64], w: npt.NDArray[np.float64], share: float) -> None:
    if not 0 < share <= 1:
        raise ValidationError(f"Cakupan harus di antara 0 dan 1, bukan {share}.")
    if x.ndim != 1 or w.shape != x.shape:
        raise ValidationError("Jumlah nilai dan bobot tidak sama.")
    if not (np.isfinite(x).all() and np.isfinite(w).all()) or (w < 0).any():
        raise ValidationError("Nilai dan bobot harus berupa angka, dan bobot tidak negatif.")
