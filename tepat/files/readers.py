"""Reading registry files (CSV, XLSX, Parquet) in batches of text cells.

Every cell is read as text so that a NIK never becomes a float on the way in.
The header row is found by matching known column names in the first rows, so
title rows and merged cells above it are skipped; ``;``, ``,`` and tab
separators and a UTF-8 byte-order mark are recognised. Each batch carries the
spreadsheet row number of every row in ``_row`` (the header counts as a row,
as in Excel). Wholly empty rows are dropped.

CSV is read in pieces of whole records (so memory stays flat whatever the file
size; a file that is not UTF-8 is read as Windows-1252, what Excel writes) and
Parquet in row batches. An XLSX sheet (at most 1,048,576 rows) is read as a
whole sheet by calamine and then cut into batches; for an XLSX file the
NIK and KK columns also get a ``_num_<column>`` flag telling which cells Excel
stored as numbers (a 16th digit typed into a number cell is lost).

A mapping's ``[combine]`` fields are built from their source columns joined with
a space, and its ``[formats]`` dates are rewritten ``YYYY-MM-DD`` (a value that
does not fit its format is left as written, for the checks to report). Columns
asked for by name (``keep``, e.g. a person list's id column) come through
verbatim under their own name.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from tepat.errors import ValidationError
from tepat.files.canonical import FIELD_BY_COLUMN, IDENTITY, ColumnMapping, normalise_header
from tepat.files.workbooks import check_expansion

ROW = "_row"
IDENTIFIER_COLUMNS = ("nik", "nomor_kk")
HEADER_SEARCH_ROWS = 30
MIN_HEADER_MATCHES = 3


def kept_column(name: str) -> str:
    """The name under which a column asked for by name (``keep``) comes through."""
    return f"_kept_{name}"


def numeric_flag(column: str) -> str:
    """The name of the column flagging Excel number cells of ``column``."""
    return f"_num_{column}"


@dataclass(frozen=True)
class RegistryFile:
    """An opened registry file: where its header is and which canonical columns it has."""

    path: Path
    kind: str  # csv | xlsx | parquet
    header_row: int  # 1-based row number of the header
    positions: dict[str, int]  # canonical column -> position in the file
    mapping: ColumnMapping
    parts: dict[str, tuple[int, ...]] = field(
        default_factory=dict
    )  # combined column -> its sources' positions
    kept: dict[str, int] = field(default_factory=dict)  # a column kept by name -> its position
    separator: str = ","
    total_rows: int | None = None
    encoding: str = "utf-8"
    width: int = 0  # cells in the header row
    headers: tuple[str, ...] = ()  # the header row's cells as written (for the import preview)

    @property
    def columns(self) -> tuple[str, ...]:
        return (*self.positions, *self.parts)

    @property
    def _read_positions(self) -> list[int]:
        return sorted(
            {*self.positions.values(), *(i for p in self.parts.values() for i in p), *self.kept.values()}
        )

    def _named(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Position columns ``c<i>`` named: canonical, combined (sources stripped, joined with a space), kept."""

        def part(i: int) -> pl.Expr:
            text = pl.col(f"c{i}").str.strip_chars()
            return pl.when(text.str.len_bytes() > 0).then(text)

        flags = [c for c in frame.columns if c.startswith("_num_")]
        return frame.select(
            ROW,
            *(pl.col(f"c{i}").alias(c) for c, i in self.positions.items()),
            *(
                pl.concat_str([part(i) for i in sources], separator=" ", ignore_nulls=True).alias(c)
                for c, sources in self.parts.items()
            ),
            *(pl.col(f"c{i}").alias(kept_column(c)) for c, i in self.kept.items()),
            *flags,
        )

    def batches(self, size: int = 50_000) -> Iterator[pl.DataFrame]:
        """The data rows, ``size`` at a time, canonical columns as text plus ``_row``."""
        if self.kind == "csv":
            raw = self._csv_batches(size)
        elif self.kind == "xlsx":
            raw = self._xlsx_batches(size)
        else:
            raw = self._parquet_batches(size)
        for frame in raw:
            frame = self._tidy(self._named(frame))
            if frame.height:
                yield frame

    # ------------------------------------------------------------------ formats

    def _csv_batches(self, size: int) -> Iterator[pl.DataFrame]:
        width = max(self.width, max(self._read_positions) + 1)
        schema = {f"c{i}": pl.String for i in range(width)}
        start = self.header_row + 1
        for line, chunk in _csv_chunks(self.path, self.header_row, self.encoding):
            try:
                table = pl.read_csv(
                    chunk,
                    has_header=False,
                    separator=self.separator,
                    schema=schema,
                    truncate_ragged_lines=True,
                    encoding="utf8-lossy",
                )
            except pl.exceptions.PolarsError as exc:
                raise ValidationError(
                    f'Berkas {self.path.name} tidak dapat dibaca mulai sekitar baris {line}: ada tanda kutip (") yang '
                    "tidak ditutup atau baris yang rusak. Perbaiki lalu impor ulang; tidak ada yang disimpan."
                ) from exc
            for offset in range(0, table.height, size):
                part = table.slice(offset, size)
                yield part.select(
                    pl.int_range(start, start + part.height, dtype=pl.Int64).alias(ROW),
                    *(pl.col(f"c{i}") for i in self._read_positions),
                )
                start += part.height

    def _xlsx_batches(self, size: int) -> Iterator[pl.DataFrame]:
        import fastexcel

        reader = fastexcel.read_excel(self.path)
        sheet = reader.load_sheet(0, header_row=None, dtypes="string", skip_rows=self.header_row)
        text = sheet.to_polars()
        flags: dict[str, pl.Series] = {}
        ident = {c: i for c, i in self.positions.items() if c in IDENTIFIER_COLUMNS}
        if ident:
            # Loaded as booleans, a number cell becomes true/false and a text cell null.
            # Columns are named by their place in the used range (calamine starts it at the first used column).
            names = [f"__UNNAMED__{i}" for i in ident.values()]
            typed = reader.load_sheet(
                0,
                header_row=None,
                skip_rows=self.header_row,
                use_columns=names,
                dtypes=dict.fromkeys(names, "boolean"),
            ).to_polars()
            for (column, _), name in zip(ident.items(), typed.columns, strict=True):
                flags[numeric_flag(column)] = typed[name].is_not_null()
        names = text.columns
        frame = pl.DataFrame(
            [
                pl.int_range(
                    self.header_row + 1, self.header_row + 1 + text.height, dtype=pl.Int64, eager=True
                ).alias(ROW)
            ]
            + [
                (
                    text[names[i]] if i < len(names) else pl.Series([None] * text.height, dtype=pl.String)
                ).alias(f"c{i}")
                for i in self._read_positions
            ]
            + [s.alias(n) for n, s in flags.items()]
        )
        del text
        for offset in range(0, frame.height, size):
            yield frame.slice(offset, size)

    def _parquet_batches(self, size: int) -> Iterator[pl.DataFrame]:
        lf = pl.scan_parquet(self.path)
        names = lf.collect_schema().names()
        start = self.header_row + 1
        for chunk in lf.collect_batches(chunk_size=size):
            yield chunk.select(
                pl.int_range(start, start + chunk.height, dtype=pl.Int64).alias(ROW),
                *(pl.col(names[i]).cast(pl.String).alias(f"c{i}") for i in self._read_positions),
            )
            start += chunk.height

    def _tidy(self, frame: pl.DataFrame) -> pl.DataFrame:
        columns = list(self.columns)
        text = [c for c in columns if c not in FIELD_BY_COLUMN or FIELD_BY_COLUMN[c].kind in ("text", "name")]
        # strip_chars() already removes edge NBSPs; inside names and addresses they become spaces.
        frame = frame.with_columns(
            *(pl.col(c).str.replace_all("\u00a0", " ", literal=True).str.strip_chars() for c in text),
            *(pl.col(c).str.strip_chars() for c in columns if c not in text),
        )
        frame = frame.with_columns(
            pl.when(pl.col(c).str.len_bytes() == 0).then(None).otherwise(pl.col(c)).alias(c) for c in columns
        )
        for column, values in self.mapping.values.items():
            if column in frame.columns and values:
                frame = frame.with_columns(pl.col(column).replace(values))
        frame = frame.with_columns(
            pl.coalesce(
                pl.col(c).str.strptime(pl.Date, fmt, strict=False).dt.to_string("%Y-%m-%d"), pl.col(c)
            )
            for c, fmt in self.mapping.formats.items()
            if c in frame.columns
        )
        kept = [kept_column(c) for c in self.kept]
        return frame.filter(pl.any_horizontal(pl.col(c).is_not_null() for c in (*columns, *kept)))


# ---------------------------------------------------------------------- opening


@dataclass(frozen=True)
class _Header:
    """Where a header row is and what it holds: canonical, combined and kept columns by position."""

    index: int = -1
    found: dict[str, int] = field(default_factory=dict)
    parts: dict[str, tuple[int, ...]] = field(default_factory=dict)
    kept: dict[str, int] = field(default_factory=dict)
    width: int = 0

    @property
    def score(self) -> int:
        return len(self.found) + len(self.parts) + len(self.kept)


def _match_header(
    index: int, cells: Sequence[object], mapping: ColumnMapping, keep: Sequence[str]
) -> _Header:
    found: dict[str, int] = {}
    where: dict[str, int] = {}
    for i, cell in enumerate(cells):
        name = mapping.canonical_name(cell)
        if name is not None and name not in found:
            found[name] = i
        where.setdefault(normalise_header(cell), i)
    parts = {
        column: tuple(where[normalise_header(s)] for s in sources)
        for column, sources in mapping.combine.items()
        if all(normalise_header(s) in where for s in sources)
    }
    kept = {k: where[normalise_header(k)] for k in keep if normalise_header(k) in where}
    return _Header(index, found, parts, kept, len(cells))


def _find_header(
    rows: Sequence[Sequence[object]],
    mapping: ColumnMapping,
    filename: str,
    keep: Sequence[str] = (),
    min_matches: int = MIN_HEADER_MATCHES,
) -> _Header:
    best = _Header()
    for index, cells in enumerate(rows[:HEADER_SEARCH_ROWS]):
        found = _match_header(index, cells, mapping, keep)
        if found.score > best.score:
            best = found
    if best.index < 0 or best.score < min_matches:
        raise ValidationError(
            f"Baris judul kolom tidak ditemukan di {filename}: tidak ada baris dalam "
            f"{HEADER_SEARCH_ROWS} baris pertama yang memuat nama kolom yang dikenal (mis. nomor_kk, nik, nama). "
            "Periksa tata letak berkas atau gunakan berkas pemetaan kolom (--mapping)."
        )
    missing = [s for c, sources in mapping.combine.items() if c not in best.parts for s in sources]
    if missing:
        raise ValidationError(
            f"Kolom {', '.join(missing)} (disebut di [combine] berkas pemetaan) tidak ada di baris judul {filename}."
        )
    absent = [k for k in keep if k not in best.kept]
    if absent:
        raise ValidationError(f"Kolom {', '.join(absent)} tidak ada di baris judul {filename}.")
    return best


CSV_CHUNK_BYTES = 16 << 20


MAX_RECORD_BYTES = 1 << 20  # one registry row is a few hundred bytes: a megabyte means a quote never closed
MAX_COLUMNS = 1000


def _record_end(data: bytes) -> int | None:
    """Where the last complete CSV record in ``data`` ends (after its newline), minding quoted newlines.

    A newline ends a record when an even number of quotes comes before it. The quotes are counted once, then
    walking back from the last newline each step only subtracts the quotes between two newlines: linear in the
    size of ``data`` however its quotes fall (counting from the start at every newline was quadratic, and one
    stray quote in a 0.4 MB file kept the server busy for seconds).
    """
    pos = data.rfind(b"\n")
    if pos < 0:
        return None
    quotes = data.count(b'"', 0, pos)
    while pos >= 0:
        if quotes % 2 == 0:
            return pos + 1
        previous = data.rfind(b"\n", 0, pos)
        quotes -= data.count(b'"', previous + 1, pos)
        pos = previous
    return None


def _too_long(path: Path, line: int) -> ValidationError:
    return ValidationError(
        f"Berkas {path.name} rusak sekitar baris {line}: satu baris lebih dari {MAX_RECORD_BYTES >> 20} MB. Biasanya "
        'tanda kutip (") di baris itu tidak ditutup. Perbaiki baris itu lalu impor ulang; tidak ada yang disimpan.'
    )


def _csv_chunks(path: Path, skip_lines: int, encoding: str) -> Iterator[tuple[int, bytes]]:
    """The file after its first ``skip_lines`` lines, in UTF-8 pieces of whole records, each with the line it
    starts at.

    Read piece by piece (not memory-mapped, not read ahead), so memory stays flat whatever the file size. A
    record longer than ``MAX_RECORD_BYTES`` (an unclosed quote swallowing the rest of the file, or a 50 MB line)
    is refused with the line where it starts, before anything of the file is stored.
    """
    with path.open("rb") as f:
        for _ in range(skip_lines):
            f.readline()
        line = skip_lines + 1  # the spreadsheet line the next piece starts at
        rest = b""
        while True:
            block = f.read(CSV_CHUNK_BYTES)
            if not block:
                if rest.strip():
                    yield (
                        line,
                        rest if encoding == "utf-8" else rest.decode(encoding, errors="replace").encode(),
                    )
                return
            data = rest + block
            cut = _record_end(data)
            if cut is None:
                if len(data) > MAX_RECORD_BYTES:
                    raise _too_long(path, line)
                rest = data
                continue
            piece, rest = data[:cut], data[cut:]
            if len(rest) > MAX_RECORD_BYTES:
                raise _too_long(path, line + piece.count(b"\n"))
            yield line, piece if encoding == "utf-8" else piece.decode(encoding, errors="replace").encode()
            line += piece.count(b"\n")


def _encoding_of(head: bytes) -> str:
    """UTF-8, or Windows-1252 (what Excel's "CSV" writes on Indonesian Windows) when the bytes are not UTF-8."""
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut at the end of the sample
            return "cp1252"
    return "utf-8"


def _count_lines(path: Path) -> int:
    count = 0
    last = b"\n"
    with path.open("rb") as f:
        while block := f.read(1 << 24):
            count += block.count(b"\n")
            last = block[-1:]
    return count + (last != b"\n")


def _leading_rows(lines: list[str], separator: str) -> list[list[str]]:
    """The first lines as cells, up to the first one ``csv`` cannot read (a huge or broken field: the header is
    above it, and reading the data reports it with its line)."""
    rows: list[list[str]] = []
    try:
        rows.extend(csv.reader(io.StringIO("\n".join(lines)), delimiter=separator))
    except csv.Error:
        pass
    return rows


def _open_csv(path: Path, mapping: ColumnMapping, keep: Sequence[str], min_matches: int) -> RegistryFile:
    with path.open("rb") as f:
        head = f.read(1 << 20)
    encoding = _encoding_of(head)
    text = head.decode("utf-8-sig" if encoding == "utf-8" else encoding, errors="replace")
    lines = text.splitlines()[:HEADER_SEARCH_ROWS]
    best, sep = _Header(), ","
    failure: ValidationError | None = None
    for candidate in (";", ",", "\t", "|"):
        try:
            found = _find_header(_leading_rows(lines, candidate), mapping, path.name, keep, min_matches)
        except ValidationError as exc:
            # the most telling reason: a named column missing, rather than no header at all
            failure = exc if failure is None or str(failure).startswith("Baris judul") else failure
            continue
        if found.score > best.score:
            best, sep = found, candidate
    if best.index < 0:
        raise failure or ValidationError(f"Baris judul kolom tidak ditemukan di {path.name}")
    index, width = best.index, best.width
    headers = tuple(str(c) for c in _leading_rows(lines, sep)[index])
    if width > MAX_COLUMNS:
        raise ValidationError(
            f"Berkas {path.name} punya {width:,} kolom di baris judul; paling banyak {MAX_COLUMNS:,}. "
            "Simpan hanya kolom data registri lalu impor ulang.".replace(",", ".")
        )
    total = _count_lines(path) - index - 1
    return RegistryFile(
        path,
        "csv",
        index + 1,
        best.found,
        mapping,
        best.parts,
        best.kept,
        separator=sep,
        total_rows=max(total, 0),
        encoding=encoding,
        width=width,
        headers=headers,
    )


def _open_xlsx(path: Path, mapping: ColumnMapping, keep: Sequence[str], min_matches: int) -> RegistryFile:
    import fastexcel

    check_expansion(path, path.name)
    try:
        reader = fastexcel.read_excel(path)
        # skip_rows=0 makes rows absolute (without it calamine starts at the first used row).
        head = reader.load_sheet(
            0, header_row=None, dtypes="string", skip_rows=0, n_rows=HEADER_SEARCH_ROWS
        ).to_polars()
        total = reader.load_sheet(0, header_row=None, dtypes="string", skip_rows=0, n_rows=1).total_height
    except Exception as exc:  # calamine raises its own types for damaged files
        raise ValidationError(f"Berkas {path.name} bukan berkas Excel (.xlsx) yang dapat dibaca") from exc
    rows = [list(r) for r in head.rows()]
    best = _find_header(rows, mapping, path.name, keep, min_matches)
    index = best.index
    headers = tuple("" if c is None else str(c) for c in rows[index])
    return RegistryFile(
        path,
        "xlsx",
        index + 1,
        best.found,
        mapping,
        best.parts,
        best.kept,
        total_rows=max(total - index - 1, 0),
        headers=headers,
    )


def _open_parquet(path: Path, mapping: ColumnMapping, keep: Sequence[str], min_matches: int) -> RegistryFile:
    try:
        names = pl.scan_parquet(path).collect_schema().names()
        total = pl.scan_parquet(path).select(pl.len()).collect().item()
    except Exception as exc:  # pyarrow/polars raise their own types for damaged files
        raise ValidationError(f"Berkas {path.name} bukan berkas Parquet yang dapat dibaca") from exc
    best = _find_header([list(names)], mapping, path.name, keep, min_matches)
    return RegistryFile(
        path,
        "parquet",
        best.index + 1,
        best.found,
        mapping,
        best.parts,
        best.kept,
        total_rows=total,
        headers=tuple(names),
    )


def open_registry_file(
    path: str | Path,
    mapping: ColumnMapping | None = None,
    *,
    filename: str | None = None,
    keep: Sequence[str] = (),
    min_matches: int = MIN_HEADER_MATCHES,
) -> RegistryFile:
    """Open a CSV, XLSX or Parquet registry file and find its header row: the row of the first
    ``HEADER_SEARCH_ROWS`` that names the most known columns (at least ``min_matches``) and every column in
    ``keep``."""
    path = Path(path)
    mapping = mapping or IDENTITY
    name = filename or path.name
    if not path.is_file():
        raise ValidationError(f"Berkas {name} tidak ditemukan")
    suffix = Path(name).suffix.lower() or path.suffix.lower()
    if suffix in (".csv", ".txt", ".tsv"):
        return _open_csv(path, mapping, keep, min_matches)
    if suffix in (".xlsx", ".xlsm"):
        return _open_xlsx(path, mapping, keep, min_matches)
    if suffix == ".parquet":
        return _open_parquet(path, mapping, keep, min_matches)
    if suffix == ".xls":
        raise ValidationError(f"Berkas {name} berformat .xls lama; simpan ulang sebagai .xlsx atau .csv")
    raise ValidationError(f"Jenis berkas {name} tidak dikenal; gunakan .csv, .xlsx atau .parquet")
