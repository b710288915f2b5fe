"""Payment lines, batches, the payment and result file formats, and how a result row is judged.

A *batch* sends one *line* per entitlement through one channel (a regional bank,
PT Pos cash, an in-kind voucher). The bank answers with a *result file*: one
row per line, with our reference, the NIK, the amount and a status in its own
words. Every row is judged against our line by ``classify`` — applied, already
applied, mismatch, unknown reference, duplicate in the file, or state conflict —
and only *applied* rows change money state. The services run the same rules as
set-based SQL built from ``TRANSITIONS`` and ``ENTITLEMENT_EFFECT``.

Files carry control totals (row count, sum of amounts) and the SHA-256 of their
body in a last line, the trailer::

    #KONTROL;batch=BYR-000012-001;kanal=bank;baris=2;total=500000;sha256=<64 hex>

The body is every byte before the trailer (header row included). See docs/payments.md.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from tepat.domain.entitlements import EntitlementState
from tepat.domain.records import from_columns
from tepat.domain.vocabulary import Labelled
from tepat.errors import FieldError, StateError, ValidationError


class PaymentState(Labelled):
    DIKIRIM = "dikirim", "Dikirim"
    DIBAYAR = "dibayar", "Dibayar"
    GAGAL = "gagal", "Gagal"
    DIKEMBALIKAN = "dikembalikan", "Dikembalikan"
    DIBATALKAN = "dibatalkan", "Dibatalkan"


_P = PaymentState
TRANSITIONS: dict[PaymentState, frozenset[PaymentState]] = {
    # A first report of RETUR on a line still 'dikirim' is taken as paid-then-returned.
    _P.DIKIRIM: frozenset({_P.DIBAYAR, _P.GAGAL, _P.DIKEMBALIKAN, _P.DIBATALKAN}),
    _P.DIBAYAR: frozenset({_P.DIKEMBALIKAN}),
    _P.GAGAL: frozenset(),
    _P.DIKEMBALIKAN: frozenset(),
    _P.DIBATALKAN: frozenset(),
}

ENTITLEMENT_EFFECT: dict[PaymentState, EntitlementState] = {
    _P.DIBAYAR: EntitlementState.DIBAYAR,
    _P.GAGAL: EntitlementState.GAGAL,
    _P.DIKEMBALIKAN: EntitlementState.GAGAL,
    _P.DIBATALKAN: EntitlementState.GAGAL,
}
"""What a line's new state does to its entitlement (a cancelled line leaves it retryable)."""

RESULT_STATES = (_P.DIBAYAR, _P.GAGAL, _P.DIKEMBALIKAN)
"""The states a result file may report."""


def payment_sources_of(target: PaymentState | str) -> frozenset[PaymentState]:
    """Line states from which ``target`` may be reached (the guard of the set-based UPDATE)."""
    tgt = PaymentState(target)
    return frozenset(s for s, targets in TRANSITIONS.items() if tgt in targets)


def check_payment_transition(current: PaymentState | str, target: PaymentState | str) -> None:
    cur, tgt = PaymentState(current), PaymentState(target)
    if tgt not in TRANSITIONS[cur]:
        raise StateError(f"Pembayaran berstatus '{cur.label}' tidak dapat diubah menjadi '{tgt.label}'.")


class BatchState(Labelled):
    DIBUAT = "dibuat", "Dibuat"
    DIEKSPOR = "diekspor", "Berkas diekspor"
    SELESAI = "selesai", "Selesai"
    DIBATALKAN = "dibatalkan", "Dibatalkan"


IMPORTABLE_BATCH = frozenset({BatchState.DIEKSPOR, BatchState.SELESAI, BatchState.DIBATALKAN})
"""A cancelled batch still takes results: the bank may have paid before it heard, and that must show as a conflict."""
CANCELLABLE_BATCH = frozenset({BatchState.DIBUAT, BatchState.DIEKSPOR})


class Channel(Labelled):
    BANK = "bank", "Transfer bank daerah (mis. Bank BJB)"
    POS = "pos", "Tunai melalui PT Pos"
    VOUCHER = "voucher", "Voucher barang"


@dataclass(frozen=True)
class Batch:
    """A payment batch as stored (the read model of ``payment_batches``; ``cycle_name`` when listed with it)."""

    id: int
    cycle_id: int
    number: str
    channel: Channel
    state: BatchState
    control_count: int
    control_total: int
    version: int
    created_by: str
    created_at: datetime
    kelurahan_code: str | None = None
    file_name: str | None = None
    file_sha256: str | None = None
    exported_by: str | None = None
    exported_at: datetime | None = None
    closed_at: datetime | None = None
    cancel_reason: str | None = None
    cycle_name: str | None = None
    cycle_area_code: str | None = None  # the area of its cycle (a whole-cycle batch covers it)

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> Batch:
        return from_columns(cls, row, channel=Channel(row["channel"]), state=BatchState(row["state"]))

    def as_json(self) -> dict[str, Any]:
        """The batch in the vocabulary of the CLI's ``--json`` and the pages' JSON twins."""
        return {
            "id": self.id,
            "nomor": self.number,
            "siklus": self.cycle_id,
            "kanal": self.channel.value,
            "kelurahan": self.kelurahan_code,
            "status": self.state.value,
            "baris": self.control_count,
            "total": self.control_total,
            "berkas": self.file_name,
            "sha256": self.file_sha256,
            "dibuat_oleh": self.created_by,
            "dibuat_pada": self.created_at.isoformat(),
            "alasan_batal": self.cancel_reason,
        }


PAYMENT_COLUMNS: dict[Channel, tuple[str, ...]] = {
    Channel.BANK: ("referensi", "nik", "nama", "rekening_kks", "jumlah"),
    Channel.POS: ("referensi", "nik", "nama", "alamat", "kelurahan", "jumlah"),
    Channel.VOUCHER: ("referensi", "nik", "nama", "nilai_voucher"),
}
"""Columns of the payment file per channel; the last one is always the amount in whole rupiah."""

RESULT_COLUMNS = ("referensi", "nik", "jumlah", "status", "keterangan", "referensi_bank", "tanggal")
RESULT_ALIASES: dict[str, str] = {
    "referensi": "referensi",
    "reference": "referensi",
    "ref": "referensi",
    "no_referensi": "referensi",
    "nik": "nik",
    "nik_penerima": "nik",
    "jumlah": "jumlah",
    "nominal": "jumlah",
    "amount": "jumlah",
    "nilai": "jumlah",
    "nilai_voucher": "jumlah",
    "status": "status",
    "keterangan": "keterangan",
    "alasan": "keterangan",
    "reason": "keterangan",
    "referensi_bank": "referensi_bank",
    "bank_reference": "referensi_bank",
    "no_transaksi": "referensi_bank",
    "tanggal": "tanggal",
    "tanggal_bayar": "tanggal",
    "settled_on": "tanggal",
    "tgl_transaksi": "tanggal",
}
REQUIRED_RESULT_COLUMNS = ("referensi", "jumlah", "status")

STATUS_WORDS: dict[str, PaymentState] = {
    **{w: _P.DIBAYAR for w in ("SUKSES", "BERHASIL", "PAID", "SUCCESS", "DIBAYAR", "LUNAS")},
    **{w: _P.GAGAL for w in ("GAGAL", "FAILED", "FAIL", "DITOLAK", "REJECTED")},
    **{w: _P.DIKEMBALIKAN for w in ("RETUR", "RETURN", "RETURNED", "DIKEMBALIKAN")},
}
"""The words banks and PT Pos write in the status column, case-insensitive."""


def parse_status(word: str | None) -> PaymentState | None:
    return STATUS_WORDS.get((word or "").strip().upper())


_AMOUNT = re.compile(r"^\d{1,15}(?:[.,]0{1,2})?$")


def parse_amount(text: str | None) -> int | None:
    """Whole rupiah as the bank writes it (``250000``, ``250000.00``); ``None`` when it is not one."""
    value = (text or "").strip()
    if not _AMOUNT.match(value):
        return None
    return int(re.split(r"[.,]", value)[0])


class ResultImportStatus(StrEnum):
    """What became of an imported result file: applied whole (``selesai``), or refused whole (``ditolak``)."""

    SELESAI = "selesai"
    DITOLAK = "ditolak"


class Outcome(Labelled):
    """What a result row did (stored in ``payment_result_lines.outcome``)."""

    DITERAPKAN = "diterapkan", "Diterapkan"  # applied: the line (and its entitlement) moved
    SUDAH = "sudah", "Sudah diterapkan"  # already applied earlier: nothing to do (idempotent)
    TIDAK_COCOK = "tidak_cocok", "Tidak cocok"  # amount or NIK differs from ours: not applied
    TIDAK_DIKENAL = "tidak_dikenal", "Referensi tidak dikenal"  # no such reference in this batch
    GANDA = "ganda", "Baris ganda"  # the reference appears earlier in the same file
    # the report contradicts our line's state (e.g. paid but cancelled with us)
    KONFLIK = "konflik", "Bertentangan dengan status kami"


MISMATCH_OUTCOMES = frozenset({Outcome.TIDAK_COCOK, Outcome.TIDAK_DIKENAL, Outcome.GANDA, Outcome.KONFLIK})


@dataclass(frozen=True)
class OurLine:
    """Our payment line as the judge sees it."""

    state: PaymentState
    amount: int
    nik: str | None
    bank_reference: str | None = None


@dataclass(frozen=True)
class ResultRow:
    reference: str
    nik: str | None
    amount: int
    status: PaymentState
    bank_reference: str | None = None


def second_bank_reference(ours: OurLine, row: ResultRow) -> bool:
    """The bank reports a line we hold as paid with another transaction id: it may have paid twice (to look into)."""
    return (
        ours.state == row.status == PaymentState.DIBAYAR
        and ours.bank_reference is not None
        and row.bank_reference is not None
        and ours.bank_reference != row.bank_reference
    )


def classify(ours: OurLine | None, row: ResultRow, *, duplicate: bool = False) -> Outcome:
    """Judge one result row; the SQL in ``tepat.services.payments`` follows the same order of rules."""
    if duplicate:
        return Outcome.GANDA
    if ours is None:
        return Outcome.TIDAK_DIKENAL
    if ours.amount != row.amount or (row.nik is not None and ours.nik is not None and ours.nik != row.nik):
        return Outcome.TIDAK_COCOK
    if second_bank_reference(ours, row):
        return Outcome.TIDAK_COCOK
    if ours.state == row.status:
        return Outcome.SUDAH
    if row.status in TRANSITIONS[ours.state]:
        return Outcome.DITERAPKAN
    return Outcome.KONFLIK


# ---------------------------------------------------------------- control totals


@dataclass(frozen=True)
class ControlTotals:
    """What a file's trailer says about its body: row count, sum of amounts, SHA-256 of the body."""

    rows: int
    total: int
    sha256: str | None = None
    batch: str | None = None
    channel: str | None = None


TRAILER_MARK = "#KONTROL"


def checksum(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def format_trailer(totals: ControlTotals) -> str:
    parts = [TRAILER_MARK]
    if totals.batch:
        parts.append(f"batch={totals.batch}")
    if totals.channel:
        parts.append(f"kanal={totals.channel}")
    parts += [f"baris={totals.rows}", f"total={totals.total}"]
    if totals.sha256:
        parts.append(f"sha256={totals.sha256}")
    return ";".join(parts)


def parse_trailer(line: str) -> ControlTotals:
    """Read a trailer line; a malformed one is an error, never silently ignored."""
    text = line.strip().strip('"').rstrip(",;")
    fields: dict[str, str] = {}
    for part in re.split(r"[;,]", text)[1:]:
        key, sep, value = part.partition("=")
        if sep:
            fields[key.strip().lower()] = value.strip()
    rows, total = fields.get("baris", ""), fields.get("total", "")
    digest = fields.get("sha256")
    if (
        not rows.isdigit()
        or not total.isdigit()
        or (digest is not None and not re.fullmatch(r"[0-9a-fA-F]{64}", digest))
    ):
        message = "Baris kontrol (#KONTROL) tidak terbaca: harus memuat baris=…, total=… dan boleh sha256=…"
        raise ValidationError(message, [FieldError("kontrol", message, line[:200])])
    return ControlTotals(
        rows=int(rows),
        total=int(total),
        sha256=digest.lower() if digest else None,
        batch=fields.get("batch"),
        channel=fields.get("kanal"),
    )


def check_totals(declared: ControlTotals, rows: int, total: int, body_sha256: str | None) -> None:
    """Raise ``ValidationError`` naming every control figure the body does not match."""
    problems: list[FieldError] = []
    if declared.rows != rows:
        problems.append(
            FieldError("baris", f"Baris kontrol menyebut {declared.rows} baris, berkas berisi {rows}")
        )
    if declared.total != total:
        problems.append(
            FieldError("total", f"Baris kontrol menyebut total {declared.total}, jumlah baris berkas {total}")
        )
    if declared.sha256 and body_sha256 and declared.sha256 != body_sha256:
        problems.append(
            FieldError("sha256", "Checksum SHA-256 tidak sama dengan isi berkas: berkas diubah atau rusak")
        )
    if problems:
        raise ValidationError(
            "Berkas hasil ditolak: total kontrol atau checksum tidak cocok. Tidak ada yang diterapkan.",
            problems,
        )
