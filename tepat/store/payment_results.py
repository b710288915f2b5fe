"""Result imports of payment batches: the bank's rows judged against our lines (vectorised, in the order of rules of
``tepat.domain.payments.classify``) and written once, into the ledger. That write is the import: lines and
entitlements read their state from the ledger (``tepat.store.payment_states``), and the batch's totals per
kelurahan and state are counted here from the same frames. Functions take a connection and never commit: the
service owns the transaction (``tepat.services.payments.import_results``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl
import sqlalchemy as sa

from tepat.domain.payments import (
    TRANSITIONS,
    Outcome,
    PaymentState,
    ResultImportStatus,
)
from tepat.domain.regions import office_of
from tepat.store.bulk import insert_frame, read_frame
from tepat.store.engine import is_sqlite
from tepat.store.payment_states import APPLIED, applied_in_batch
from tepat.store.schema import (
    is_mismatch,
    payment_result_imports,
    payment_result_lines,
    payments,
)

_P, _R, _I = payments, payment_result_lines, payment_result_imports


def finished_import(conn: sa.Connection, batch_id: int, file_sha256: str) -> dict[str, Any] | None:
    row = (
        conn.execute(
            sa.select(_I)
            .where(
                _I.c.batch_id == batch_id,
                _I.c.file_sha256 == file_sha256,
                _I.c.status == ResultImportStatus.SELESAI.value,
            )
            .order_by(_I.c.id)
            .limit(1)
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


def insert_import(conn: sa.Connection, values: dict[str, Any]) -> int:
    return int(conn.execute(sa.insert(_I).values(**values).returning(_I.c.id)).scalar_one())


def finish_import(conn: sa.Connection, import_id: int, **values: Any) -> None:
    conn.execute(sa.update(_I).where(_I.c.id == import_id).values(**values))


def imports(conn: sa.Connection, batch_id: int) -> list[dict[str, Any]]:
    return [
        dict(r)
        for r in conn.execute(sa.select(_I).where(_I.c.batch_id == batch_id).order_by(_I.c.id)).mappings()
    ]


_LINE_COLUMNS = (
    "import_id",
    "row_number",
    "reference",
    "recipient_nik",
    "amount",
    "status",
    "reason",
    "bank_reference",
    "settled_on",
    "outcome",
    "detail",
    "payment_id",
    "entitlement_id",
    "paid_open",
)


def our_lines(conn: sa.Connection, batch_id: int) -> pl.DataFrame:
    """Every line of the batch with its state now, amount, NIK and kelurahan (read under the batch lock): the
    stored lines, overtaken by the bank's applied results (``payment_states.applied_in_batch``)."""
    # in the order of _OUR_SCHEMA
    query = sa.select(
        _P.c.reference,
        _P.c.state,
        _P.c.amount,
        _P.c.recipient_nik,
        _P.c.bank_reference,
        _P.c.id,
        _P.c.entitlement_id,
        _P.c.kelurahan_code,
    ).where(_P.c.batch_id == int(batch_id))
    stored = read_frame(conn, query, _OUR_SCHEMA)
    reported = applied_in_batch(conn, batch_id)
    if reported.is_empty():
        return stored
    return (
        stored.join(reported, on="payment_id", how="left")
        .with_columns(
            our_state=pl.coalesce("status", "our_state"),
            our_bank_reference=pl.coalesce("bank_reference", "our_bank_reference"),
        )
        .select(list(_OUR_SCHEMA))
    )


_OUR_SCHEMA = pl.Schema(
    {
        "reference": pl.String,
        "our_state": pl.String,
        "our_amount": pl.Int64,
        "our_nik": pl.String,
        "our_bank_reference": pl.String,
        "payment_id": pl.Int64,
        "entitlement_id": pl.Int64,
        "kelurahan_code": pl.String,
    }
)


def judge(rows: pl.DataFrame, ours: pl.DataFrame) -> pl.DataFrame:
    """Outcome and detail of every result row, vectorised, in the order of rules of ``domain.classify``."""
    both = rows.join(ours, on="reference", how="left").sort("row_number")
    state, status = pl.col("our_state"), pl.col("status")
    unknown = state.is_null()
    amount_differs = pl.col("our_amount") != pl.col("amount")
    nik_differs = (
        pl.col("recipient_nik").is_not_null()
        & pl.col("our_nik").is_not_null()
        & (pl.col("our_nik") != pl.col("recipient_nik"))
    )
    same = state == status
    # domain.second_bank_reference: paid with us, reported paid again under another transaction id
    second_reference = (
        (state == PaymentState.DIBAYAR.value)
        & same
        & pl.col("our_bank_reference").is_not_null()
        & pl.col("bank_reference").is_not_null()
        & (pl.col("our_bank_reference") != pl.col("bank_reference"))
    )
    allowed = pl.any_horizontal(
        [
            (state == current.value) & status.is_in([t.value for t in targets])
            for current, targets in TRANSITIONS.items()
            if targets
        ]
    )
    outcome = (
        pl.when(pl.col("duplicate"))
        .then(pl.lit(Outcome.GANDA.value))
        .when(unknown)
        .then(pl.lit(Outcome.TIDAK_DIKENAL.value))
        .when(amount_differs | nik_differs | second_reference)
        .then(pl.lit(Outcome.TIDAK_COCOK.value))
        .when(same)
        .then(pl.lit(Outcome.SUDAH.value))
        .when(allowed)
        .then(pl.lit(Outcome.DITERAPKAN.value))
        .otherwise(pl.lit(Outcome.KONFLIK.value))
    )
    detail = (
        pl.when(pl.col("duplicate"))
        .then(pl.lit("referensi sudah muncul di baris sebelumnya"))
        .when(unknown)
        .then(pl.lit("referensi tidak ada di batch ini"))
        .when(amount_differs)
        .then(pl.format("jumlah kami {}, berkas {}", pl.col("our_amount"), pl.col("amount")))
        .when(nik_differs)
        .then(pl.lit("NIK berbeda dengan data kami"))
        .when(second_reference)
        .then(
            pl.format(
                "sudah dibayar dengan referensi bank {}, kini {}: mungkin dibayar "
                "dua kali, periksa dengan bank",
                pl.col("our_bank_reference"),
                pl.col("bank_reference"),
            )
        )
        .when(same | allowed)
        .then(pl.lit(None, dtype=pl.String))
        .otherwise(pl.format("status kami {}, berkas {}", state, status))
    )
    paid_open = (
        pl.when((outcome == Outcome.DITERAPKAN.value) & (status == PaymentState.DIBAYAR.value))
        .then(pl.lit(True))
        .otherwise(pl.lit(None, dtype=pl.Boolean))
    )
    return both.with_columns(outcome=outcome, detail=detail).with_columns(paid_open=paid_open)


@dataclass(frozen=True)
class Staged:
    """What writing the judged rows did: rows per outcome, and the batch's lines per kelurahan and state after."""

    by_outcome: dict[str, int]
    totals: list[tuple[str, str, int, int]]  # (kelurahan, state, lines, amount)

    def lines_in(self, state: PaymentState) -> int:
        return sum(n for _, s, n, _ in self.totals if s == state.value)


def stage_rows(conn: sa.Connection, import_id: int, batch_id: int, frame: pl.DataFrame) -> Staged:
    """Judge the file's rows against our lines and bulk-write them into the ledger, ``payment_result_lines``.

    Our lines are read with their state now under the batch lock, so nothing moves them meanwhile; each result
    row is written once, already judged, by the driver's fastest path (COPY on PostgreSQL, executemany on
    SQLite). A row judged ``diterapkan`` is the line's new state; written, it is applied. A second applied
    payment of one entitlement is refused by the ledger's unique index, whatever this code judged.
    """
    ours = our_lines(conn, batch_id)
    judged = judge(frame, ours)
    # A batch pays one office's entitlements: its rows, even those naming no line of ours, are that office's.
    office = office_of(ours["kelurahan_code"][0]) if ours.height else ""
    rows = judged.select(
        pl.lit(import_id).alias("import_id"), *_LINE_COLUMNS[1:], pl.lit(office).alias("office_code")
    )
    if is_sqlite(conn):
        rows = rows.with_columns(
            pl.col("settled_on").cast(pl.String)
        )  # the ISO text SQLAlchemy's Date stores
    insert_frame(conn, "payment_result_lines", rows)
    moved = judged.filter(pl.col("outcome") == Outcome.DITERAPKAN.value).select(
        "payment_id", pl.col("status").alias("new_state")
    )
    if (moved["new_state"] == PaymentState.DIKEMBALIKAN.value).any():
        close_returned_payments(conn, import_id)
    after = (
        ours.join(moved, on="payment_id", how="left")
        .with_columns(state=pl.coalesce("new_state", "our_state"))
        .group_by("kelurahan_code", "state")
        .agg(pl.len().alias("lines"), pl.col("our_amount").sum().alias("amount"))
        .sort("kelurahan_code", "state")
    )
    return Staged(
        {str(k): int(v) for k, v in rows.group_by("outcome").len().iter_rows()},
        [(str(k), str(s), int(n), int(a)) for k, s, n, a in after.iter_rows()],
    )


def close_returned_payments(conn: sa.Connection, import_id: int) -> None:
    """A payment returned by this import is no longer open: its entitlement may be paid again by a retry."""
    returned = _R.alias("returned")
    by_return = sa.select(returned.c.entitlement_id).where(
        returned.c.import_id == import_id,
        returned.c.outcome == APPLIED,
        returned.c.status == PaymentState.DIKEMBALIKAN.value,
    )
    conn.execute(
        sa.update(_R)
        .where(_R.c.entitlement_id.in_(by_return), _R.c.paid_open.is_(True), _R.c.import_id != import_id)
        .values(paid_open=None)
    )


def outcome_counts(conn: sa.Connection, import_id: int) -> dict[str, int]:
    rows = conn.execute(
        sa.select(_R.c.outcome, sa.func.count()).where(_R.c.import_id == import_id).group_by(_R.c.outcome)
    )
    return {str(k): int(v) for k, v in rows}


def import_mismatches(conn: sa.Connection, import_id: int, limit: int = 500) -> list[dict[str, Any]]:
    q = (
        sa.select(
            _R.c.row_number,
            _R.c.reference,
            _R.c.recipient_nik,
            _R.c.amount,
            _R.c.status,
            _R.c.outcome,
            _R.c.detail,
        )
        .where(_R.c.import_id == import_id, is_mismatch(_R.c.outcome))
        .order_by(_R.c.row_number)
        .limit(limit)
    )
    return [dict(r) for r in conn.execute(q).mappings()]
