"""A synthetic population of households: composition, welfare, housing and people.

This is the part shared by the registry and the survey: numbers only (codes as
array indices), no names or identifiers, so a survey of 300,000 households is
cheap to draw.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from tepat.domain.households import FAMILY_FIELDS
from tepat.synth.composition import HEAD, Composition, draw_composition
from tepat.synth.geography import Geography, bekasi
from tepat.synth.housing import Housing, draw_housing
from tepat.synth.people import EDUCATION, WORK, Attributes, draw_attributes
from tepat.synth.welfare import Consumption, children_0_17, draw_consumption

_NOT_INDICATORS = {
    "nomor_kk",
    "kode_kelurahan",
    "rw",
    "rt",
    "alamat",
    "status_keluarga",
    "alasan_nonaktif",
    "status_verifikasi",
    "tanggal_verifikasi",
}
INDICATOR_COLUMNS: tuple[str, ...] = tuple(f.column for f in FAMILY_FIELDS if f.column not in _NOT_INDICATORS)
"""The housing and asset indicators (the proxy-means variables), canonical names in catalogue order."""


@dataclass(frozen=True)
class Population:
    """Households with their members and hidden consumption."""

    geography: Geography
    kelurahan: np.ndarray  # index into geography.kelurahan_codes, per family
    composition: Composition
    consumption: Consumption
    housing: Housing
    attributes: Attributes

    @property
    def kecamatan(self) -> np.ndarray:
        found: np.ndarray = self.geography.kelurahan_kecamatan[self.kelurahan]
        return found

    @property
    def families(self) -> int:
        return len(self.kelurahan)


def draw_population(
    rng: np.random.Generator, kelurahan: np.ndarray, geo: Geography | None = None
) -> Population:
    """Draw one household per entry of ``kelurahan`` (indices into the city's kelurahan; Kota Bekasi by default)."""
    geo = geo or bekasi()
    comp = draw_composition(rng, len(kelurahan))
    consumption = draw_consumption(rng, comp, geo.kelurahan_kecamatan[kelurahan], geo.kecamatan_effect)
    housing = draw_housing(rng, consumption.welfare, comp.size)
    attributes = draw_attributes(rng, comp, consumption.permanent)
    return Population(geo, kelurahan, comp, consumption, housing, attributes)


def draw_kelurahan(rng: np.random.Generator, families: int, geo: Geography | None = None) -> np.ndarray:
    """Spread ``families`` over the kelurahan by population weight (sorted, as a registry is)."""
    geo = geo or bekasi()
    return np.sort(rng.choice(len(geo.kelurahan_codes), size=families, p=geo.kelurahan_weight))


def decode(codes: tuple[str, ...], index: np.ndarray) -> pl.Series:
    """Codes for an index array; ``-1`` becomes null."""
    lookup = pl.Series(values=[*codes, None], dtype=pl.String)
    return lookup.gather(np.where(index < 0, len(codes), index))


def indicator_frame(pop: Population, *, text: bool) -> pl.DataFrame:
    """The family indicators under their canonical column names (booleans as ``1``/``0`` text or ints)."""
    columns: dict[str, pl.Series] = {}
    h = pop.housing
    columns["status_rumah"] = decode(*h.coded["status_rumah"])
    area = pl.Series(h.floor_area)
    columns["luas_lantai"] = area.cast(pl.String) if text else area
    for column in (
        "jenis_lantai",
        "jenis_dinding",
        "jenis_atap",
        "sumber_air_minum",
        "sumber_penerangan",
        "daya_listrik",
        "bahan_bakar_memasak",
        "fasilitas_bab",
        "pembuangan_tinja",
    ):
        columns[column] = decode(*h.coded[column])
    for column, values in h.assets.items():
        flag = pl.Series(values.astype(np.int8))
        columns[column] = flag.cast(pl.String) if text else flag
    return pl.DataFrame({name: columns[name].alias(name) for name in INDICATOR_COLUMNS})


def household_features(pop: Population) -> pl.DataFrame:
    """Household-level features derivable from members (for the survey and PMT models)."""
    comp = pop.composition
    attrs = pop.attributes
    head = comp.relationship == HEAD
    return pl.DataFrame(
        {
            "jumlah_art": comp.size,
            "jumlah_anak": children_0_17(comp),
            "jumlah_lansia": comp.per_family((comp.age >= 60).astype(float)).astype(np.int64),
            "umur_kepala": np.floor(comp.age[head]).astype(np.int64),
            "jenis_kelamin_kepala": np.where(comp.female[head], "P", "L"),
            "pendidikan_kepala": decode(EDUCATION, attrs.education[head].astype(np.int64)),
            "status_pekerjaan_kepala": decode(WORK, attrs.work[head].astype(np.int64)),
            "ada_disabilitas": (comp.per_family((attrs.disability > 0).astype(float)) > 0).astype(np.int8),
        }
    )
