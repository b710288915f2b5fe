"""The food basket file for the poverty line: one row per commodity, its monthly quantity per capita, calories
and price per unit (``komoditas``, ``jumlah``, ``kalori``, ``harga``), as CSV, XLSX or Parquet."""

from __future__ import annotations

from pathlib import Path

from tepat.domain.poverty_line import BasketItem
from tepat.errors import FieldError, ValidationError
from tepat.files.survey import label_column, numeric_column, read_frame

COLUMNS = ("komoditas", "jumlah", "kalori", "harga")
"""Commodity; quantity per capita per month (kg, litre, piece …); kcal per unit; rupiah per unit."""
MAX_ITEMS = 500


def read_basket(path: Path) -> list[BasketItem]:
    """The basket's commodities; every missing column and bad cell is reported with its row, nothing half-read."""
    frame = read_frame(path)
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise ValidationError(
            f"Kolom tidak ada di {path.name}: {', '.join(missing)}.",
            [FieldError(c, "kolom tidak ada") for c in missing],
        )
    if frame.height == 0:
        raise ValidationError(f"Berkas {path.name} tidak berisi komoditas.")
    if frame.height > MAX_ITEMS:
        raise ValidationError(f"Paket komoditas paling banyak {MAX_ITEMS} baris.")
    errors: list[FieldError] = []
    names = label_column(frame, "komoditas", errors)
    quantity, kcal, price = (numeric_column(frame, c, errors) for c in ("jumlah", "kalori", "harga"))
    if errors:
        raise ValidationError(f"Paket komoditas {path.name} punya isian yang salah.", errors)
    return [
        BasketItem(str(n), float(q), float(k), float(p))
        for n, q, k, p in zip(names, quantity, kcal, price, strict=True)
    ]
