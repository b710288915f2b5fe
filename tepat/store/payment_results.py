"""Result imports of payment batches: the bank's rows judged against our lines (vectorised, in the order of rules of
``tepat.domain.payments.classify``), written once, then applied by guarded UPDATEs. Functions take a connection
and never commit: the service owns the transaction (``tepat.services.payments.import_results``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import polars as pl
import sqlalchemy as sa

from tepat.domain.entitlements import EntitlementState, sources_of
from tepat.domain.payments import (
    ENTITLEMENT_EFFECT,
    RESULT_STATES,
    TRANSITIONS,
    Outcome,
    PaymentState,
    ResultImportStatus,
    payment_sources_of,
)
from tepat.store.bulk import insert_frame
from tepat.store.engine import is_sqlite
from tepat.store.payments import refresh_statistics
from tepat.store.schema import (
    entitlements,
    payment_result_imports,
    payment_result_lines,
    payments,
)

_E, _P, _R, _I = entitlements, payments, payment_result_lines, payment_result_imports


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
)


def our_lines(conn: sa.Connection, batch_id: int) -> pl.DataFrame:
    """Reference, state, amount and NIK of every line of the batch (read under the batch lock)."""
    # The driver's cursor, not SQLAlchemy rows: a quarter of a million tuples come back several times faster.
    driver = conn.connection.driver_connection
    assert driver is not None  # a live connection has its driver's
    cursor = driver.cursor()
    try:
        cursor.execute(
            "SELECT reference, state, amount, recipient_nik, bank_reference FROM payments WHERE batch_id = "
            + ("?" if is_sqlite(conn) else "%s"),
            (batch_id,),
        )
        rows = cursor.fetchall()
    finally:
        cursor.close()
    return pl.DataFrame(
        rows,
        schema={
            "reference": pl.String,
            "our_state": pl.String,
            "our_amount": pl.Int64,
            "our_nik": pl.String,
            "our_bank_reference": pl.String,
        },
        orient="row",
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
    return both.with_columns(outcome=outcome, detail=detail)


def stage_rows(conn: sa.Connection, import_id: int, batch_id: int, frame: pl.DataFrame) -> dict[str, int]:
    """Judge the file's rows against our lines and bulk-write them into ``payment_result_lines``.

    Our lines are read under the batch lock, so nothing moves them meanwhile; each
    result row is written once, already judged, by the driver's fastest path
    (COPY on PostgreSQL, executemany on SQLite). Only rows judged ``diterapkan``
    are applied afterwards, and then again only by guarded UPDATEs.
    """
    judged = judge(frame, our_lines(conn, batch_id)).select(
        pl.lit(import_id).alias("import_id"), *_LINE_COLUMNS[1:]
    )
    if is_sqlite(conn):
        judged = judged.with_columns(
            pl.col("settled_on").cast(pl.String)
        )  # the ISO text SQLAlchemy's Date stores
    insert_frame(conn, "payment_result_lines", judged)
    refresh_statistics(conn, "payment_result_lines")
    return {str(k): int(v) for k, v in judged.group_by("outcome").len().iter_rows()}  # rows per outcome


def outcome_counts(conn: sa.Connection, import_id: int) -> dict[str, int]:
    rows = conn.execute(
        sa.select(_R.c.outcome, sa.func.count()).where(_R.c.import_id == import_id).group_by(_R.c.outcome)
    )
    return {str(k): int(v) for k, v in rows}


def apply_staged(conn: sa.Connection, import_id: int, batch_id: int, at: datetime) -> int:
    """Move the lines judged ``diterapkan`` (guarded by their current state); returns how many moved."""
    guard = sa.or_(
        *[
            sa.and_(
                _R.c.status == target.value, _P.c.state.in_([s.value for s in payment_sources_of(target)])
            )
            for target in RESULT_STATES
        ]
    )
    is_paid = _R.c.status == PaymentState.DIBAYAR.value
    return conn.execute(
        sa.update(_P)
        .where(
            _R.c.import_id == import_id,
            _R.c.outcome == Outcome.DITERAPKAN.value,
            _R.c.reference == _P.c.reference,
            _P.c.batch_id == batch_id,
            guard,
        )
        .values(
            state=_R.c.status,
            failure_reason=sa.case((is_paid, _P.c.failure_reason), else_=_R.c.reason),
            bank_reference=sa.func.coalesce(_R.c.bank_reference, _P.c.bank_reference),
            settled_on=sa.func.coalesce(_R.c.settled_on, _P.c.settled_on),
            result_import_id=import_id,
            updated_at=at,
        )
    ).rowcount


def apply_to_entitlements(conn: sa.Connection, import_id: int, batch_id: int, at: datetime) -> int:
    """Carry the moved lines over to their entitlements (paid, or failed and retryable), in one guarded UPDATE."""
    guards, states, paid_at = [], [], []
    for line_state in RESULT_STATES:
        target = ENTITLEMENT_EFFECT[line_state]
        hit = _P.c.state == line_state.value
        guards.append(sa.and_(hit, _E.c.state.in_([s.value for s in sources_of(target)])))
        states.append((hit, target.value))
        paid_at.append(
            (
                hit,
                sa.literal(at, type_=_E.c.paid_at.type) if target is EntitlementState.DIBAYAR else sa.null(),
            )
        )
    return conn.execute(
        sa.update(_E)
        .where(
            _P.c.entitlement_id == _E.c.id,
            _P.c.batch_id == batch_id,
            _P.c.result_import_id == import_id,
            sa.or_(*guards),
        )
        .values(state=sa.case(*states), paid_at=sa.case(*paid_at), updated_at=at)
    ).rowcount


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
        .where(
            _R.c.import_id == import_id, _R.c.outcome.notin_([Outcome.DITERAPKAN.value, Outcome.SUDAH.value])
        )
        .order_by(_R.c.row_number)
        .limit(limit)
    )
    return [dict(r) for r in conn.execute(q).mappings()]
