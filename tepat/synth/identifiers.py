"""Valid, unique NIK and KK numbers for synthetic people and families.

A NIK is the kecamatan of first registration (6 digits), the birth date
``DDMMYY`` with day + 40 for women, and a serial; a KK number is the issuing
kecamatan, the issue date ``DDMMYY`` and a serial (docs/synthetic-data.md). Serials are
numbered inside each (region, date) group from a random start, so numbers are
unique and never ``0000``.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from tepat.synth.composition import REFERENCE_DAY, Composition
from tepat.synth.geography import Geography

BORN_ELSEWHERE_SHARE = 0.28
"""Adults first registered outside Kota Bekasi (Jakarta, nearby Jawa Barat)."""


SERIALS = (1, 10_000)
"""NIK serials are 0001–9999; several cities synthesised for one database take disjoint bands of them, so that two
people first registered in the same kecamatan on the same birth date never share a NIK."""


def _serials(rng: np.random.Generator, prefix: pl.Series, band: tuple[int, int] = SERIALS) -> np.ndarray:
    """A unique serial in ``band`` (1..9999 by default) for each row within its prefix group."""
    groups = pl.DataFrame({"p": prefix.cast(pl.Int64)}).select(  # 12 digits: integer ranks are faster
        group=pl.col("p").rank("dense").cast(pl.Int64) - 1,
        rank=pl.int_range(pl.len()).over("p"),
        size=pl.len().over("p"),
    )
    group = groups["group"].to_numpy()
    size = groups["size"].to_numpy()
    start = rng.random(int(group.max()) + 1 if len(group) else 0)
    low, high = band
    room = np.minimum(np.maximum(high - low - size, 1), 3000)
    serials: np.ndarray = (start[group] * room).astype(np.int64) + groups["rank"].to_numpy() + low
    return serials


def _ddmmyy(dates: np.ndarray, day_offset: np.ndarray | int = 0) -> pl.Series:
    d = pl.Series(dates).cast(pl.Date)
    frame = pl.DataFrame({"d": d, "off": np.broadcast_to(day_offset, len(dates)).astype(np.int32)})
    return frame.select(
        pl.concat_str(
            [
                (pl.col("d").dt.day().cast(pl.Int32) + pl.col("off")).cast(pl.String).str.zfill(2),
                pl.col("d").dt.month().cast(pl.String).str.zfill(2),
                (pl.col("d").dt.year() % 100).cast(pl.String).str.zfill(2),
            ]
        )
    ).to_series()


def draw_nik_regions(
    rng: np.random.Generator, geo: Geography, comp: Composition, kecamatan: np.ndarray
) -> tuple[pl.Series, np.ndarray]:
    """Each member's 6-digit NIK region and whether it is in the city."""
    n = len(comp.age)
    home = kecamatan[comp.member_family]
    # Children were mostly registered where they live; adults often came from elsewhere.
    elsewhere = rng.random(n) < np.where(comp.age < 17, 0.06, BORN_ELSEWHERE_SHARE)
    other_city = rng.random(n) < 0.15
    city_kec = np.where(other_city, rng.integers(0, len(geo.kecamatan_codes), n), home)
    digits = geo.kecamatan_digits
    origin = np.array([c.replace(".", "") for c in geo.origin_codes])
    region = np.where(elsewhere, origin[rng.integers(0, len(origin), n)], digits[city_kec])
    return pl.Series(region, dtype=pl.String), ~elsewhere


def draw_niks(
    rng: np.random.Generator,
    birth_date: np.ndarray,
    female: np.ndarray,
    region: pl.Series,
    band: tuple[int, int] = SERIALS,
) -> pl.Series:
    """A unique, valid NIK per person (serials in ``band``)."""
    prefix = region + _ddmmyy(birth_date, np.where(female, 40, 0))
    serial = pl.Series(_serials(rng, prefix, band)).cast(pl.String).str.zfill(4)
    return prefix + serial


def draw_kk_numbers(
    rng: np.random.Generator, geo: Geography, comp: Composition, kecamatan: np.ndarray
) -> tuple[pl.Series, np.ndarray]:
    """A unique KK number per family and its issue date (after the youngest member's birth)."""
    birth = comp.birth_date.astype(np.int64)
    youngest = np.full(comp.families, np.iinfo(np.int64).min)
    np.maximum.at(youngest, comp.member_family, birth)
    reference = REFERENCE_DAY.astype(np.int64)
    earliest = np.maximum(youngest + 1, np.datetime64("2008-01-01", "D").astype(np.int64))
    earliest = np.minimum(earliest, reference - 1)
    issued = earliest + (rng.random(comp.families) * (reference - earliest)).astype(np.int64)
    issued_dates = issued.astype("datetime64[D]")
    prefix = pl.Series(geo.kecamatan_digits[kecamatan], dtype=pl.String) + _ddmmyy(issued_dates)
    serial = pl.Series(_serials(rng, prefix)).cast(pl.String).str.zfill(4)
    return prefix + serial, issued_dates
