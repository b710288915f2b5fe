"""FGT poverty indices with design-based standard errors (BPS method).

``P_a = sum_i w_i m_i 1[y_i < z_i] ((z_i - y_i)/z_i)^a / sum_i w_i m_i`` for
a = 0 (head-count), 1 (gap), 2 (severity), reported x100 as BPS publishes them;
``w`` is the household (or person) weight and ``m`` the household size, so a
household file is weighted to persons. A person is poor when consumption is
strictly below the line.

Variance is the Taylor linearisation of a ratio for a stratified multi-stage
design with PSUs drawn with replacement within strata (the "ultimate cluster"
estimator), exactly what R's ``survey`` package computes for
``svydesign(ids=~psu, strata=~stratum, weights=~w*m)`` with ``svymean`` and
``svyby``. PSU labels are nested in strata (``nest=TRUE``). Domains are
estimated on the full design: a PSU without members of the domain counts as a
zero, never dropped. A stratum with a single PSU follows
``options(survey.lonely.psu="adjust")`` by default (its PSU total is centred on
the overall mean, zero for a linearised mean) or ``"certainty"`` (it adds no
variance; ``"remove"`` gives the same numbers for a one-stage design).

The work is vectorised: ``SurveyDesign`` numbers the (stratum, domain, PSU)
cells once; each estimate sums four columns per cell over the poor rows only
(``np.bincount``) and does the rest on the cells, never looping over domains or
PSUs in Python.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

Z95 = 1.959963984540054
"""The 97.5 % normal quantile, as R's ``confint`` uses for design-based means."""

Floats = NDArray[np.float64]
Ints = NDArray[np.intp]


class LonelyPsu(StrEnum):
    """How a stratum with a single PSU enters the variance (R ``survey.lonely.psu``)."""

    ADJUST = "adjust"
    CERTAINTY = "certainty"


@dataclass(frozen=True)
class FgtEstimate:
    """FGT indices (x100) for one domain, with their design-based uncertainty."""

    domain: str | None
    n: int
    population: float
    poor: float
    se_poor: float
    p0: float
    p1: float
    p2: float
    se_p0: float
    se_p1: float
    se_p2: float
    deff_p0: float
    deff_p1: float
    deff_p2: float

    def ci95(self, index: str) -> tuple[float, float]:
        """The 95 % confidence interval of ``p0``, ``p1`` or ``p2``."""
        value, se = getattr(self, index), getattr(self, f"se_{index}")
        return value - Z95 * se, value + Z95 * se

    def rse(self, index: str) -> float | None:
        """Relative standard error in percent (None when the estimate is zero)."""
        value, se = getattr(self, index), getattr(self, f"se_{index}")
        return None if value == 0 else 100.0 * se / value

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: the estimates, SEs, design effects, 95 % CIs and relative SEs."""
        out: dict[str, Any] = {
            "domain": self.domain,
            "n": self.n,
            "population": _finite(self.population),
            "poor": _finite(self.poor),
            "se_poor": _finite(self.se_poor),
        }
        for index in ("p0", "p1", "p2"):
            out[index] = _finite(getattr(self, index))
            out[f"se_{index}"] = _finite(getattr(self, f"se_{index}"))
            out[f"deff_{index}"] = _finite(getattr(self, f"deff_{index}"))
            low, high = self.ci95(index)
            out[f"ci95_{index}"] = [_finite(low), _finite(high)]
            rse = self.rse(index)
            out[f"rse_{index}"] = None if rse is None else _finite(rse)
        return out


def _finite(value: float) -> float | None:
    """JSON has no NaN: an undefined number (0/0, e.g. a domain without weight or without poor) is null."""
    return value if math.isfinite(value) else None


def _codes(values: ArrayLike | None, n: int) -> tuple[Ints, list[str]]:
    if values is None:
        return np.zeros(n, dtype=np.intp), [""]
    array = np.asarray(values)
    if array.shape != (n,):
        raise ValueError("Semua kolom desain harus sepanjang data.")
    labels, inverse = np.unique(array, return_inverse=True)
    return inverse.astype(np.intp).reshape(n), [str(v) for v in labels.tolist()]


def _renumber(key: NDArray[np.int64]) -> tuple[Ints, Ints]:
    """Dense codes 0..k-1 for the distinct values of ``key`` (in sorted order), and the sort order."""
    order = np.argsort(key, kind="stable").astype(np.intp)
    ordered = key[order]
    change = np.empty(ordered.shape[0], dtype=bool)
    change[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=change[1:])
    codes = np.empty(ordered.shape[0], dtype=np.intp)
    codes[order] = np.cumsum(change) - 1
    return codes, order


class SurveyDesign:
    """A sample prepared once for repeated FGT estimates: weights, strata, PSUs, domains.

    Each row belongs to one *cell*, a (stratum, domain, PSU) combination; cells
    are numbered in that sort order so that the cells of one (stratum, domain)
    *group* are contiguous. An estimate sums per cell with ``np.bincount`` over
    the poor rows only and does everything else on the cells.
    """

    def __init__(
        self,
        weight: ArrayLike,
        *,
        size: ArrayLike | None = None,
        strata: ArrayLike | None = None,
        psu: ArrayLike | None = None,
        domain: ArrayLike | None = None,
        lonely_psu: LonelyPsu = LonelyPsu.ADJUST,
    ) -> None:
        w = np.asarray(weight, dtype=np.float64)
        if w.ndim != 1 or w.shape[0] == 0:
            raise ValueError("Data survei kosong.")
        n = w.shape[0]
        if not np.all(np.isfinite(w)) or np.any(w < 0):
            raise ValueError("Bobot harus berupa angka tidak negatif.")
        if size is not None:
            m = np.asarray(size, dtype=np.float64)
            if m.shape != (n,) or not np.all(np.isfinite(m)) or np.any(m <= 0):
                raise ValueError("Jumlah anggota rumah tangga harus lebih dari nol.")
            w = w * m
        stratum, self.strata_labels = _codes(strata, n)
        dom, labels = _codes(domain, n)
        self.domain_labels: list[str | None] = [None] if domain is None else list(labels)
        n_strata, n_domains = len(self.strata_labels), len(self.domain_labels)
        if psu is None:
            unit = np.arange(n, dtype=np.intp)  # each row its own PSU (ids=~1)
        else:
            raw, raw_labels = _codes(psu, n)
            # PSU labels are nested in strata: the same label in two strata is two PSUs.
            unit, _ = _renumber(stratum.astype(np.int64) * len(raw_labels) + raw)
        n_units = int(unit.max()) + 1
        unit_stratum = np.zeros(n_units, dtype=np.intp)
        unit_stratum[unit] = stratum
        psus_per_stratum = np.bincount(unit_stratum, minlength=n_strata).astype(np.float64)

        if float(n_strata) * n_domains * n_units >= 2.0**62:
            raise ValueError("Desain survei terlalu besar.")
        cell, order = _renumber((stratum.astype(np.int64) * n_domains + dom) * n_units + unit)
        first = order[np.flatnonzero(np.diff(cell[order], prepend=-1))]  # first row of each cell
        cell_stratum, cell_domain = stratum[first], dom[first]
        group_change = np.ones(first.shape[0], dtype=bool)
        group_change[1:] = (cell_stratum[1:] != cell_stratum[:-1]) | (cell_domain[1:] != cell_domain[:-1])
        self.lonely_psu = lonely_psu
        self.n = n
        self.weight = w
        self.cell = cell
        self.n_cells = int(first.shape[0])
        self.cell_domain = cell_domain
        self.group_starts = np.flatnonzero(group_change).astype(np.intp)
        self.group_domain = cell_domain[self.group_starts]
        self.group_psus = psus_per_stratum[cell_stratum[self.group_starts]]
        self.cell_weight = np.bincount(cell, w, minlength=self.n_cells)
        self.domain_weight: Floats = np.bincount(cell_domain, self.cell_weight, minlength=n_domains).astype(
            np.float64
        )
        self.domain_rows = np.bincount(dom, minlength=n_domains)
        self.domain_sampled = np.bincount(dom, w > 0, minlength=n_domains).astype(np.float64)

    def variance(self, totals: Floats) -> Floats:
        """Per-domain variances of linearised cell totals: rows are statistics, columns cells -> domains."""
        sums = np.add.reduceat(totals, self.group_starts, axis=1)
        squares = np.add.reduceat(totals * totals, self.group_starts, axis=1)
        h = self.group_psus
        lonely = h == 1
        safe = np.where(lonely, 2.0, h)
        within = safe / (safe - 1.0) * (squares - sums * sums / safe)
        if self.lonely_psu is LonelyPsu.ADJUST:
            contribution = np.where(lonely, squares, within)
        else:
            contribution = np.where(lonely, 0.0, within)
        return self.by_domain(contribution)

    def by_domain(self, per_group: Floats) -> Floats:
        """Sum (stratum, domain) group values to domains, one row per statistic."""
        n_domains = len(self.domain_labels)
        if n_domains == 1:
            total: Floats = per_group.sum(axis=1, keepdims=True)
            return total
        out = np.empty((per_group.shape[0], n_domains))
        for k in range(per_group.shape[0]):  # a handful of statistics, not domains
            out[k] = np.bincount(self.group_domain, per_group[k], minlength=n_domains)
        return out


def _poor_sums(design: SurveyDesign, y: Floats, z: Floats | float) -> Floats:
    """Per cell: sums of w, w*gap, w*gap^2 and w*gap^4 over the poor (the rest add zero, so skip them)."""
    poor = np.flatnonzero(y < z)
    line = z if isinstance(z, float) else z[poor]
    gap = 1.0 - y[poor] / line
    cell = design.cell[poor]
    weighted = design.weight[poor]
    out = np.empty((4, design.n_cells))
    out[0] = np.bincount(cell, weighted, minlength=design.n_cells)
    weighted = weighted * gap
    out[1] = np.bincount(cell, weighted, minlength=design.n_cells)
    weighted *= gap
    out[2] = np.bincount(cell, weighted, minlength=design.n_cells)
    weighted *= gap * gap
    out[3] = np.bincount(cell, weighted, minlength=design.n_cells)
    return out


@dataclass(frozen=True)
class FgtTable:
    """FGT estimates for every domain of a design as arrays (row k of ``p``, ``se``, ``deff`` is P_k x100)."""

    domains: list[str | None]
    n: Ints
    population: Floats
    poor: Floats
    se_poor: Floats
    p: Floats
    se: Floats
    deff: Floats

    def rows(self) -> list[FgtEstimate]:
        """One ``FgtEstimate`` per domain."""
        return [
            FgtEstimate(
                domain=label,
                n=int(self.n[d]),
                population=float(self.population[d]),
                poor=float(self.poor[d]),
                se_poor=float(self.se_poor[d]),
                p0=float(self.p[0, d]),
                p1=float(self.p[1, d]),
                p2=float(self.p[2, d]),
                se_p0=float(self.se[0, d]),
                se_p1=float(self.se[1, d]),
                se_p2=float(self.se[2, d]),
                deff_p0=float(self.deff[0, d]),
                deff_p1=float(self.deff[1, d]),
                deff_p2=float(self.deff[2, d]),
            )
            for d, label in enumerate(self.domains)
        ]


def fgt_table(design: SurveyDesign, consumption: ArrayLike, line: ArrayLike | float) -> FgtTable:
    """P0, P1, P2 (x100), the number of poor, their SEs and design effects for every domain, as arrays."""
    y = np.asarray(consumption, dtype=np.float64)
    if y.shape != (design.n,):
        raise ValueError("Kolom konsumsi harus sepanjang data.")
    z_in = np.asarray(line, dtype=np.float64)
    if z_in.ndim == 0:
        if not (np.isfinite(z_in) and z_in > 0):
            raise ValueError("Garis kemiskinan harus lebih dari nol.")
        z: Floats | float = float(z_in)
    else:
        if z_in.shape != (design.n,) or not np.all(np.isfinite(z_in)) or np.any(z_in <= 0):
            raise ValueError("Garis kemiskinan harus lebih dari nol di setiap baris.")
        z = z_in
    if not math.isfinite(float(y.sum())):  # one pass: a NaN or infinity anywhere makes the sum non-finite
        raise ValueError("Konsumsi harus berupa angka di setiap baris.")
    cells = _poor_sums(design, y, z)
    totals = design.by_domain(np.add.reduceat(cells, design.group_starts, axis=1))
    weight = design.domain_weight
    with np.errstate(divide="ignore", invalid="ignore"):
        means = totals / weight  # rows: p0, p1, p2, E[gap^4]
        # Linearised cell totals of the ratio means (R: x * w / sum(w) after centring) and of the poor total.
        linear = np.empty((4, design.n_cells))
        if len(design.domain_labels) == 1:
            linear[:3] = (cells[:3] - means[:3] * design.cell_weight) / weight[0]
        else:
            cd = design.cell_domain
            linear[:3] = (cells[:3] - means[:3, cd] * design.cell_weight) / weight[cd]
        linear[3] = cells[0]
        var = design.variance(linear)
        # Design effect against simple random sampling with replacement (R: deff="replace").
        srs = (means[[0, 2, 3]] - means[:3] ** 2) / (design.domain_sampled - 1.0)
        deff = var[:3] / srs
    # A variance is a sum of squares: below zero only by rounding (e.g. every person equally poor), so it is 0.
    se = np.sqrt(np.maximum(var, 0.0))  # NaN (a lonely PSU left undefined) stays NaN
    return FgtTable(
        domains=design.domain_labels,
        n=design.domain_rows,
        population=weight,
        poor=totals[0],
        se_poor=se[3],
        p=100.0 * means[:3],
        se=100.0 * se[:3],
        deff=deff,
    )


def estimate_fgt(design: SurveyDesign, consumption: ArrayLike, line: ArrayLike | float) -> list[FgtEstimate]:
    """P0, P1, P2 (x100), the number of poor, and their SEs and design effects, one entry per domain."""
    return fgt_table(design, consumption, line).rows()
