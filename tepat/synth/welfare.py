"""The hidden per-capita monthly consumption of a synthetic family.

``ln c = μ + kecamatan shift − 0.30·ln(size) − 0.35·(children/size) + σp·p + σt·t``
with ``p`` a permanent welfare component (housing, assets and schooling follow
it) and ``t`` a transitory one nothing observable reveals. ``μ`` is solved once so
that the expected person-weighted share below Kota Bekasi's 2024 poverty line
(Rp842.927) is 4,01 % (BPS), over a large fixed reference draw of families.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.optimize import brentq
from scipy.special import ndtr

from tepat.synth.composition import Composition, draw_composition
from tepat.synth.geography import bekasi

POVERTY_LINE = 842_927
"""Kota Bekasi 2024 poverty line, rupiah per capita per month (BPS)."""
POVERTY_SHARE = 0.0401
"""Kota Bekasi 2024 head-count ratio P0 (BPS)."""

SIZE_EFFECT = -0.30
CHILD_SHARE_EFFECT = -0.35
SIGMA_PERMANENT = 0.41
SIGMA_TRANSITORY = 0.34
_REFERENCE_FAMILIES = 200_000
_REFERENCE_SEED = 842_927


@dataclass(frozen=True)
class Calibration:
    """The solved location and the scale of the permanent log consumption."""

    location: float
    permanent_mean: float
    permanent_sd: float


def children_0_17(comp: Composition) -> np.ndarray:
    """Members aged under 18 per family."""
    return comp.per_family((comp.age < 18).astype(float)).astype(np.int64)


def structural_part(comp: Composition, kecamatan: np.ndarray, effect: np.ndarray | None = None) -> np.ndarray:
    """The part of ``ln c`` explained by where and with whom a family lives (without μ); ``effect`` is the city's
    shift per kecamatan (Kota Bekasi's by default)."""
    kids = children_0_17(comp)
    part: np.ndarray = (
        (bekasi().kecamatan_effect if effect is None else effect)[kecamatan]
        + SIZE_EFFECT * np.log(comp.size)
        + CHILD_SHARE_EFFECT * kids / comp.size
    )
    return part


@lru_cache(maxsize=1)
def calibration() -> Calibration:
    """Solve μ on a fixed reference draw (same value for every seed and sample size)."""
    rng = np.random.default_rng(_REFERENCE_SEED)
    comp = draw_composition(rng, _REFERENCE_FAMILIES)
    geo = bekasi()
    kel = rng.choice(len(geo.kelurahan_codes), size=comp.families, p=geo.kelurahan_weight)
    x = structural_part(comp, geo.kelurahan_kecamatan[kel])
    sigma = float(np.hypot(SIGMA_PERMANENT, SIGMA_TRANSITORY))
    z = np.log(POVERTY_LINE)
    people = comp.size / comp.size.sum()

    def gap(mu: float) -> float:
        return float(np.sum(people * ndtr((z - mu - x) / sigma))) - POVERTY_SHARE

    mu = brentq(gap, z - 5, z + 10, xtol=1e-9)
    permanent_mean = mu + float(x.mean())
    permanent_sd = float(np.sqrt(x.var() + SIGMA_PERMANENT**2))
    return Calibration(location=mu, permanent_mean=permanent_mean, permanent_sd=permanent_sd)


@dataclass(frozen=True)
class Consumption:
    """Per family: permanent welfare score ``p`` and consumption."""

    permanent: np.ndarray  # p ~ N(0, 1)
    welfare: np.ndarray  # standardised permanent log consumption, drives indicators
    per_capita: np.ndarray  # rupiah per person per month (int)


def draw_consumption(
    rng: np.random.Generator, comp: Composition, kecamatan: np.ndarray, effect: np.ndarray | None = None
) -> Consumption:
    """Draw each family's consumption; ``kecamatan`` indexes the city's kecamatan, ``effect`` their welfare shifts
    (Kota Bekasi's by default). The location is calibrated once, on Kota Bekasi."""
    cal = calibration()
    p = rng.standard_normal(comp.families)
    t = rng.standard_normal(comp.families)
    permanent_log = cal.location + structural_part(comp, kecamatan, effect) + SIGMA_PERMANENT * p
    log_c = permanent_log + SIGMA_TRANSITORY * t
    return Consumption(
        permanent=p,
        welfare=(permanent_log - cal.permanent_mean) / cal.permanent_sd,
        per_capita=np.round(np.exp(log_c)).astype(np.int64),
    )


def poor_share(per_capita: np.ndarray, size: np.ndarray, weight: np.ndarray | None = None) -> float:
    """Person-weighted share of people below the poverty line."""
    w = size if weight is None else size * weight
    return float(np.sum(w * (per_capita < POVERTY_LINE)) / np.sum(w))
