"""Where synthetic families live and where their members were first registered.

Any kabupaten/kota of the shipped Kepmendagri list can be synthesised: its
kecamatan and kelurahan come from the list (codes have real gaps and are never
renumbered). Kota Bekasi, the default city, has plausible population weights
and welfare shifts per kecamatan in ``data/kecamatan.csv``; another city's
kecamatan get equal populations and small welfare shifts drawn from its code.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from tepat.domain.office import Office
from tepat.domain.regions import Level, RegionIndex
from tepat.errors import ValidationError
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
_OTHER_CITY_PEOPLE = 150_000  # people per kecamatan of a city without a table of its own
_OTHER_CITY_EFFECT_SD = 0.08  # spread of the welfare shifts between its kecamatan


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
    place: str = "BEKASI"  # the city's name as a birthplace is written (``DEPOK``)

    @property
    def kecamatan_digits(self) -> np.ndarray:
        """Kecamatan codes as 6-digit strings (``327501``)."""
        return np.array([c.replace(".", "") for c in self.kecamatan_codes])


def _kecamatan_table() -> dict[str, tuple[int, float]]:
    with (DATA / "kecamatan.csv").open(newline="", encoding="utf-8") as f:
        return {
            r["kode"]: (int(r["penduduk_perkiraan"]), float(r["efek_konsumsi"])) for r in csv.DictReader(f)
        }


def bekasi() -> Geography:
    """Kota Bekasi, the default synthetic city."""
    return geography(SYNTH_CITY)


@cache
def geography(city: str) -> Geography:
    """The kabupaten/kota ``city`` (``32.76``), read once from the shipped region list."""
    index = RegionIndex(read_regions())
    region = index.get(city)
    if region is None or region.level is not Level.KABKOTA:
        raise ValidationError(f"{city} bukan kode kabupaten/kota Kepmendagri 2025 (mis. 32.76).")
    kecamatan = index.descendants(city, Level.KECAMATAN)
    own = _kecamatan_table() if city == SYNTH_CITY else {}
    digits = int(city.replace(".", ""))
    shifts = np.random.default_rng(digits).normal(0.0, _OTHER_CITY_EFFECT_SD, size=len(kecamatan))
    table = {
        kec.code: own.get(kec.code, (_OTHER_CITY_PEOPLE, float(shift)))
        for kec, shift in zip(kecamatan, shifts, strict=True)
    }
    rng = np.random.default_rng(_STRUCTURE_SEED if city == SYNTH_CITY else digits)
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
    origins = ORIGIN_KABKOTA if city == SYNTH_CITY else _neighbours(index, city)
    origin = tuple(r.code for r in index if r.level is Level.KECAMATAN and r.code[:5] in origins)
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
        place=Office(city, region.name, "").place.upper(),
    )


def _neighbours(index: RegionIndex, city: str) -> tuple[str, ...]:
    """Where people of ``city`` born elsewhere were first registered: the other kabupaten/kota of its province."""
    province = city.split(".")[0]
    return tuple(r.code for r in index.descendants(province, Level.KABKOTA) if r.code != city)


def draw_addresses(
    rng: np.random.Generator, geo: Geography, kelurahan: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """An RW and an RT inside each family's kelurahan."""
    rw = (rng.random(len(kelurahan)) * geo.rw_count[kelurahan]).astype(np.int64) + 1
    rt_max = np.concatenate(geo.rt_count)
    start = np.concatenate([[0], np.cumsum(geo.rw_count)[:-1]])
    rt = (rng.random(len(kelurahan)) * rt_max[start[kelurahan] + rw - 1]).astype(np.int64) + 1
    return rw, rt
