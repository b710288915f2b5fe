"""Writes the fixed survey datasets behind the poverty reference values (run once; outputs are committed).

``poverty_person.csv``: one row per person, urban/rural lines in a column.
``poverty_household.csv``: one row per household with its size and total consumption.
Both have PSU labels reused across strata (so nesting matters), domains missing
from some PSUs, and a stratum with a single PSU.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent


def _design(
    rng: np.random.Generator, psus_per_stratum: list[int], rows_per_psu: tuple[int, int]
) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    for s, count in enumerate(psus_per_stratum, start=1):
        for p in range(1, count + 1):
            for _ in range(int(rng.integers(*rows_per_psu))):
                rows.append((f"S{s}", str(p)))
    return rows


def person() -> None:
    rng = np.random.default_rng(20240301)
    rows = _design(rng, [3, 2, 4, 1, 3, 2], (4, 9))
    kecamatan = ["Bekasi Timur", "Bekasi Barat", "Medan Satria", "Jatiasih"]
    with (HERE / "poverty_person.csv").open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["id", "strata", "psu", "bobot", "pengeluaran_kapita", "garis", "kecamatan", "wilayah"])
        for i, (stratum, psu) in enumerate(rows, start=1):
            urban = stratum in ("S1", "S2", "S3", "S4")
            line = 842927 if urban else 712500
            spend = float(np.round(rng.lognormal(np.log(line * 1.35), 0.45)))
            # Domains are tied to strata loosely, so some PSUs have none of a domain.
            kec = kecamatan[(int(stratum[1]) + int(rng.integers(0, 2))) % 4]
            weight = float(np.round(rng.uniform(80, 420), 2))
            out.writerow([i, stratum, psu, weight, spend, line, kec, "perkotaan" if urban else "perdesaan"])


def household() -> None:
    rng = np.random.default_rng(20240302)
    rows = _design(rng, [2, 3, 1, 3, 2, 4, 2], (3, 8))
    with (HERE / "poverty_household.csv").open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["ruta", "strata", "bs", "bobot_ruta", "art", "pengeluaran_ruta", "kelurahan"])
        for i, (stratum, psu) in enumerate(rows, start=1):
            size = int(rng.integers(1, 8))
            per_capita = float(rng.lognormal(np.log(842927 * 1.3), 0.5))
            total = round(per_capita * size)
            kel = ["Margahayu", "Bekasijaya", "Duren Jaya", "Aren Jaya", "Kayuringin Jaya"][
                (int(stratum[1]) * 2 + int(rng.integers(0, 3))) % 5
            ]
            weight = float(np.round(rng.uniform(150, 900), 3))
            out.writerow([i, stratum, psu, weight, size, total, kel])


if __name__ == "__main__":
    person()
    household()
