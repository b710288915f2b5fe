"""The reference data shipped in ``tepat/data`` (see its README for sources and licenses)."""

from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path

from tepat.domain.regions import Region, RegionIndex

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
REGIONS_CSV = DATA_DIR / "kode_wilayah_kepmendagri_2025.csv"
BOUNDARIES_DIR = DATA_DIR / "batas_wilayah"


def read_regions(path: Path = REGIONS_CSV) -> list[Region]:
    """Every region code and name from the Kepmendagri 2025 list."""
    with path.open(newline="", encoding="utf-8") as f:
        return [Region(row["kode"].strip(), row["nama"].strip()) for row in csv.DictReader(f)]


@lru_cache(maxsize=1)
def shipped_region_index() -> RegionIndex:
    """The shipped region list, for checks that need no database (``tepat nik check``)."""
    return RegionIndex(read_regions())
