"""Housing and asset indicators that follow a family's hidden welfare.

Each indicator is an ordered probit: a latent ``ρ·w + √(1−ρ²)·ε`` (``w`` the
standardised permanent log consumption) cut at the quantiles of plausible city
shares, categories listed from poorest to richest. Assets are probits with
their own prevalence. Independent noise per indicator plus the transitory part
of consumption keep a proxy-means regression at R² ≈ 0.4–0.6, as real PMTs get.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri

from tepat.domain.households import ASSETS

# column: ((code, share) from poorest to richest, rho)
ORDERED: dict[str, tuple[tuple[tuple[str, float], ...], float]] = {
    "status_rumah": (
        (
            ("lainnya", 0.01),
            ("bebas_sewa", 0.06),
            ("kontrak_sewa", 0.22),
            ("dinas", 0.01),
            ("milik_sendiri", 0.70),
        ),
        0.35,
    ),
    "jenis_lantai": (
        (
            ("tanah", 0.006),
            ("bambu", 0.002),
            ("kayu_papan", 0.006),
            ("lainnya", 0.003),
            ("semen_bata", 0.07),
            ("ubin_tegel", 0.10),
            ("keramik", 0.77),
            ("parket_vinil", 0.013),
            ("marmer_granit", 0.03),
        ),
        0.60,
    ),
    "jenis_dinding": (
        (
            ("bambu", 0.003),
            ("anyaman_bambu", 0.005),
            ("batang_kayu", 0.002),
            ("kayu_papan", 0.015),
            ("plesteran_bambu_kawat", 0.015),
            ("lainnya", 0.005),
            ("tembok", 0.955),
        ),
        0.55,
    ),
    "jenis_atap": (
        (
            ("jerami_ijuk", 0.001),
            ("bambu", 0.001),
            ("kayu_sirap", 0.003),
            ("lainnya", 0.005),
            ("seng", 0.07),
            ("asbes", 0.14),
            ("genteng", 0.58),
            ("beton", 0.20),
        ),
        0.50,
    ),
    "sumber_air_minum": (
        (
            ("air_permukaan", 0.002),
            ("mata_air_tak_terlindung", 0.002),
            ("sumur_tak_terlindung", 0.01),
            ("air_hujan", 0.001),
            ("lainnya", 0.005),
            ("mata_air_terlindung", 0.005),
            ("sumur_terlindung", 0.03),
            ("sumur_bor", 0.20),
            ("leding", 0.12),
            ("air_isi_ulang", 0.45),
            ("air_kemasan", 0.175),
        ),
        0.50,
    ),
    "sumber_penerangan": (
        (("bukan_listrik", 0.0005), ("non_pln", 0.001), ("pln_tanpa_meteran", 0.02), ("pln_meteran", 0.9785)),
        0.45,
    ),
    "daya_listrik": (
        (("450", 0.12), ("900", 0.35), ("1300", 0.30), ("2200", 0.15), ("lebih_2200", 0.08)),
        0.70,
    ),
    "bahan_bakar_memasak": (
        (
            ("kayu_bakar", 0.003),
            ("arang", 0.001),
            ("briket", 0.0005),
            ("minyak_tanah", 0.005),
            ("lpg_3kg", 0.72),
            ("biogas", 0.0005),
            ("gas_kota", 0.02),
            ("lpg_lebih_3kg", 0.20),
            ("listrik", 0.05),
        ),
        0.60,
    ),
    "fasilitas_bab": ((("tidak_ada", 0.005), ("umum", 0.02), ("bersama", 0.08), ("sendiri", 0.895)), 0.55),
    "pembuangan_tinja": (
        (
            ("kolam_sawah_sungai", 0.03),
            ("lubang_tanah", 0.05),
            ("lainnya", 0.005),
            ("tangki_septik", 0.89),
            ("ipal", 0.025),
        ),
        0.45,
    ),
}

# column: (prevalence, rho)
ASSET_MODEL: dict[str, tuple[float, float]] = {
    "aset_tabung_gas": (0.25, 0.55),
    "aset_kulkas": (0.80, 0.60),
    "aset_ac": (0.30, 0.70),
    "aset_pemanas_air": (0.12, 0.60),
    "aset_telepon_rumah": (0.05, 0.40),
    "aset_televisi": (0.90, 0.45),
    "aset_emas": (0.20, 0.50),
    "aset_komputer": (0.35, 0.65),
    "aset_sepeda": (0.30, 0.20),
    "aset_sepeda_motor": (0.82, 0.35),
    "aset_mobil": (0.25, 0.75),
    "aset_perahu": (0.002, 0.05),
    "aset_lahan": (0.08, 0.45),
    "aset_rumah_lain": (0.07, 0.55),
    "aset_ternak": (0.02, 0.05),
}
assert tuple(ASSET_MODEL) == tuple(column for _, column, _ in ASSETS)


@dataclass(frozen=True)
class Housing:
    """Per family: each ordered indicator as (codes, index array; -1 = empty), assets, floor area."""

    coded: dict[str, tuple[tuple[str, ...], np.ndarray]]
    assets: dict[str, np.ndarray]
    floor_area: np.ndarray


def _latent(rng: np.random.Generator, welfare: np.ndarray, rho: float) -> np.ndarray:
    latent: np.ndarray = rho * welfare + np.sqrt(1 - rho * rho) * rng.standard_normal(len(welfare))
    return latent


def _ordered(
    rng: np.random.Generator, welfare: np.ndarray, column: str
) -> tuple[tuple[str, ...], np.ndarray]:
    categories, rho = ORDERED[column]
    codes = tuple(c for c, _ in categories)
    shares = np.array([s for _, s in categories])
    cuts = ndtri(np.cumsum(shares)[:-1] / shares.sum())
    return codes, np.searchsorted(cuts, _latent(rng, welfare, rho)).astype(np.int16)


def draw_housing(rng: np.random.Generator, welfare: np.ndarray, size: np.ndarray) -> Housing:
    """Draw every housing and asset indicator from the families' welfare scores."""
    n = len(welfare)
    coded = {column: _ordered(rng, welfare, column) for column in ORDERED}

    # Power only exists with a PLN meter; toilets and cooking follow the household's situation.
    lighting_codes, lighting = coded["sumber_penerangan"]
    power_codes, power = coded["daya_listrik"]
    metered = lighting == lighting_codes.index("pln_meteran")
    unmetered = lighting == lighting_codes.index("pln_tanpa_meteran")
    power_codes = (*power_codes, "tanpa_meteran")
    coded["daya_listrik"] = (
        power_codes,
        np.where(metered, power, np.where(unmetered, len(power_codes) - 1, -1)),
    )

    toilet_codes, toilet = coded["fasilitas_bab"]
    septic_codes, septic = coded["pembuangan_tinja"]
    no_toilet = toilet == toilet_codes.index("tidak_ada")
    septic_codes = (*septic_codes, "pantai_kebun")
    outdoors = np.where(rng.random(n) < 0.6, septic_codes.index("kolam_sawah_sungai"), len(septic_codes) - 1)
    coded["pembuangan_tinja"] = (septic_codes, np.where(no_toilet, outdoors, septic))

    fuel_codes, fuel = coded["bahan_bakar_memasak"]
    fuel_codes = (*fuel_codes, "tidak_memasak")
    eats_out = rng.random(n) < np.where(size == 1, 0.15, 0.01)
    coded["bahan_bakar_memasak"] = (fuel_codes, np.where(eats_out, len(fuel_codes) - 1, fuel))

    assets = {
        column: _latent(rng, welfare, rho) > ndtri(1 - prevalence)
        for column, (prevalence, rho) in ASSET_MODEL.items()
    }
    log_area = np.log(36) + 0.30 * np.log(size) + 0.30 * welfare + 0.40 * rng.standard_normal(n)
    floor_area = np.clip(np.round(np.exp(log_area)), 6, 600).astype(np.int64)
    return Housing(coded=coded, assets=assets, floor_area=floor_area)
