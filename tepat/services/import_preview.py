"""What an import would read, before it runs (issue 12 point 8): where the header is, which of the file's
columns map to which registry column, which required columns are missing (with the file's column that most
resembles each), and the first rows as tepat reads them. Nothing is stored."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path

from tepat.errors import ValidationError
from tepat.files.canonical import FIELD_BY_COLUMN, REQUIRED_COLUMNS, ColumnMapping, normalise_header
from tepat.files.readers import ROW, RegistryFile, open_registry_file

SAMPLE_ROWS = 10


@dataclass(frozen=True)
class MappedColumn:
    """One column of the file: its header as written and the registry column it fills (or ``None``: ignored)."""

    source: str
    column: str | None
    label: str | None


@dataclass(frozen=True)
class MissingColumn:
    """A required registry column the file does not have, and the file's column that looks most like it."""

    column: str
    label: str
    resembles: str | None


@dataclass(frozen=True)
class ImportPreview:
    file_name: str
    problem: str = ""  # the file cannot be read as a registry file (no header found, damaged): why
    header_row: int | None = None
    total_rows: int | None = None
    columns: list[MappedColumn] = field(default_factory=list)
    missing: list[MissingColumn] = field(default_factory=list)
    sample_columns: list[str] = field(default_factory=list)
    sample: list[list[str]] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        """Whether importing the file with this mapping can start (its rows are checked one by one then)."""
        return not self.problem and not self.missing

    def mapping_hint(self) -> str:
        """A mapping file's ``[columns]`` lines for the missing columns, from the resembling headers."""
        lines = [f'"{m.resembles}" = "{m.column}"' for m in self.missing if m.resembles]
        return "[columns]\n" + "\n".join(lines) if lines else ""


def _resembling(column: str, label: str, headers: list[str]) -> str | None:
    keys = {normalise_header(h): h for h in headers if h.strip()}
    for wanted in (column, normalise_header(label)):
        found = difflib.get_close_matches(wanted, list(keys), n=1, cutoff=0.55)
        if found:
            return keys[found[0]]
    return None


def missing_columns(source: RegistryFile) -> list[MissingColumn]:
    """The required registry columns ``source`` lacks, each with the unmapped header that most resembles it."""
    mapped = set(source.positions.values())
    unmapped = [h for i, h in enumerate(source.headers) if i not in mapped]
    return [
        MissingColumn(c, FIELD_BY_COLUMN[c].label, _resembling(c, FIELD_BY_COLUMN[c].label, unmapped))
        for c in REQUIRED_COLUMNS
        if c not in source.positions
    ]


def missing_message(file_name: str, missing: list[MissingColumn]) -> str:
    """Names the missing columns and says how to map them (with the resembling headers)."""
    named = "; ".join(
        f"{m.label} ({m.column})" + (f', mungkin kolom "{m.resembles}"' if m.resembles else "")
        for m in missing
    )
    return (
        f"Kolom wajib tidak ada di berkas {file_name}: {named}. Gunakan pemetaan kolom yang menyebut kolom berkas "
        "Anda untuk masing-masing (halaman Impor: pilih atau unggah pemetaan, lalu Pratinjau; CLI: --mapping)."
    )


def preview(path: Path, mapping: ColumnMapping | None, file_name: str) -> ImportPreview:
    """Read the header and the first ``SAMPLE_ROWS`` rows of ``path`` with ``mapping``."""
    try:
        source = open_registry_file(path, mapping, filename=file_name)
        first = next(source.batches(SAMPLE_ROWS), None)
    except ValidationError as exc:
        return ImportPreview(file_name, problem=exc.message)
    by_position = {i: c for c, i in source.positions.items()}
    columns = [
        MappedColumn(
            h, by_position.get(i), FIELD_BY_COLUMN[by_position[i]].label if i in by_position else None
        )
        for i, h in enumerate(source.headers)
    ]
    missing = missing_columns(source)
    sample_columns = [c for c in source.columns]
    sample: list[list[str]] = []
    if first is not None:
        for row in first.head(SAMPLE_ROWS).iter_rows(named=True):
            sample.append([str(row[ROW]), *("" if row[c] is None else str(row[c]) for c in sample_columns)])
    return ImportPreview(
        file_name,
        header_row=source.header_row,
        total_rows=source.total_rows,
        columns=columns,
        missing=missing,
        sample_columns=sample_columns,
        sample=sample,
    )
