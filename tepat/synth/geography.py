"""Where synthetic families live and where their members were first registered.

Kota Bekasi's 12 kecamatan and 56 kelurahan come from the shipped Kepmendagri
list (codes have real gaps and are never renumbered); the population weights
and welfare shifts per kecamatan are plausible values in ``data/kecamatan.csv``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from tepat.domain.regions import Level, RegionIndex
from tepat.files.reference import read_regions

SYNTH_CITY = "32.75"
"""The synthetic city: Kota Bekasi (its kecamatan, kelurahan and population shares ship with the synthesiser)."""
SYNTH_CITY_NAME = "Kota Bekasi"

DATA = Path(__file__).resolve().parent / "data"

# Kab/kota where Bekasi residents born elsewhere were often first registered:
# the five Jakarta kota, Kab. Bogor, Kab. Bekasi, Kota Bogor, Kota Bandung, Kota Depok, Karawang.
ORIGIN_KABKOTA = (
    "31.71",
    "31.72",
    "31.73",
    "31.74",
    "31.75",
    "32.01",
    "32.16",
    "32.71",
    "32.73",
    "32.76",
    "32.15",
)

_STRUCTURE_SEED = 3275  # RW/RT counts and kelurahan weights are the same city for every seed


@dataclass(frozen=True)
class Geography:
    """Kecamatan and kelurahan of the city as parallel arrays."""

    kecamatan_codes: tuple[str, ...]
    kecamatan_names: tuple[str, ...]
    kecamatan_effect: np.ndarray  # log-consumption shift per kecamatan
    kelurahan_codes: tuple[str, ...]
    kelurahan_names: tuple[str, ...]
    kelurahan_kecamatan: np.ndarray  # index into kecamatan_codes
    kelurahan_weight: np.ndarray  # share of the city's families, sums to 1
    rw_count: np.ndarray  # RWs per kelurahan
    rt_count: tuple[np.ndarray, ...]  # RTs per RW, per kelurahan
    origin_codes: tuple[str, ...]  # kecamatan codes outside the city (``31.71.01``)

    @property
    def kecamatan_digits(self) -> np.ndarray:
        """Kecamatan codes as 6-digit strings (``327501``)."""
        return np.array([c.replace(".", "") for c in self.kecamatan_codes])


def _kecamatan_table() -> dict[str, tuple[int, float]]:
    with (DATA / "kecamatan.csv").open(newline="", encoding="utf-8") as f:
        return {
            r["kode"]: (int(r["penduduk_perkiraan"]), float(r["efek_konsumsi"])) for r in csv.DictReader(f)
        }


@lru_cache(maxsize=1)
def bekasi() -> Geography:
    """Kota Bekasi, read once from the shipped region list."""
    index = RegionIndex(read_regions())
    kecamatan = index.descendants(SYNTH_CITY, Level.KECAMATAN)
    table = _kecamatan_table()
    rng = np.random.default_rng(_STRUCTURE_SEED)
    kel_codes: list[str] = []
    kel_names: list[str] = []
    kel_kec: list[int] = []
    weights: list[float] = []
    for k, kec in enumerate(kecamatan):
        people, _ = table[kec.code]
        children = index.children(kec.code)
        share = rng.dirichlet(np.full(len(children), 6.0))
        for kel, s in zip(children, share, strict=True):
            kel_codes.append(kel.code)
            kel_names.append(kel.name)
            kel_kec.append(k)
            weights.append(people * s)
    w = np.asarray(weights)
    rw = rng.integers(8, 26, size=len(kel_codes))
    rt = tuple(rng.integers(5, 16, size=n) for n in rw)
    origin = tuple(r.code for r in index if r.level is Level.KECAMATAN and r.code[:5] in ORIGIN_KABKOTA)
    return Geography(
        kecamatan_codes=tuple(k.code for k in kecamatan),
        kecamatan_names=tuple(k.name for k in kecamatan),
        kecamatan_effect=np.array([table[k.code][1] for k in kecamatan]),
        kelurahan_codes=tuple(kel_codes),
        kelurahan_names=tuple(kel_names),
        kelurahan_kecamatan=np.asarray(kel_kec),
        kelurahan_weight=w / w.sum(),
        rw_count=rw,
        rt_count=rt,
        origin_codes=origin,
    )


def draw_addresses(
    rng: np.random.Generator, geo: Geography, kelurahan: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """An RW and an RT inside each family's kelurahan."""
    rw = (rng.random(len(kelurahan)) * geo.rw_count[kelurahan]).astype(np.int64) + 1
    rt_max = np.concatenate(geo.rt_count)
    start = np.concatenate([[0], np.cumsum(geo.rw_count)[:-1]])
    rt = (rng.random(len(kelurahan)) * rt_max[start[kelurahan] + rw - 1]).astype(np.int64) + 1
    return rw, rt
