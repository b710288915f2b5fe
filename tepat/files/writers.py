"""Writing registry files (CSV, XLSX, Parquet) in the canonical layout, and error reports.

Writers take batches of text cells in ``CANONICAL_COLUMNS`` order and write
them as they come, so memory stays flat whatever the size of the registry.
In XLSX every cell is written as text, so Excel shows NIK and KK numbers as
they are instead of turning them into ``3.27501E+15``.

**Formula injection.** Every text cell tepat writes to a CSV or XLSX (exports,
error reports, page lists, payment files) that begins with ``=``, ``+``, ``@``, a
tab or a carriage return — or with ``-`` when it is not a number — gets a leading
apostrophe (``neutralised``), so a spreadsheet shows it as text instead of running
it as a formula. Numbers (``-5``, amounts) and ordinary text are written unchanged.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO, Protocol

import polars as pl

from tepat.domain.formatting import number
from tepat.errors import ValidationError

XLSX_MAX_ROWS = 1_048_575  # a sheet's 1,048,576 rows minus the header
FORMATS = ("csv", "xlsx", "parquet")

ERROR_HEADERS = {"row": "baris", "column": "kolom", "value": "nilai", "message": "pesan"}


def format_of(path: str | Path, fmt: str | None = None) -> str:
    """The file format: ``fmt`` if given, else from the file name's suffix."""
    chosen = (fmt or Path(path).suffix.lstrip(".")).lower()
    if chosen not in FORMATS:
        raise ValidationError(
            f"Format berkas tidak dikenal: {chosen or '(tanpa akhiran)'}; gunakan csv, xlsx atau parquet"
        )
    return chosen


class TableWriter(Protocol):
    def write(self, batch: pl.DataFrame) -> None: ...
    def close(self) -> None: ...


_FORMULA_START = r"^[=+@\t\r-]"
_NEGATIVE_NUMBER = r"^-[0-9][0-9.,]*$"


def neutralised_text(value: str) -> str:
    """One cell: ``'`` + value when a spreadsheet would read it as a formula (see the module docstring)."""
    risky = re.match(_FORMULA_START, value) and not re.match(_NEGATIVE_NUMBER, value)
    return "'" + value if risky else value


def neutralised(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with every text cell made safe for a spreadsheet (``neutralised_text`` over whole columns)."""

    def safe(c: str) -> pl.Expr:
        risky = pl.col(c).str.contains(_FORMULA_START) & ~pl.col(c).str.contains(_NEGATIVE_NUMBER)
        return pl.when(risky).then(pl.lit("'") + pl.col(c)).otherwise(pl.col(c)).alias(c)

    return frame.with_columns(safe(c) for c, t in frame.schema.items() if t == pl.String)


class CsvWriter:
    """UTF-8 CSV with a header row, comma-separated, every cell as text."""

    def __init__(self, path: Path, columns: Sequence[str]) -> None:
        self._file: BinaryIO = path.open("wb")
        self._file.write((",".join(columns) + "\n").encode())

    def write(self, batch: pl.DataFrame) -> None:
        neutralised(batch).write_csv(self._file, include_header=False)

    def close(self) -> None:
        self._file.close()


def table_csv(columns: Sequence[str], rows: Sequence[dict[str, str]]) -> bytes:
    """A small table (a page's list) as UTF-8 CSV, written like every other CSV tepat writes."""
    buffer = io.BytesIO()
    buffer.write((",".join(columns) + "\n").encode())
    if rows:
        neutralised(
            pl.DataFrame([[row[c] for c in columns] for row in rows], schema=list(columns), orient="row")
        ).write_csv(buffer, include_header=False)
    return buffer.getvalue()


class XlsxWriter:
    """One sheet, every cell a text cell (xlsxwriter's constant-memory mode)."""

    def __init__(self, path: Path, columns: Sequence[str], sheet: str = "registri") -> None:
        import xlsxwriter

        self._book = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False})
        self._sheet = self._book.add_worksheet(sheet)
        self._text = self._book.add_format({"num_format": "@"})
        self._sheet.set_column(0, len(columns) - 1, 16, self._text)
        for i, name in enumerate(columns):
            self._sheet.write_string(0, i, name)
        self._row = 1

    def write(self, batch: pl.DataFrame) -> None:
        if self._row + batch.height > XLSX_MAX_ROWS + 1:
            raise ValidationError(
                f"Lebih dari {number(XLSX_MAX_ROWS)} baris tidak muat dalam satu lembar Excel; gunakan CSV atau Parquet"
            )
        write = self._sheet.write_string
        for values in neutralised(batch).iter_rows():
            for col, value in enumerate(values):
                if value is not None:
                    write(self._row, col, str(value), self._text)
            self._row += 1

    def close(self) -> None:
        self._book.close()


class ParquetWriter:
    """Parquet with every column as text (the canonical cells), written a row group per batch."""

    def __init__(self, path: Path, columns: Sequence[str]) -> None:
        import pyarrow as pa  # type: ignore[import-untyped]
        import pyarrow.parquet as pq  # type: ignore[import-untyped]

        self._schema = pa.schema([(c, pa.string()) for c in columns])
        self._writer = pq.ParquetWriter(str(path), self._schema, compression="zstd")

    def write(self, batch: pl.DataFrame) -> None:
        self._writer.write_table(batch.to_arrow().cast(self._schema))

    def close(self) -> None:
        self._writer.close()


def open_writer(path: str | Path, columns: Sequence[str], fmt: str | None = None) -> TableWriter:
    """A writer for ``path`` in ``fmt`` (default: from the suffix)."""
    path = Path(path)
    kind = format_of(path, fmt)
    if kind == "csv":
        return CsvWriter(path, columns)
    if kind == "xlsx":
        return XlsxWriter(path, columns)
    return ParquetWriter(path, columns)


def write_errors(path: str | Path, errors: pl.DataFrame) -> None:
    """The error report: row, column, value, message (Bahasa Indonesia headers), as CSV or XLSX by suffix."""
    path = Path(path)
    table = errors.select(list(ERROR_HEADERS)).rename(ERROR_HEADERS)
    if path.suffix.lower() == ".xlsx":
        writer: TableWriter = XlsxWriter(path, table.columns, sheet="galat")
        writer.write(table.with_columns(pl.col("baris").cast(pl.String)))
        writer.close()
    else:
        neutralised(table.with_columns(pl.col("baris").cast(pl.String))).write_csv(path)
