"""A Susenas-like household survey drawn from a synthetic population.

Design (docs/synthetic-data.md): strata = kecamatan × urban (all of Kota Bekasi is
urban); census blocks (*blok sensus*, the PSU) of 80–150 households inside each
kelurahan; PSUs drawn with probability proportional to size by systematic
sampling within each stratum; 10 households drawn at random in each PSU. The
household weight is the inverse inclusion probability, so weights add up to the
households of the frame. A sample larger than a city can hold
(``households > CITY_SAMPLE_LIMIT``) gets synthetic province-like strata, each
built on one Kota Bekasi kecamatan, for benchmarks.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from tepat.domain.households import FAMILY_FIELDS
from tepat.synth.composition import REFERENCE_DAY, YEAR
from tepat.synth.geography import bekasi
from tepat.synth.population import INDICATOR_COLUMNS, draw_population, household_features, indicator_frame
from tepat.synth.registry import SynthRegistry

CITY_HOUSEHOLDS = 800_000
"""Households in Kota Bekasi (docs/synthetic-data.md): the frame when no population is given."""
HOUSEHOLDS_PER_PSU = 10
CITY_SAMPLE_LIMIT = 20_000
HOUSEHOLDS_PER_SYNTHETIC_STRATUM = 200
BLOCK_SIZE = (80, 150)

FEATURE_COLUMNS = (
    "jumlah_art",
    "jumlah_anak",
    "jumlah_lansia",
    "umur_kepala",
    "jenis_kelamin_kepala",
    "pendidikan_kepala",
    "status_pekerjaan_kepala",
    "ada_disabilitas",
)
DESIGN_COLUMNS = ("id_ruta", "strata", "psu", "perkotaan", "kode_kecamatan", "kode_kelurahan", "bobot")


def _blocks(rng: np.random.Generator, households: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split each area's households into blocks of 80–150: (area of each block, block size)."""
    lo, hi = BLOCK_SIZE
    count = np.maximum(1, np.round(households / ((lo + hi) / 2)).astype(np.int64))
    area = np.repeat(np.arange(len(households)), count)
    raw = rng.uniform(lo, hi, len(area))
    total = np.bincount(area, weights=raw)
    size = np.floor(raw * households[area] / total[area]).astype(np.int64)
    # Put the rounding remainder on each area's first block so sizes add up exactly.
    first = np.r_[0, np.cumsum(count)[:-1]]
    size[first] += households - np.bincount(area, weights=size).astype(np.int64)
    return area, size


def _allocate(total: int, size: np.ndarray, cap: np.ndarray) -> np.ndarray:
    """PSUs per stratum, proportional to size, at least 2 (when ``cap`` allows), at most ``cap``."""
    share = total * size / size.sum()
    n = np.minimum(np.maximum(np.floor(share).astype(np.int64), np.minimum(2, cap)), cap)
    remainder = share - np.floor(share)
    for i in np.argsort(-remainder):
        if n.sum() >= total:
            break
        if n[i] < cap[i]:
            n[i] += 1
    counts: np.ndarray = n
    return counts


def _pps_systematic(
    rng: np.random.Generator, stratum: np.ndarray, size: np.ndarray, n_psu: np.ndarray
) -> np.ndarray:
    """Indices of blocks drawn by systematic PPS within each stratum (blocks sorted by stratum)."""
    stratum_size = np.bincount(stratum, weights=size, minlength=len(n_psu))
    offset = np.r_[0, np.cumsum(stratum_size)[:-1]]
    cum = np.cumsum(size)
    step = stratum_size / np.maximum(n_psu, 1)
    which = np.repeat(np.arange(len(n_psu)), n_psu)
    i = np.arange(len(which)) - np.repeat(np.r_[0, np.cumsum(n_psu)[:-1]], n_psu)
    points = offset[which] + rng.random(len(n_psu))[which] * step[which] + i * step[which]
    chosen: np.ndarray = np.searchsorted(cum, points, side="right")
    return chosen


def _take_households(rng: np.random.Generator, block_size: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Draw up to 10 households without replacement in each block: (block, position 0..size-1)."""
    m = np.minimum(block_size, HOUSEHOLDS_PER_PSU)
    keys = rng.random((len(block_size), int(block_size.max())))
    keys[np.arange(int(block_size.max()))[None, :] >= block_size[:, None]] = np.inf
    picks = np.argsort(keys, axis=1)[:, :HOUSEHOLDS_PER_PSU]
    width = picks.shape[1]
    keep = np.arange(width)[None, :] < m[:, None]
    block = np.repeat(np.arange(len(block_size)), width).reshape(picks.shape)
    return block[keep], picks[keep]


def _design(
    rng: np.random.Generator,
    households: int,
    stratum_of_block: np.ndarray,
    block_size: np.ndarray,
    strata: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Select PSUs and households: (selected block, position in block, weight) per household."""
    blocks_in = np.bincount(stratum_of_block, minlength=strata)
    stratum_size = np.bincount(stratum_of_block, weights=block_size, minlength=strata)
    largest = np.zeros(strata, np.int64)
    np.maximum.at(largest, stratum_of_block, block_size)
    # A sampling interval no shorter than the largest block: no block is drawn twice, and π ≤ 1.
    cap = np.maximum(
        1, np.minimum(blocks_in, np.floor(stratum_size / np.maximum(largest, 1)).astype(np.int64))
    )
    cap = np.where(blocks_in == 0, 0, cap)  # a small registry may leave a kecamatan empty
    n_psu = _allocate(max(1, -(-households // HOUSEHOLDS_PER_PSU)), stratum_size, cap)
    chosen = _pps_systematic(rng, stratum_of_block, block_size, n_psu)
    which, position = _take_households(rng, block_size[chosen])
    block = chosen[which]
    h = stratum_of_block[block]
    m = np.minimum(block_size[block], HOUSEHOLDS_PER_PSU)
    inclusion = np.minimum(1.0, n_psu[h] * block_size[block] / stratum_size[h]) * m / block_size[block]
    return block, position, 1.0 / inclusion


def generate_survey(
    households: int = 800, seed: int = 2024, population: SynthRegistry | None = None
) -> pl.DataFrame:
    """A Susenas-like sample: design columns, consumption, household features and indicators."""
    rng = np.random.default_rng(seed)
    if population is not None:
        return _survey_of_registry(rng, households, population)
    geo = bekasi()
    if households <= CITY_SAMPLE_LIMIT:
        per_kel = np.round(CITY_HOUSEHOLDS * geo.kelurahan_weight).astype(np.int64)
        area_of_block, block_size = _blocks(rng, per_kel)
        kel_of_block = area_of_block
        stratum_of_block = geo.kelurahan_kecamatan[kel_of_block]
        strata_codes = [f"{code}-1" for code in geo.kecamatan_codes]
        area_labels = list(geo.kelurahan_codes)
    else:
        n_strata = max(len(geo.kecamatan_codes), round(households / HOUSEHOLDS_PER_SYNTHETIC_STRATUM))
        area_of_block, block_size = _blocks(rng, rng.integers(5_000, 20_000, n_strata))
        stratum_of_block = area_of_block
        # Each synthetic stratum is built on one Kota Bekasi kecamatan; its blocks lie in that kecamatan's kelurahan.
        kecamatan = stratum_of_block % len(geo.kecamatan_codes)
        first_kel = np.searchsorted(geo.kelurahan_kecamatan, np.arange(len(geo.kecamatan_codes)))
        kel_count = np.bincount(geo.kelurahan_kecamatan)
        kel_of_block = first_kel[kecamatan] + (rng.random(len(block_size)) * kel_count[kecamatan]).astype(
            np.int64
        )
        strata_codes = [f"P{s + 1:04d}-1" for s in range(n_strata)]
        area_labels = strata_codes
    block, position, weight = _design(rng, households, stratum_of_block, block_size, len(strata_codes))
    kelurahan = kel_of_block[block]
    pop = draw_population(rng, kelurahan)
    design = _design_frame(
        strata_codes, area_labels, stratum_of_block, area_of_block, block, position, weight
    )
    design = design.with_columns(
        kode_kecamatan=pl.Series(geo.kecamatan_codes, dtype=pl.String).gather(pop.kecamatan),
        kode_kelurahan=pl.Series(geo.kelurahan_codes, dtype=pl.String).gather(kelurahan),
        pengeluaran_per_kapita=pl.Series(pop.consumption.per_capita),
    ).select(*DESIGN_COLUMNS, "pengeluaran_per_kapita")
    return pl.concat([design, household_features(pop), indicator_frame(pop, text=False)], how="horizontal")


def _design_frame(
    strata_codes: list[str],
    area_labels: list[str],
    stratum_of_block: np.ndarray,
    area_of_block: np.ndarray,
    block: np.ndarray,
    position: np.ndarray,
    weight: np.ndarray,
) -> pl.DataFrame:
    """``id_ruta``, ``strata``, ``psu`` (area code + block number), ``perkotaan``, ``bobot``."""
    first_block_of_area = np.r_[0, np.cumsum(np.bincount(area_of_block))[:-1]]
    block_no = block - first_block_of_area[area_of_block[block]] + 1
    psu = (
        pl.Series(area_labels, dtype=pl.String).gather(area_of_block[block])
        + "-"
        + pl.Series(block_no).cast(pl.String).str.zfill(4)
    )
    return pl.DataFrame(
        {
            "id_ruta": psu + "-" + pl.Series(position + 1).cast(pl.String).str.zfill(3),
            "strata": pl.Series(strata_codes, dtype=pl.String).gather(stratum_of_block[block]),
            "psu": psu,
            "perkotaan": np.ones(len(block), np.int8),
            "bobot": weight,
        }
    )


def _registry_households(reg: SynthRegistry) -> pl.DataFrame:
    """One row per family of a registry: features derived from its members, indicators, truth."""
    m = reg.members.with_columns(
        umur=(
            (pl.lit(REFERENCE_DAY.astype(object)) - pl.col("tanggal_lahir").str.to_date()).dt.total_days()
            / YEAR
        )
        .floor()
        .cast(pl.Int64)
    )
    head = pl.col("hubungan_keluarga") == "kepala_keluarga"
    features = m.group_by("nomor_kk", maintain_order=True).agg(
        jumlah_anak=(pl.col("umur") < 18).sum().cast(pl.Int64),
        jumlah_lansia=(pl.col("umur") >= 60).sum().cast(pl.Int64),
        umur_kepala=pl.col("umur").filter(head).first(),
        jenis_kelamin_kepala=pl.col("jenis_kelamin").filter(head).first(),
        pendidikan_kepala=pl.col("pendidikan").filter(head).first(),
        status_pekerjaan_kepala=pl.col("status_pekerjaan").filter(head).first(),
        ada_disabilitas=(pl.col("disabilitas") != "tidak_ada").any().cast(pl.Int8),
        rw=pl.col("rw").first().cast(pl.Int64),
        rt=pl.col("rt").first().cast(pl.Int64),
    )
    kinds = {f.column: f.kind for f in FAMILY_FIELDS}
    family = m.unique("nomor_kk", keep="first", maintain_order=True).select(
        "nomor_kk",
        *[
            pl.col(c).cast(pl.Int64 if kinds[c] == "int" else pl.Int8)
            if kinds[c] in ("int", "bool")
            else pl.col(c)
            for c in INDICATOR_COLUMNS
        ],
    )
    truth = reg.truth.select(
        "nomor_kk", "pengeluaran_per_kapita", "jumlah_art", "kode_kecamatan", "kode_kelurahan"
    )
    return (
        truth.join(features, on="nomor_kk")
        .join(family, on="nomor_kk")
        .sort("kode_kelurahan", "rw", "rt", "nomor_kk")
    )


def _survey_of_registry(rng: np.random.Generator, households: int, reg: SynthRegistry) -> pl.DataFrame:
    frame = _registry_households(reg)
    geo = bekasi()
    kel_index = {code: i for i, code in enumerate(geo.kelurahan_codes)}
    kel = np.array([kel_index[c] for c in frame["kode_kelurahan"].to_list()])
    per_kel = np.bincount(kel, minlength=len(geo.kelurahan_codes))
    present = np.flatnonzero(per_kel)
    area, block_size = _blocks(rng, per_kel[present])
    kel_of_block = present[area]
    stratum_of_block = geo.kelurahan_kecamatan[kel_of_block]
    block, position, weight = _design(rng, households, stratum_of_block, block_size, len(geo.kecamatan_codes))
    # Frame rows are sorted by kelurahan, so a block's households are consecutive rows.
    row = np.r_[0, np.cumsum(block_size)[:-1]][block] + position
    strata_codes = [f"{c}-1" for c in geo.kecamatan_codes]
    area_labels = [geo.kelurahan_codes[k] for k in present]
    design = _design_frame(strata_codes, area_labels, stratum_of_block, area, block, position, weight)
    chosen = frame[row]
    out: pl.DataFrame = pl.concat([design, chosen], how="horizontal")
    return out.select(
        *DESIGN_COLUMNS[:4],
        "kode_kecamatan",
        "kode_kelurahan",
        "bobot",
        "pengeluaran_per_kapita",
        *FEATURE_COLUMNS,
        *[
            c
            for c in chosen.columns
            if c
            not in (
                "nomor_kk",
                "rw",
                "rt",
                "pengeluaran_per_kapita",
                "kode_kecamatan",
                "kode_kelurahan",
                *FEATURE_COLUMNS,
            )
        ],
    )
