"""A payment line's and an entitlement's state now: what tepat stored, overtaken by the bank's applied results.

A result import writes one thing: the judged rows of the bank's file, in ``payment_result_lines`` (the ledger).
It moves no payment line and no entitlement. So the state of a line is the status of its latest *applied*
ledger row (``diterapkan``), or, when the bank has not reported it, the state tepat stored (``dikirim`` when the
batch was made, ``dibatalkan`` when it was cancelled). An entitlement stored ``diproses`` (in a batch) is what
its latest line's result makes it (``ENTITLEMENT_EFFECT``: paid, or failed and retryable); any other stored state
(``terjadwal``, ``diblokir``, ``dibatalkan``, a service's ``aktif`` …) is its state.

Every reader of a state, a settlement date or a bank reference goes through these expressions; a writer that acts
on a state guards on them, or first folds the results it acts on into the stored columns
(``tepat.store.payments.fold_failed_results``, before a retry). Exactly once stays a database rule twice over:
an entitlement has at most one line on its way or paid (``uq_payments_live_entitlement``: a paid line stays
stored ``dikirim``, so it stays live), and at most one applied payment not returned since
(``uq_payment_result_lines_paid_once``).

``applied_in_batch`` reads the same rule for a whole batch at once (the result import judges a quarter of a million
lines against it; a test holds it equal to the expressions).

Each expression is correlated on the columns it is given (``entitlements.c``, ``payments.c`` or an alias's), and
reads by indexes only: ``ix_payments_entitlement_id`` for an entitlement's latest line, the unique
``uq_payment_result_lines_paid_once`` for its open payment, and the partial ``ix_payment_result_lines_applied``
for a line's other applied rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import polars as pl
import sqlalchemy as sa

from tepat.domain.entitlements import EntitlementState
from tepat.domain.payments import ENTITLEMENT_EFFECT, RESULT_STATES, Outcome, PaymentState
from tepat.store.areas import join_on
from tepat.store.schema import entitlements, payment_result_imports, payment_result_lines, payments

APPLIED = Outcome.DITERAPKAN.value
_PROCESSING = EntitlementState.DIPROSES.value
_PAID = PaymentState.DIBAYAR.value


def _applied(r: Any) -> sa.ColumnElement[bool]:
    # a literal, so that SQLite and PostgreSQL's generic plans see the partial indexes' own condition
    applied: sa.ColumnElement[bool] = r.c.outcome == sa.literal_column(f"'{APPLIED}'")
    return applied


def _open_payment(r: Any, line_id: Any, entitlement_id: Any) -> sa.ColumnElement[bool]:
    """Row ``r`` is the line's applied payment not returned since (by ``uq_payment_result_lines_paid_once``)."""
    return sa.and_(r.c.entitlement_id == entitlement_id, r.c.paid_open.is_(True), r.c.payment_id == line_id)


def _closed(r: Any, line_id: Any) -> sa.ColumnElement[bool]:
    """Row ``r`` is one of the line's other applied rows (by ``ix_payment_result_lines_applied``)."""
    return sa.and_(r.c.payment_id == line_id, _applied(r), r.c.paid_open.is_(None))


def applied(
    line_id: Any, entitlement_id: Any, column: str, *, present: bool = False
) -> sa.ColumnElement[Any]:
    """``column`` of the line's latest applied ledger row (``present``: of the latest one where it is set).

    A line's open payment, when it has one, is its latest applied row (a later one would be its return, which
    closes it); it is found by the entitlement's unique index, every other applied row by the line's index, so
    that each applied row is in exactly one of the two (and the open payments, most rows, in one index only)."""
    o, r = payment_result_lines.alias("open_payment"), payment_result_lines.alias("applied")
    open_q = sa.select(o.c[column]).where(_open_payment(o, line_id, entitlement_id))
    closed_q = sa.select(r.c[column]).where(_closed(r, line_id))
    if present:
        open_q, closed_q = open_q.where(o.c[column].is_not(None)), closed_q.where(r.c[column].is_not(None))
    return sa.func.coalesce(
        open_q.limit(1).correlate_except(o).scalar_subquery(),
        closed_q.order_by(r.c.id.desc()).limit(1).correlate_except(r).scalar_subquery(),
    )


def line_state(p: Any) -> sa.ColumnElement[str]:
    """The line's state: its latest applied result, else what tepat stored."""
    return sa.func.coalesce(applied(p.id, p.entitlement_id, "status"), p.state)


def line_settled_on(p: Any) -> sa.ColumnElement[Any]:
    """The day the bank (or PT Pos) says it paid or returned the line, when it said so."""
    return sa.func.coalesce(applied(p.id, p.entitlement_id, "settled_on", present=True), p.settled_on)


def line_bank_reference(p: Any) -> sa.ColumnElement[Any]:
    return sa.func.coalesce(applied(p.id, p.entitlement_id, "bank_reference", present=True), p.bank_reference)


def line_failure_reason(p: Any) -> sa.ColumnElement[Any]:
    """Why the bank did not pay (or returned) the line; a paid line keeps what tepat stored."""
    r = payment_result_lines.alias("failed")
    reason = (
        sa.select(r.c.reason)
        .where(_closed(r, p.id), r.c.status != _PAID, r.c.reason.is_not(None))
        .order_by(r.c.id.desc())
        .limit(1)
        .correlate_except(r)
        .scalar_subquery()
    )
    return sa.func.coalesce(reason, p.failure_reason)


def line_reported_at(p: Any) -> sa.ColumnElement[Any]:
    """When the latest applied result of the line was imported (``None``: never reported)."""
    i = payment_result_imports.alias("reported_in")
    return (
        sa.select(i.c.started_at)
        .where(i.c.id == applied(p.id, p.entitlement_id, "import_id"))
        .correlate_except(i)
        .scalar_subquery()
    )


def latest_line(e: Any) -> sa.ScalarSelect[Any]:
    """The entitlement's latest payment line (a retry's line comes after the failed one)."""
    p = payments.alias("latest_line")
    return (
        sa.select(p.c.id)
        .where(join_on(p.c.entitlement_id, e.id))
        .order_by(p.c.id.desc())
        .limit(1)
        .correlate_except(p)
        .scalar_subquery()
    )


def entitlement_state(e: Any) -> sa.ColumnElement[str]:
    """The entitlement's state: in a batch (``diproses``), what its latest line's result makes it; else as stored."""
    effect = {line.value: ENTITLEMENT_EFFECT[line].value for line in RESULT_STATES}
    reported = sa.case(effect, value=applied(latest_line(e), e.id, "status"), else_=_PROCESSING)
    return sa.case((e.state == _PROCESSING, reported), else_=e.state)


def entitlement_state_in(e: Any, states: Iterable[str]) -> sa.ColumnElement[bool]:
    """Whether the entitlement's state now is one of ``states``; only an entitlement stored ``diproses`` has its
    latest line looked at, so a guard over many stored states stays as cheap as before."""
    wanted = sorted({str(s) for s in states})
    reported = {_PROCESSING, *(ENTITLEMENT_EFFECT[line].value for line in RESULT_STATES)}
    # equalities, not IN: the guard also runs in executemany UPDATEs, where an expanding IN cannot
    terms: list[sa.ColumnElement[bool]] = [e.state == s for s in wanted if s != _PROCESSING]
    if now := [s for s in wanted if s in reported]:
        state = entitlement_state(e)
        terms.append(sa.and_(e.state == _PROCESSING, sa.or_(*(state == s for s in now))))
    return sa.or_(*terms) if terms else sa.false()


def entitlement_paid_at(e: Any) -> sa.ColumnElement[Any]:
    """When the entitlement was recorded paid: stored, or the import of its latest line's open payment.

    An entitlement in a batch is paid exactly when its latest line has an open payment (a payment's return closes
    it), so the open payment alone answers, without working out the state a second time."""
    o, i = payment_result_lines.alias("paying"), payment_result_imports.alias("paid_in")
    imported = (
        sa.select(i.c.started_at)
        .select_from(o.join(i, i.c.id == o.c.import_id))
        .where(_open_payment(o, latest_line(e), e.id))
        .limit(1)
        .correlate_except(o, i)
        .scalar_subquery()
    )
    return sa.case(
        (e.state == EntitlementState.DIBAYAR.value, sa.func.coalesce(e.paid_at, imported)),
        (e.state == _PROCESSING, imported),
        else_=sa.null(),
    )


def entitlement_columns() -> list[sa.ColumnElement[Any]]:
    """Every column of ``entitlements``, with ``state`` and ``paid_at`` as they are now."""
    e = entitlements.c
    now = {"state": entitlement_state(e), "paid_at": entitlement_paid_at(e)}
    return [now[c.name].label(c.name) if c.name in now else c for c in entitlements.c]


def applied_in_batch(conn: sa.Connection, batch_id: int) -> pl.DataFrame:
    """Per line of the batch that the bank has reported: the status and bank reference of its latest applied
    ledger rows (``payment_id``, ``status``, ``bank_reference``), as ``line_state`` and ``line_bank_reference``
    read them one line at a time."""
    r, i = payment_result_lines.c, payment_result_imports.c
    rows = conn.execute(
        sa.select(r.payment_id, r.status, r.bank_reference)
        .select_from(payment_result_lines.join(payment_result_imports, i.id == r.import_id))
        .where(i.batch_id == batch_id, _applied(payment_result_lines))
        .order_by(r.id)
    ).all()
    frame = pl.DataFrame(
        rows, schema={"payment_id": pl.Int64, "status": pl.String, "bank_reference": pl.String}, orient="row"
    )
    return frame.group_by("payment_id", maintain_order=True).agg(
        pl.col("status").last(), pl.col("bank_reference").drop_nulls().last()
    )
