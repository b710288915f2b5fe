"""Small-cell suppression: the one rule for every aggregate shown to someone who may not see the records.

A cell counting 1 to ``min_cell_size - 1`` families (``TEPAT_MIN_CELL_SIZE``,
default 10) could point at one household, so it is hidden; when exactly one cell
of a table would be hidden, the next smallest non-empty cell is hidden too, or the
hidden one would follow from the table's total. Empty cells (0) are shown: they
reveal nobody. Used by the statistics, the area pages, ``/api/v1/areas`` and any
other aggregate an analyst can reach.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import TypeVar

K = TypeVar("K", bound=Hashable)


def shown(count: int | None, min_cell_size: int) -> int | None:
    """``count`` when it may be shown on its own, else ``None`` (hidden)."""
    if count is None or 0 < count < min_cell_size:
        return None
    return count


def hidden_cells(counts: Mapping[K, int | None], min_cell_size: int) -> set[K]:
    """The keys of a table's cells to hide (see the module docstring); ``None`` counts are already hidden."""
    small = {k for k, n in counts.items() if n is not None and 0 < n < min_cell_size}
    if len(small) == 1:
        others = sorted(
            ((n, str(k), k) for k, n in counts.items() if k not in small and n), key=lambda x: (x[0], x[1])
        )
        if others:
            small.add(others[0][2])
    return small
