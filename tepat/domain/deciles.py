"""Welfare deciles (desil 1–10) of families ranked by predicted per-capita welfare.

Families are ranked in ascending order of predicted per-capita welfare, so desil 1
holds the poorest tenth. Ties are broken by a stable key (the family id), so the
same inputs always give the same ranks. Boundaries are by **family count**, not by
persons: the family at 0-based rank ``r`` of ``n`` falls in desil
``floor(10 · r / n) + 1``. When ``n`` is not a multiple of 10 the deciles differ in
size by at most one family (e.g. 15 families: sizes 2,1,2,1,2,1,2,1,2,1).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from tepat.errors import ValidationError

IntArray = npt.NDArray[np.int64]
DECILES = 10


@dataclass(frozen=True)
class DecileRanking:
    """Rank (1 = poorest) and desil (1–10) of each family, in input order."""

    rank: IntArray
    decile: IntArray

    def sizes(self) -> list[int]:
        """Number of families in each desil 1–10."""
        return [int(c) for c in np.bincount(self.decile, minlength=DECILES + 1)[1:]]


def rank_families(
    welfare: Sequence[float] | npt.NDArray[Any], keys: Sequence[int] | npt.NDArray[Any]
) -> DecileRanking:
    """Rank families by welfare (ascending), ties by ``keys``, and assign desil 1–10 by family count."""
    values = np.asarray(welfare, dtype=np.float64)
    tie_keys = np.asarray(keys)
    if values.shape != tie_keys.shape or values.ndim != 1:
        raise ValidationError("Jumlah nilai kesejahteraan dan kunci keluarga tidak sama.")
    if not np.isfinite(values).all():
        raise ValidationError("Nilai kesejahteraan tidak boleh kosong atau tak hingga.")
    if np.unique(tie_keys).shape[0] != tie_keys.shape[0]:
        raise ValidationError("Kunci keluarga harus unik agar peringkat pasti.")
    n = values.shape[0]
    order = np.lexsort((tie_keys, values))  # last key is primary: welfare, then family key
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n, dtype=np.int64)
    decile = (rank * DECILES) // max(n, 1) + 1
    return DecileRanking(rank + 1, decile.astype(np.int64))


def decile_of_rank(rank: int, n: int) -> int:
    """The desil (1–10) of the family at 1-based ``rank`` among ``n`` families."""
    if not 1 <= rank <= n:
        raise ValidationError(f"Peringkat {rank} di luar 1–{n}.")
    return (rank - 1) * DECILES // n + 1


def decile_boundaries(
    welfare: Sequence[float] | npt.NDArray[Any], ranking: DecileRanking
) -> list[float | None]:
    """The highest welfare value in each desil 1–10 (``None`` for an empty desil)."""
    values = np.asarray(welfare, dtype=np.float64)
    out: list[float | None] = []
    for d in range(1, DECILES + 1):
        inside = values[ranking.decile == d]
        out.append(float(inside.max()) if inside.size else None)
    return out
