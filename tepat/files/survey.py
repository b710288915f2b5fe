"""Survey microdata (CSV, XLSX or Parquet) read into NumPy arrays for the FGT estimator."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
from numpy.typing import NDArray

from tepat.errors import FieldError, ValidationError
from tepat.files.workbooks import check_expansion

SUFFIXES = (".csv", ".xlsx", ".xls", ".parquet")


@dataclass(frozen=True)
class SurveyColumns:
    """The columns the estimator needs, one array per role (None when not asked for)."""

    consumption: NDArray[np.float64]
    weight: NDArray[np.float64]
    line: NDArray[np.float64] | None
    size: NDArray[np.float64] | None
    strata: NDArray[np.str_] | None
    psu: NDArray[np.str_] | None
    domain: NDArray[np.str_] | None

    @property
    def rows(self) -> int:
        return int(self.consumption.shape[0])


def read_frame(path: Path) -> pl.DataFrame:
    """The whole file as a DataFrame, whatever its format."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise ValidationError(f"Format berkas {path.name} tidak dikenal: gunakan CSV, XLSX atau Parquet.")
    if not path.exists():
        raise ValidationError(f"Berkas {path} tidak ada.")
    try:
        if suffix == ".csv":
            return pl.read_csv(path, infer_schema_length=10000)
        if suffix == ".parquet":
            return pl.read_parquet(path)
        check_expansion(path, path.name)
        return pl.read_excel(path)
    except ValidationError:
        raise
    except Exception:  # noqa: BLE001 - any parser failure is one message to the user
        raise ValidationError(f"Berkas {path.name} tidak bisa dibaca.") from None


MAX_CELL_ERRORS = 20
"""Bad cells reported per column (the first ones, with their row numbers)."""


def numeric_column(
    frame: pl.DataFrame, column: str, errors: list[FieldError], *, positive: bool = False
) -> NDArray[np.float64]:
    """A numeric column; a cell that is no number, negative (or, with ``positive``, zero) is named by its row."""
    values = frame.get_column(column).cast(pl.Float64, strict=False)
    bad = (values.is_null() | values.is_nan()).arg_true().to_list()
    out_of_range = (values <= 0 if positive else values < 0).fill_null(False).arg_true().to_list()
    raw = frame.get_column(column)
    for index in bad[:MAX_CELL_ERRORS]:
        errors.append(
            FieldError(column, "bukan angka", None if raw[index] is None else str(raw[index]), index + 2)
        )
    for index in out_of_range[:MAX_CELL_ERRORS]:
        errors.append(
            FieldError(column, "harus lebih dari nol" if positive else "negatif", str(raw[index]), index + 2)
        )
    return values.fill_null(np.nan).to_numpy().astype(np.float64)


def label_column(frame: pl.DataFrame, column: str, errors: list[FieldError]) -> NDArray[np.str_]:
    values = frame.get_column(column)
    for index in values.is_null().arg_true().to_list()[:MAX_CELL_ERRORS]:
        errors.append(FieldError(column, "kosong", None, index + 2))
    return np.asarray(values.cast(pl.Utf8).fill_null("").to_numpy(), dtype=np.str_)


def read_survey(
    path: Path,
    *,
    consumption: str,
    weight: str,
    line: str | None = None,
    size: str | None = None,
    strata: str | None = None,
    psu: str | None = None,
    domain: str | None = None,
) -> SurveyColumns:
    """Read the named columns; raises ``ValidationError`` for a missing column or a bad cell."""
    frame = read_frame(path)
    wanted = [c for c in (consumption, weight, line, size, strata, psu, domain) if c is not None]
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        raise ValidationError(
            f"Kolom tidak ada di {path.name}: {', '.join(missing)}.",
            [FieldError(c, "kolom tidak ada") for c in missing],
        )
    if frame.height == 0:
        raise ValidationError(f"Berkas {path.name} tidak berisi data.")
    errors: list[FieldError] = []
    result = SurveyColumns(
        consumption=numeric_column(frame, consumption, errors),
        weight=numeric_column(frame, weight, errors),
        line=None if line is None else numeric_column(frame, line, errors, positive=True),
        size=None if size is None else numeric_column(frame, size, errors, positive=True),
        strata=None if strata is None else label_column(frame, strata, errors),
        psu=None if psu is None else label_column(frame, psu, errors),
        domain=None if domain is None else label_column(frame, domain, errors),
    )
    if errors:
        raise ValidationError(f"Data survei {path.name} punya isian yang salah.", errors)
    return result
