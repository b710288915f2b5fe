"""Payment files we send and result files the bank or PT Pos sends back.

Both are CSV with a trailer line carrying control totals and the SHA-256 of the
body (see ``tepat.domain.payments``). A payment file is written byte for byte the
same every time from the same batch, so its checksum can be recorded and
compared. A result file (CSV or XLSX) is read into a Polars frame, every row is
checked, and the file is refused as a whole — nothing applied — when a row is
unreadable or the trailer's totals or checksum do not match.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from tepat.domain.payments import (
    PAYMENT_COLUMNS,
    REQUIRED_RESULT_COLUMNS,
    RESULT_ALIASES,
    STATUS_WORDS,
    TRAILER_MARK,
    Channel,
    ControlTotals,
    check_totals,
    checksum,
    format_trailer,
    parse_trailer,
)
from tepat.errors import FieldError, ImportRejected, ValidationError
from tepat.files.workbooks import check_expansion
from tepat.files.writers import neutralised_text

MAX_ERRORS = 50
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y")


@dataclass(frozen=True)
class WrittenFile:
    """What was written: control figures and the SHA-256 of the whole file (recorded on the batch)."""

    path: Path
    rows: int
    total: int
    body_sha256: str
    file_sha256: str


def payment_file_bytes(
    channel: Channel, batch_number: str, rows: Iterable[Sequence[object]]
) -> tuple[bytes, ControlTotals]:
    """The payment file for ``rows`` (already in ``PAYMENT_COLUMNS[channel]`` order, amount last)."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(PAYMENT_COLUMNS[channel])
    count = total = 0
    for row in rows:
        writer.writerow(["" if v is None else neutralised_text(v) if isinstance(v, str) else v for v in row])
        count += 1
        total += int(row[-1])  # type: ignore[call-overload]
    body = buffer.getvalue().encode("utf-8")
    totals = ControlTotals(
        rows=count, total=total, sha256=checksum(body), batch=batch_number, channel=channel.value
    )
    return body + (format_trailer(totals) + "\n").encode("utf-8"), totals


def write_payment_file(
    path: Path, channel: Channel, batch_number: str, rows: Iterable[Sequence[object]]
) -> WrittenFile:
    data, totals = payment_file_bytes(channel, batch_number, rows)
    path.write_bytes(data)
    return WrittenFile(
        path=path,
        rows=totals.rows,
        total=totals.total,
        body_sha256=totals.sha256 or "",
        file_sha256=checksum(data),
    )


def result_file_bytes(
    rows: Iterable[Sequence[object]], *, with_trailer: bool = True, separator: str = ","
) -> bytes:
    """A result file as a bank would send it (used by tests, the demo and the bench)."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n", delimiter=separator)
    writer.writerow(("referensi", "nik", "jumlah", "status", "keterangan", "referensi_bank", "tanggal"))
    count = total = 0
    for row in rows:
        writer.writerow(["" if v is None else neutralised_text(v) if isinstance(v, str) else v for v in row])
        count += 1
        total += int(row[2])  # type: ignore[call-overload]
    body = buffer.getvalue().encode("utf-8")
    if not with_trailer:
        return body
    return body + (
        format_trailer(ControlTotals(rows=count, total=total, sha256=checksum(body))) + "\n"
    ).encode("utf-8")


# ---------------------------------------------------------------- result files


@dataclass(frozen=True)
class ResultFile:
    """A checked result file: one row per line with ``row_number`` (line in the file), normalised columns,
    and ``duplicate`` (the reference appeared earlier in the file)."""

    frame: pl.DataFrame
    file_sha256: str
    declared: ControlTotals | None

    @property
    def rows(self) -> int:
        return self.frame.height

    @property
    def total(self) -> int:
        return int(self.frame["amount"].sum() or 0)


def _split_trailer(data: bytes) -> tuple[bytes, str | None]:
    stripped = data.rstrip(b"\r\n")
    cut = stripped.rfind(b"\n") + 1
    last = stripped[cut:].decode("utf-8", errors="replace").lstrip('"')
    if last.upper().startswith(TRAILER_MARK):
        return data[:cut], last
    return data, None


def _rejected(message: str, field: str = "berkas") -> ValidationError:
    return ValidationError(message, [FieldError(field, message)])


ENCODING_MESSAGE = (
    'Berkas hasil bukan teks UTF-8 (mis. UTF-16 dari Excel "Unicode Text"): simpan ulang sebagai '
    '"CSV UTF-8" atau kirim XLSX.'
)
MISSING_TRAILER = (
    "Baris kontrol (#KONTROL baris=…;total=…) tidak ada di akhir berkas: berkas mungkin terpotong. "
    "Minta berkas lengkap dari bank atau PT Pos; tidak ada yang diterapkan."
)


def _check_encoding(data: bytes) -> None:
    """A CSV must be UTF-8 text: UTF-16/32 (byte-order marks, NUL bytes) and other encodings are refused."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in data:
        raise _rejected(ENCODING_MESSAGE)
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        raise _rejected(ENCODING_MESSAGE) from None


def read_result_file(
    data: bytes,
    *,
    name: str,
    file_sha256: str | None = None,
    batch_number: str | None = None,
    channel: str | None = None,
) -> ResultFile:
    """Check a result file's bytes (``.csv`` or ``.xlsx``, told by ``name`` and content); raise before anything is
    stored when it is wrong. ``file_sha256`` is the checksum of ``data`` when the caller already has it.

    The control trailer is mandatory (a file cut at a row, or inside one, has lost it), and the batch and channel
    it names must be ``batch_number`` and ``channel`` (the batch being imported)."""
    suffix = Path(name).suffix.lower()
    if not data.strip():
        raise _rejected("Berkas hasil kosong.")
    if suffix == ".xlsx" or data.startswith(b"PK\x03\x04"):
        frame, trailer = _xlsx_frame(data)
        body_sha = None
    else:
        _check_encoding(data)
        body, trailer = _split_trailer(data)
        body_sha = checksum(body)
        frame = _csv_frame(body)
    checked = _check_rows(frame)  # unreadable rows first: the most precise answer
    if trailer is None:
        raise _rejected(MISSING_TRAILER, "kontrol")
    declared = parse_trailer(trailer)
    if batch_number is not None and declared.batch and declared.batch != batch_number:
        raise _rejected(
            f"Baris kontrol menyebut batch {declared.batch[:40]}, bukan {batch_number}: berkas ini milik "
            "batch lain.",
            "kontrol",
        )
    if channel is not None and declared.channel and declared.channel.lower() != channel.lower():
        raise _rejected(f"Baris kontrol menyebut kanal {declared.channel[:20]}, bukan {channel}.", "kontrol")
    check_totals(declared, checked.height, int(checked["amount"].sum() or 0), body_sha)
    return ResultFile(frame=checked, file_sha256=file_sha256 or checksum(data), declared=declared)


def _csv_frame(body: bytes) -> pl.DataFrame:
    if body.startswith(b"\xef\xbb\xbf"):
        body = body[3:]
    header = body.split(b"\n", 1)[0].decode("utf-8", errors="replace")
    separator = ";" if header.count(";") > header.count(",") else ","
    try:
        return pl.read_csv(io.BytesIO(body), separator=separator, infer_schema=False)
    except (pl.exceptions.PolarsError, UnicodeDecodeError) as exc:
        raise _rejected("Berkas hasil bukan CSV yang dapat dibaca.") from exc


def _xlsx_frame(data: bytes) -> tuple[pl.DataFrame, str | None]:
    try:
        check_expansion(data, "hasil")
    except ValidationError as exc:
        raise _rejected(exc.message) from exc
    try:
        frame = pl.read_excel(io.BytesIO(data), engine="calamine", read_options={"dtypes": "string"})
    except Exception as exc:  # fastexcel raises its own types for broken workbooks
        raise _rejected("Berkas hasil bukan XLSX yang dapat dibaca.") from exc
    trailer = None
    if frame.height and str(frame[-1, 0] or "").upper().startswith(TRAILER_MARK):
        trailer = str(frame[-1, 0])
        frame = frame.head(frame.height - 1)
    return frame, trailer


def _check_rows(raw: pl.DataFrame) -> pl.DataFrame:
    """Normalise the columns; every unreadable value is an error naming its line in the file."""
    renamed: dict[str, str] = {}
    for column in raw.columns:
        key = "_".join(column.strip().lower().replace("-", " ").split())
        target = RESULT_ALIASES.get(key)
        if target and target not in renamed.values():
            renamed[column] = target
    frame = raw.select([pl.col(c).alias(t) for c, t in renamed.items()])
    missing = [c for c in REQUIRED_RESULT_COLUMNS if c not in frame.columns]
    if missing:
        raise _rejected(
            f"Kolom wajib tidak ada: {', '.join(missing)} (kolom berkas: {', '.join(raw.columns)}).", "kolom"
        )
    for optional in ("nik", "keterangan", "referensi_bank", "tanggal"):
        if optional not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(optional))
    text = [
        pl.col(c).cast(pl.String).str.strip_chars()
        for c in ("referensi", "nik", "jumlah", "status", "keterangan", "referensi_bank", "tanggal")
    ]
    frame = (
        frame.with_columns(text)
        .with_columns(
            [pl.when(pl.col(c) == "").then(None).otherwise(pl.col(c)).alias(c) for c in frame.columns]
        )
        .with_row_index("row_number", offset=2)
    )
    amount_ok = pl.col("jumlah").str.contains(r"^\d{1,15}(?:[.,]0{1,2})?$")
    date_expr = pl.coalesce([pl.col("tanggal").str.strptime(pl.Date, f, strict=False) for f in DATE_FORMATS])
    checked = frame.with_columns(
        amount=pl.when(amount_ok).then(pl.col("jumlah").str.extract(r"^(\d+)").cast(pl.Int64)),
        status_code=pl.col("status")
        .str.to_uppercase()
        .replace_strict({k: v.value for k, v in STATUS_WORDS.items()}, default=None, return_dtype=pl.String),
        settled_on=date_expr,
    )
    problems: list[FieldError] = []
    checks = [
        (pl.col("referensi").is_null(), "referensi", "Referensi kosong", "referensi"),
        (
            pl.col("referensi").str.len_chars() > 40,
            "referensi",
            "Referensi lebih dari 40 karakter",
            "referensi",
        ),
        (pl.col("amount").is_null(), "jumlah", "Jumlah bukan angka rupiah utuh", "jumlah"),
        (
            pl.col("status_code").is_null(),
            "status",
            "Status tidak dikenal (pakai SUKSES, GAGAL atau RETUR)",
            "status",
        ),
        (
            pl.col("nik").is_not_null() & ~pl.col("nik").str.contains(r"^\d{16}$"),
            "nik",
            "NIK harus 16 angka (nilai seperti 3.27501E+15 berarti angka hilang di Excel)",
            "nik",
        ),
        (
            pl.col("tanggal").is_not_null() & pl.col("settled_on").is_null(),
            "tanggal",
            "Tanggal tidak terbaca (pakai TTTT-BB-HH atau HH/BB/TTTT)",
            "tanggal",
        ),
    ]
    for condition, field, message, column in checks:
        bad = checked.filter(condition).head(MAX_ERRORS)
        problems += [
            FieldError(field, message, value, row)
            for row, value in zip(bad["row_number"], bad[column], strict=True)
        ]
    if problems:
        problems.sort(key=lambda p: (p.row or 0, p.field))
        raise ImportRejected(
            f"Berkas hasil ditolak: {len(problems)} isian tidak terbaca. Tidak ada yang diterapkan.",
            problems[:MAX_ERRORS],
        )
    return checked.select(
        pl.col("row_number").cast(pl.Int64),
        pl.col("referensi").alias("reference"),
        pl.col("nik").alias("recipient_nik"),
        pl.col("amount"),
        pl.col("status_code").alias("status"),
        pl.col("keterangan").str.slice(0, 200).alias("reason"),
        pl.col("referensi_bank").str.slice(0, 64).alias("bank_reference"),
        pl.col("settled_on"),
        (~pl.col("referensi").is_first_distinct()).alias("duplicate"),
    )
