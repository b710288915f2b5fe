"""Payment batches, lines and result imports: set-based SQL on SQLite and PostgreSQL.

Every money-changing statement is a guarded UPDATE (``WHERE state IN …``) or an
INSERT … SELECT, so that whatever runs twice finds nothing left to change. The
allowed states come from ``tepat.domain.entitlements`` and ``tepat.domain.payments``.
Functions take a connection and never commit: the service owns the transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

import polars as pl
import sqlalchemy as sa

from tepat.domain.cycles import CycleState
from tepat.domain.entitlements import EntitlementState, sources_of
from tepat.domain.payments import (
    ENTITLEMENT_EFFECT,
    RESULT_STATES,
    TRANSITIONS,
    Batch,
    Channel,
    Outcome,
    PaymentState,
    ResultImportStatus,
    payment_sources_of,
)
from tepat.store.bulk import insert_frame
from tepat.store.engine import is_sqlite
from tepat.store.schema import (
    benefit_cycles,
    entitlements,
    payment_batches,
    payment_result_imports,
    payment_result_lines,
    payments,
    programmes,
    regions,
)

_E, _P, _B, _R, _I = entitlements, payments, payment_batches, payment_result_lines, payment_result_imports


def _locked(conn: sa.Connection, query: sa.Select[Any]) -> sa.Select[Any]:
    # SQLite serialises writers with BEGIN IMMEDIATE; PostgreSQL needs the row lock.
    return query if is_sqlite(conn) else query.with_for_update()


def refresh_statistics(conn: sa.Connection, *tables: str) -> None:
    """PostgreSQL plans a join of freshly written rows as if the table were empty (nested loops over
    100,000 rows take minutes) until it is analysed; autovacuum is too late inside one transaction."""
    if not is_sqlite(conn):
        for table in tables:
            conn.exec_driver_sql(f"ANALYZE {table}")


def tune_for_whole_batches(conn: sa.Connection) -> None:
    """For this transaction on PostgreSQL: hash a whole batch in memory (the default 4 MB splits a
    250,000-line join into 32 passes through temporary files) and skip JIT compilation (0.5 s per
    statement, which then runs no faster)."""
    if not is_sqlite(conn):
        conn.exec_driver_sql("SET LOCAL work_mem = '64MB'")
        conn.exec_driver_sql("SET LOCAL jit = off")


def lock_cycle(conn: sa.Connection, cycle_id: int) -> dict[str, Any] | None:
    row = (
        conn.execute(_locked(conn, sa.select(benefit_cycles).where(benefit_cycles.c.id == cycle_id)))
        .mappings()
        .first()
    )
    return dict(row) if row else None


def cycle(conn: sa.Connection, cycle_id: int) -> dict[str, Any] | None:
    q = (
        sa.select(
            benefit_cycles,
            programmes.c.code.label("programme_code"),
            programmes.c.name.label("programme_name"),
        )
        .join(programmes, programmes.c.id == benefit_cycles.c.programme_id)
        .where(benefit_cycles.c.id == cycle_id)
    )
    row = conn.execute(q).mappings().first()
    return dict(row) if row else None


def cycles_in_states(conn: sa.Connection, states: Iterable[str]) -> list[dict[str, Any]]:
    q = (
        sa.select(
            benefit_cycles.c.id, benefit_cycles.c.name, benefit_cycles.c.state, benefit_cycles.c.area_code
        )
        .where(benefit_cycles.c.state.in_(sorted(states)))
        .order_by(benefit_cycles.c.id.desc())
    )
    return [dict(r) for r in conn.execute(q).mappings()]


_WITH_CYCLE_AREA = sa.select(_B, benefit_cycles.c.area_code.label("cycle_area_code")).join(
    benefit_cycles, benefit_cycles.c.id == _B.c.cycle_id
)


def lock_batch(conn: sa.Connection, batch_id: int) -> Batch | None:
    query = _WITH_CYCLE_AREA.where(_B.c.id == batch_id)
    if not is_sqlite(conn):
        query = query.with_for_update(of=_B)
    row = conn.execute(query).mappings().first()
    return Batch.from_row(row) if row else None


def batch(conn: sa.Connection, batch_id: int) -> Batch | None:
    row = conn.execute(_WITH_CYCLE_AREA.where(_B.c.id == batch_id)).mappings().first()
    return Batch.from_row(row) if row else None


def batches(conn: sa.Connection, cycle_id: int | None = None) -> list[Batch]:
    q = (
        sa.select(
            _B, benefit_cycles.c.name.label("cycle_name"), benefit_cycles.c.area_code.label("cycle_area_code")
        )
        .join(benefit_cycles, benefit_cycles.c.id == _B.c.cycle_id)
        .order_by(_B.c.id.desc())
    )
    if cycle_id is not None:
        q = q.where(_B.c.cycle_id == cycle_id)
    return [Batch.from_row(r) for r in conn.execute(q).mappings()]


def count_batches(conn: sa.Connection, cycle_id: int) -> int:
    return int(conn.execute(sa.select(sa.func.count()).where(_B.c.cycle_id == cycle_id)).scalar_one())


def insert_batch(conn: sa.Connection, values: dict[str, Any]) -> int:
    return int(conn.execute(sa.insert(_B).values(**values).returning(_B.c.id)).scalar_one())


def update_batch(conn: sa.Connection, batch_id: int, **values: Any) -> None:
    conn.execute(sa.update(_B).where(_B.c.id == batch_id).values(version=_B.c.version + 1, **values))


def set_cycle_paying(conn: sa.Connection, cycle_id: int) -> int:
    """``disetujui`` → ``pembayaran`` (guarded: a cycle already paying stays as it is)."""
    return conn.execute(
        sa.update(benefit_cycles)
        .where(benefit_cycles.c.id == cycle_id, benefit_cycles.c.state == CycleState.DISETUJUI.value)
        .values(state=CycleState.PEMBAYARAN.value, version=benefit_cycles.c.version + 1)
    ).rowcount


def insert_lines(
    conn: sa.Connection,
    batch_id: int,
    cycle_id: int,
    sources: Iterable[EntitlementState],
    kelurahan_code: str | None,
    at: datetime,
) -> int:
    """One line per payable entitlement, in one INSERT … SELECT (attempt = previous attempts + 1).

    An entitlement still ``terjadwal`` has never been in a batch (no state leads back to it), so its
    attempt is 1 without looking: the lookup of earlier lines runs only for retries.
    """
    earlier = (
        sa.select(sa.func.coalesce(sa.func.max(_P.c.attempt), 0))
        .where(_P.c.entitlement_id == _E.c.id)
        .scalar_subquery()
    )
    attempt = sa.case((_E.c.state == EntitlementState.TERJADWAL.value, 1), else_=earlier + 1)
    reference = sa.literal("P") + sa.cast(sa.literal(batch_id), sa.String) + "-" + sa.cast(_E.c.id, sa.String)
    select = sa.select(
        sa.literal(batch_id),
        _E.c.id,
        attempt,
        reference,
        _E.c.amount,
        _E.c.recipient_nik,
        _E.c.recipient_name,
        _E.c.kelurahan_code,
        sa.literal(PaymentState.DIKIRIM.value),
        sa.literal(at, type_=_P.c.updated_at.type),
    ).where(_E.c.cycle_id == cycle_id, _E.c.state.in_([s.value for s in sources]), _E.c.amount > 0)
    if kelurahan_code:
        select = select.where(_E.c.kelurahan_code == kelurahan_code)
    columns = [
        "batch_id",
        "entitlement_id",
        "attempt",
        "reference",
        "amount",
        "recipient_nik",
        "recipient_name",
        "kelurahan_code",
        "state",
        "updated_at",
    ]
    conn.execute(sa.insert(_P).from_select(columns, select.order_by(_E.c.id)))
    return line_totals(conn, batch_id)[0]  # rowcount of INSERT … SELECT is not reported by every driver


def entitlements_to_processing(conn: sa.Connection, batch_id: int, at: datetime) -> int:
    """The batch's entitlements → ``diproses`` (guarded by the domain's allowed sources)."""
    in_batch = sa.select(_P.c.entitlement_id).where(_P.c.batch_id == batch_id)
    return conn.execute(
        sa.update(_E)
        .where(
            _E.c.id.in_(in_batch), _E.c.state.in_([s.value for s in sources_of(EntitlementState.DIPROSES)])
        )
        .values(state=EntitlementState.DIPROSES.value, updated_at=at)
    ).rowcount


def line_totals(conn: sa.Connection, batch_id: int) -> tuple[int, int]:
    count, total = conn.execute(
        sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(_P.c.amount), 0)).where(
            _P.c.batch_id == batch_id
        )
    ).one()
    return int(count), int(total)


def export_rows(conn: sa.Connection, batch_id: int, channel: Channel) -> Iterator[tuple[Any, ...]]:
    """The payment file's rows in reference order (stable, so a re-export is identical)."""
    kel = regions.alias("kel")
    if channel is Channel.BANK:
        cols: list[Any] = [
            _P.c.reference,
            _P.c.recipient_nik,
            _P.c.recipient_name,
            sa.literal(""),
            _P.c.amount,
        ]
    elif channel is Channel.POS:
        cols = [
            _P.c.reference,
            _P.c.recipient_nik,
            _P.c.recipient_name,
            _E.c.address,
            kel.c.name,
            _P.c.amount,
        ]
    else:
        cols = [_P.c.reference, _P.c.recipient_nik, _P.c.recipient_name, _P.c.amount]
    q = (
        sa.select(*cols)
        .select_from(
            _P.join(_E, _E.c.id == _P.c.entitlement_id).outerjoin(kel, kel.c.code == _P.c.kelurahan_code)
        )
        .where(_P.c.batch_id == batch_id, _P.c.state != PaymentState.DIBATALKAN.value)
        .order_by(_P.c.id)
    )
    result = conn.execute(
        q.execution_options(yield_per=10_000)
    )  # per statement: the connection stays as it is
    for row in result:
        yield tuple(row)


# ---------------------------------------------------------------- result imports


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


def lines_in_state(conn: sa.Connection, batch_id: int, state: PaymentState) -> int:
    return int(
        conn.execute(
            sa.select(sa.func.count()).where(_P.c.batch_id == batch_id, _P.c.state == state.value)
        ).scalar_one()
    )


def cancel_lines(conn: sa.Connection, batch_id: int, reason: str, at: datetime) -> tuple[int, int]:
    """A cancelled batch: entitlements of its lines still ``dikirim`` → ``gagal``, those lines → ``dibatalkan``."""
    target = ENTITLEMENT_EFFECT[PaymentState.DIBATALKAN]
    sending = sa.select(_P.c.entitlement_id).where(
        _P.c.batch_id == batch_id, _P.c.state == PaymentState.DIKIRIM.value
    )
    ents = conn.execute(
        sa.update(_E)
        .where(_E.c.id.in_(sending), _E.c.state.in_([s.value for s in sources_of(target)]))
        .values(state=target.value, updated_at=at)
    ).rowcount
    lines = conn.execute(
        sa.update(_P)
        .where(_P.c.batch_id == batch_id, _P.c.state == PaymentState.DIKIRIM.value)
        .values(state=PaymentState.DIBATALKAN.value, cancel_reason=reason, updated_at=at)
    ).rowcount
    return lines, ents


def lines(
    conn: sa.Connection, batch_id: int, states: Iterable[PaymentState], limit: int = 200
) -> list[dict[str, Any]]:
    """Lines of the batch in ``states`` with their entitlement's state (for the retry and cancel forms)."""
    q = (
        sa.select(
            _P.c.id,
            _P.c.reference,
            _P.c.entitlement_id,
            _P.c.recipient_name,
            _P.c.recipient_nik,
            _P.c.amount,
            _P.c.state,
            _P.c.failure_reason,
            _P.c.kelurahan_code,
            _P.c.attempt,
            _E.c.state.label("entitlement_state"),
        )
        .join(_E, _E.c.id == _P.c.entitlement_id)
        .where(_P.c.batch_id == batch_id, _P.c.state.in_([s.value for s in states]))
        .order_by(_P.c.id)
        .limit(limit)
    )
    return [dict(r) for r in conn.execute(q).mappings()]


def state_counts(conn: sa.Connection, batch_id: int) -> dict[str, int]:
    rows = conn.execute(
        sa.select(_P.c.state, sa.func.count()).where(_P.c.batch_id == batch_id).group_by(_P.c.state)
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
        .where(
            _R.c.import_id == import_id, _R.c.outcome.notin_([Outcome.DITERAPKAN.value, Outcome.SUDAH.value])
        )
        .order_by(_R.c.row_number)
        .limit(limit)
    )
    return [dict(r) for r in conn.execute(q).mappings()]


def entitlement(conn: sa.Connection, entitlement_id: int) -> dict[str, Any] | None:
    row = conn.execute(sa.select(_E).where(_E.c.id == entitlement_id)).mappings().first()
    return dict(row) if row else None


def cancel_entitlement(conn: sa.Connection, entitlement_id: int, reason: str, at: datetime) -> int:
    target = EntitlementState.DIBATALKAN
    return conn.execute(
        sa.update(_E)
        .where(_E.c.id == entitlement_id, _E.c.state.in_([s.value for s in sources_of(target)]))
        .values(state=target.value, cancel_reason=reason, updated_at=at)
    ).rowcount
