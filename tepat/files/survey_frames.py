"""Survey data for model fitting: selected columns of a CSV, Excel or Parquet file as NumPy arrays."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy.typing as npt
import polars as pl

from tepat.errors import FieldError, ValidationError
from tepat.files.workbooks import check_expansion


def read_survey_columns(
    path: Path, columns: Sequence[str], text_columns: Sequence[str] = ()
) -> dict[str, npt.NDArray[Any]]:
    """The named columns of a survey file; text stays text, numbers become floats (missing → NaN)."""
    if not path.is_file():
        raise ValidationError(f"Berkas survei tidak ditemukan: {path.name}.")
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            frame = pl.read_parquet(path)
        elif suffix in (".xlsx", ".xls"):
            check_expansion(path, path.name)
            frame = pl.read_excel(path)
        else:
            # code columns stay text so that "01" and "450" are not turned into numbers
            overrides = {name: pl.String for name in text_columns}
            frame = pl.read_csv(path, infer_schema_length=10_000, schema_overrides=overrides)
    except (pl.exceptions.PolarsError, OSError, ValueError):
        raise ValidationError(f"Berkas survei {path.name} tidak dapat dibaca sebagai tabel.") from None
    missing = [name for name in dict.fromkeys(columns) if name not in frame.columns]
    if missing:
        raise ValidationError(
            f"Kolom tidak ada dalam {path.name}: {', '.join(missing)}.",
            [FieldError(name, "kolom tidak ada") for name in missing],
        )
    out: dict[str, npt.NDArray[Any]] = {}
    for name in dict.fromkeys(columns):
        series = frame[name]
        if name in text_columns:
            series = series.cast(pl.String)
        if series.dtype == pl.String:
            out[name] = series.to_numpy().astype(object)
        elif series.dtype.is_numeric() or series.dtype == pl.Boolean:
            out[name] = series.cast(pl.Float64).to_numpy()
        else:
            out[name] = series.cast(pl.String).to_numpy().astype(object)
    return out
