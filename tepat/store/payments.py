"""Payment batches and their lines: set-based SQL on SQLite and PostgreSQL (result imports are
``tepat.store.payment_results``).

Every money-changing statement is a guarded UPDATE (``WHERE state IN …``) or an
INSERT … SELECT, so that whatever runs twice finds nothing left to change. The
allowed states come from ``tepat.domain.entitlements`` and ``tepat.domain.payments``;
states after the bank's results are read through ``tepat.store.payment_states``.
Functions take a connection and never commit: the service owns the transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from tepat.domain.cycles import CycleState
from tepat.domain.entitlements import EntitlementState, sources_of
from tepat.domain.payments import (
    ENTITLEMENT_EFFECT,
    RESULT_STATES,
    Batch,
    Channel,
    PaymentState,
)
from tepat.store.areas import join_on
from tepat.store.cycles import with_programme
from tepat.store.engine import is_sqlite
from tepat.store.payment_states import (
    applied,
    entitlement_columns,
    entitlement_state,
    entitlement_state_in,
    line_bank_reference,
    line_failure_reason,
    line_settled_on,
    line_state,
)
from tepat.store.schema import (
    benefit_cycles,
    entitlements,
    payment_batch_totals,
    payment_batches,
    payments,
    regions,
)

_E, _P, _B, _T = entitlements, payments, payment_batches, payment_batch_totals


def _locked(conn: sa.Connection, query: sa.Select[Any]) -> sa.Select[Any]:
    # SQLite serialises writers with BEGIN IMMEDIATE; PostgreSQL needs the row lock.
    return query if is_sqlite(conn) else query.with_for_update()


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
    row = conn.execute(with_programme().where(benefit_cycles.c.id == cycle_id)).mappings().first()
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
        .where(join_on(_P.c.entitlement_id, _E.c.id))
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
        _E.c.office_code,
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
        "office_code",
    ]
    conn.execute(sa.insert(_P).from_select(columns, select.order_by(_E.c.id)))
    recount_totals(conn, batch_id, fresh=True)
    return line_totals(conn, batch_id)[0]  # rowcount of INSERT … SELECT is not reported by every driver


def fold_failed_results(conn: sa.Connection, cycle_id: int, at: datetime) -> int:
    """Write the bank's failures and returns of the cycle's lines into their stored states, before a retry.

    A result import moves no row (``tepat.store.payment_states``): a failed line stays stored ``dikirim`` and
    its entitlement ``diproses``. A retry needs them stored as they are now (the entitlement ``gagal`` to be
    chosen, the line no longer live so that a new line may exist); what they read as does not change.
    Returns how many entitlements became retryable.
    """
    failed = [s.value for s in RESULT_STATES if ENTITLEMENT_EFFECT[s] is EntitlementState.GAGAL]
    retryable = conn.execute(
        sa.update(_E)
        .where(
            _E.c.cycle_id == cycle_id,
            _E.c.state == EntitlementState.DIPROSES.value,
            entitlement_state(_E.c) == EntitlementState.GAGAL.value,
        )
        .values(state=EntitlementState.GAGAL.value, updated_at=at)
    ).rowcount
    conn.execute(
        sa.update(_P)
        .where(
            _P.c.batch_id.in_(sa.select(_B.c.id).where(_B.c.cycle_id == cycle_id)),
            _P.c.state == PaymentState.DIKIRIM.value,
            applied(_P.c.id, _P.c.entitlement_id, "status").in_(failed),
        )
        .values(
            state=applied(_P.c.id, _P.c.entitlement_id, "status"),
            failure_reason=line_failure_reason(_P.c),
            bank_reference=line_bank_reference(_P.c),
            settled_on=line_settled_on(_P.c),
            updated_at=at,
        )
    )
    return retryable


def recount_totals(conn: sa.Connection, batch_id: int, *, fresh: bool = False) -> None:
    """Count the batch's lines per kelurahan and state again into ``payment_batch_totals`` (``fresh``: a batch
    just made, whose lines no result has reached, counted by their stored state)."""
    state = _P.c.state if fresh else line_state(_P.c)
    conn.execute(sa.delete(_T).where(_T.c.batch_id == batch_id))
    conn.execute(
        sa.insert(_T).from_select(
            ["batch_id", "kelurahan_code", "state", "lines", "amount"],
            sa.select(
                _P.c.batch_id,
                _P.c.kelurahan_code,
                state,
                sa.func.count(),
                sa.func.coalesce(sa.func.sum(_P.c.amount), 0),
            )
            .where(_P.c.batch_id == batch_id)
            .group_by(_P.c.batch_id, _P.c.kelurahan_code, state),
        )
    )


def replace_totals(conn: sa.Connection, batch_id: int, rows: Iterable[tuple[str, str, int, int]]) -> None:
    """The batch's totals as (kelurahan, state, lines, amount), counted by the caller (the result import)."""
    conn.execute(sa.delete(_T).where(_T.c.batch_id == batch_id))
    values = [
        {"batch_id": batch_id, "kelurahan_code": k, "state": s, "lines": n, "amount": a}
        for k, s, n, a in rows
    ]
    if values:
        conn.execute(sa.insert(_T), values)


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
    """Lines of the batch and their sum, in every state."""
    count, total = conn.execute(
        sa.select(
            sa.func.coalesce(sa.func.sum(_T.c.lines), 0), sa.func.coalesce(sa.func.sum(_T.c.amount), 0)
        ).where(_T.c.batch_id == batch_id)
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


def cancel_lines(conn: sa.Connection, batch_id: int, reason: str, at: datetime) -> tuple[int, int]:
    """A cancelled batch: entitlements of its lines still ``dikirim`` → ``gagal``, those lines → ``dibatalkan``."""
    target = ENTITLEMENT_EFFECT[PaymentState.DIBATALKAN]
    sending = sa.select(_P.c.entitlement_id).where(
        _P.c.batch_id == batch_id, line_state(_P.c) == PaymentState.DIKIRIM.value
    )
    ents = conn.execute(
        sa.update(_E)
        .where(_E.c.id.in_(sending), entitlement_state_in(_E.c, [s.value for s in sources_of(target)]))
        .values(state=target.value, updated_at=at)
    ).rowcount
    lines = conn.execute(
        sa.update(_P)
        .where(_P.c.batch_id == batch_id, line_state(_P.c) == PaymentState.DIKIRIM.value)
        .values(state=PaymentState.DIBATALKAN.value, cancel_reason=reason, updated_at=at)
    ).rowcount
    recount_totals(conn, batch_id)
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
            line_state(_P.c).label("state"),
            line_failure_reason(_P.c).label("failure_reason"),
            _P.c.kelurahan_code,
            _P.c.attempt,
            entitlement_state(_E.c).label("entitlement_state"),
        )
        .join(_E, _E.c.id == _P.c.entitlement_id)
        .where(_P.c.batch_id == batch_id, line_state(_P.c).in_([s.value for s in states]))
        .order_by(_P.c.id)
        .limit(limit)
    )
    return [dict(r) for r in conn.execute(q).mappings()]


def state_counts(conn: sa.Connection, batch_id: int) -> dict[str, int]:
    rows = conn.execute(
        sa.select(_T.c.state, sa.func.sum(_T.c.lines)).where(_T.c.batch_id == batch_id).group_by(_T.c.state)
    )
    return {str(k): int(v) for k, v in rows}


def entitlement(conn: sa.Connection, entitlement_id: int) -> dict[str, Any] | None:
    """The entitlement as it is now (its state after the bank's results)."""
    row = conn.execute(sa.select(*entitlement_columns()).where(_E.c.id == entitlement_id)).mappings().first()
    return dict(row) if row else None


def cancel_entitlement(conn: sa.Connection, entitlement_id: int, reason: str, at: datetime) -> int:
    target = EntitlementState.DIBATALKAN
    return conn.execute(
        sa.update(_E)
        .where(_E.c.id == entitlement_id, entitlement_state_in(_E.c, [s.value for s in sources_of(target)]))
        .values(state=target.value, cancel_reason=reason, updated_at=at)
    ).rowcount
