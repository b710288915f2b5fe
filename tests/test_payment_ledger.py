"""The payments ledger (issue 18, the result import restated): an import writes only the judged rows; lines and
entitlements read their state from them; at most once stays a database rule; the batch's totals are kept."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

from tepat.domain.access import Actor
from tepat.errors import ConflictError
from tepat.services import payments, reconciliation
from tepat.store import payment_results
from tepat.store.database import Database
from tepat.store.payment_states import (
    applied_in_batch,
    entitlement_columns,
    entitlement_state,
    line_bank_reference,
    line_state,
)
from tepat.store.schema import (
    entitlements,
    payment_batch_totals,
    payment_result_imports,
    payment_result_lines,
)
from tepat.store.schema import payments as lines_t
from tests.payment_support import FINANCE, all_paid, exported_batch, paying_cycle, result_file


def _stored(db: Database) -> list[tuple[object, ...]]:
    """Every stored column of every line and entitlement (what an import must not touch)."""
    with db.read() as conn:
        return [
            *conn.execute(sa.select(lines_t).order_by(lines_t.c.id)).all(),
            *conn.execute(sa.select(entitlements).order_by(entitlements.c.id)).all(),
        ]


def _totals(db: Database, batch_id: int) -> dict[tuple[str, str], tuple[int, int]]:
    with db.read() as conn:
        kept = {
            (k, s): (n, a)
            for k, s, n, a in conn.execute(
                sa.select(
                    payment_batch_totals.c.kelurahan_code,
                    payment_batch_totals.c.state,
                    payment_batch_totals.c.lines,
                    payment_batch_totals.c.amount,
                ).where(payment_batch_totals.c.batch_id == batch_id)
            )
        }
        state = line_state(lines_t.c)
        counted = {
            (k, s): (n, a)
            for k, s, n, a in conn.execute(
                sa.select(lines_t.c.kelurahan_code, state, sa.func.count(), sa.func.sum(lines_t.c.amount))
                .where(lines_t.c.batch_id == batch_id)
                .group_by(lines_t.c.kelurahan_code, state)
            )
        }
    assert kept == counted  # the totals are the lines, counted now
    return kept


def _paid_batch(
    db: Database, admin: Actor, tmp_path: Path, *, here: int, there: int = 0, paid: int | None = None
) -> tuple[int, int, list[list[str]]]:
    """An exported batch of a new cycle whose first ``paid`` lines (all: ``None``) the bank reported paid."""
    cycle = paying_cycle(db, admin, here=here, there=there)
    batch_id, rows = exported_batch(db, tmp_path, cycle)
    payments.import_results(db, FINANCE, batch_id, result_file(tmp_path, all_paid(rows[:paid])))
    return cycle, batch_id, rows


def test_an_import_writes_the_ledger_and_moves_no_line_or_entitlement(
    db: Database, admin, tmp_path: Path
) -> None:
    cycle = paying_cycle(db, admin, here=3, there=1)
    batch_id, rows = exported_batch(db, tmp_path, cycle)
    before = _stored(db)
    results = all_paid(rows[:2]) + [(rows[2][0], rows[2][1], rows[2][-1], "GAGAL", "Rekening tidak aktif")]
    summary = payments.import_results(db, FINANCE, batch_id, result_file(tmp_path, results))
    assert summary.applied == 3
    assert _stored(db) == before  # nothing but the ledger (and the batch's totals) was written
    with db.read() as conn:
        states = sorted(conn.execute(sa.select(entitlement_state(entitlements.c))).scalars())
        paid = conn.execute(
            sa.select(sa.func.count()).where(payment_result_lines.c.paid_open.is_(True))
        ).scalar_one()
    assert states == ["dibayar", "dibayar", "diproses", "gagal"] and paid == 2
    assert sum(n for (_, state), (n, _) in _totals(db, batch_id).items() if state == "dibayar") == 2


def test_the_database_refuses_a_second_payment_of_an_entitlement_written_by_hand(
    db: Database, admin, tmp_path: Path
) -> None:
    _paid_batch(db, admin, tmp_path, here=1)
    with db.read() as conn:
        paid = dict(
            conn.execute(sa.select(payment_result_lines).where(payment_result_lines.c.paid_open.is_(True)))
            .mappings()
            .one()
        )
    second = {**{k: v for k, v in paid.items() if k != "id"}, "row_number": 99, "bank_reference": "TRX-LAGI"}
    with pytest.raises(sa.exc.IntegrityError), db.begin() as conn:
        conn.execute(sa.insert(payment_result_lines).values(**second))
    # a payment no longer open (returned) lets the same entitlement be paid by a retry
    with db.begin() as conn:
        conn.execute(
            sa.update(payment_result_lines)
            .where(payment_result_lines.c.id == paid["id"])
            .values(paid_open=None)
        )
        conn.execute(sa.insert(payment_result_lines).values(**second))


def test_the_same_file_is_applied_to_a_batch_once_by_database_rule(
    db: Database, admin, tmp_path: Path
) -> None:
    _paid_batch(db, admin, tmp_path, here=1)
    with db.read() as conn:
        done = dict(conn.execute(sa.select(payment_result_imports)).mappings().one())
    with pytest.raises(sa.exc.IntegrityError), db.begin() as conn:
        conn.execute(sa.insert(payment_result_imports).values(**{k: v for k, v in done.items() if k != "id"}))


def test_a_file_that_would_pay_an_entitlement_twice_is_refused_whole(
    db: Database, admin, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Even if the judging went wrong, the ledger's index stops the second payment and nothing is applied."""
    _, batch_id, rows = _paid_batch(db, admin, tmp_path, here=2, paid=1)
    blind = payment_results.our_lines

    def forgetful(
        conn: sa.Connection, batch: int
    ) -> pl.DataFrame:  # every line as if the bank never answered
        return blind(conn, batch).with_columns(our_state=pl.lit("dikirim"), our_bank_reference=pl.lit(None))

    monkeypatch.setattr(payment_results, "our_lines", forgetful)
    again = [(r[0], r[1], r[-1], "SUKSES", "", f"LAGI{i}", "2025-07-16") for i, r in enumerate(rows)]
    with pytest.raises(ConflictError, match="pembayaran kedua"):
        payments.import_results(db, FINANCE, batch_id, result_file(tmp_path, again, name="lagi.csv"))
    with db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(payment_result_lines)).scalar_one() == 1
        assert conn.execute(sa.select(sa.func.count()).select_from(payment_result_imports)).scalar_one() == 1


def test_paid_returned_retried_and_paid_again_keeps_one_open_payment_and_true_totals(
    db: Database, admin, tmp_path: Path
) -> None:
    cycle, batch_id, rows = _paid_batch(db, admin, tmp_path, here=3, there=1)
    returned = [(rows[0][0], rows[0][1], rows[0][-1], "RETUR", "Dana dikembalikan", "", "2025-07-20")]
    payments.import_results(db, FINANCE, batch_id, result_file(tmp_path, returned, name="retur.csv"))
    assert _totals(db, batch_id)[(_kelurahan_of(db, rows[0][0]), "dikembalikan")][0] == 1
    retry_id, retry_rows = exported_batch(db, tmp_path, cycle, retry=True, channel="pos")
    assert len(retry_rows) == 1 and retry_rows[0][1] == rows[0][1]
    payments.import_results(
        db, FINANCE, retry_id, result_file(tmp_path, all_paid(retry_rows), name="ulang.csv")
    )
    with db.read() as conn:
        open_paid = conn.execute(
            sa.select(payment_result_lines.c.entitlement_id).where(payment_result_lines.c.paid_open.is_(True))
        ).scalars()
        assert sorted(open_paid) == sorted(
            conn.execute(sa.select(entitlements.c.id).where(entitlements.c.cycle_id == cycle)).scalars()
        )
        states = set(conn.execute(sa.select(entitlement_state(entitlements.c))).scalars())
    assert states == {"dibayar"}
    report = reconciliation.reconcile(db, FINANCE, cycle_id=cycle)
    assert report.entitlements and report.entitlements["paid_twice"] == 0
    assert report.total["dibayar_count"] == 4 and report.total["dikembalikan_count"] == 1
    _totals(db, retry_id)


def test_cancelled_lines_leave_the_paid_ones_and_the_totals_follow(
    db: Database, admin, tmp_path: Path
) -> None:
    _, batch_id, _ = _paid_batch(db, admin, tmp_path, here=3, paid=1)
    payments.cancel_batch(db, FINANCE, batch_id, "Berkas tidak sampai ke bank")
    with db.read() as conn:
        states = sorted(conn.execute(sa.select(line_state(lines_t.c))).scalars())
        ents = sorted(conn.execute(sa.select(entitlement_state(entitlements.c))).scalars())
    assert states == ["dibatalkan", "dibatalkan", "dibayar"] and ents == ["dibayar", "gagal", "gagal"]
    assert {state for _, state in _totals(db, batch_id)} == {"dibatalkan", "dibayar"}


def test_a_whole_batch_read_of_states_equals_the_per_line_rule(db: Database, admin, tmp_path: Path) -> None:
    cycle = paying_cycle(db, admin, here=4, there=0)
    batch_id, rows = exported_batch(db, tmp_path, cycle)
    first = all_paid(rows[:3]) + [(rows[3][0], rows[3][1], rows[3][-1], "GAGAL", "Rekening ditutup")]
    payments.import_results(db, FINANCE, batch_id, result_file(tmp_path, first))
    late = [(rows[1][0], rows[1][1], rows[1][-1], "RETUR", "", "", "2025-07-21")]
    payments.import_results(db, FINANCE, batch_id, result_file(tmp_path, late, name="retur.csv"))
    with db.read() as conn:
        whole = payment_results.our_lines(conn, batch_id)
        one_by_one = dict(
            conn.execute(
                sa.select(
                    lines_t.c.id,
                    sa.func.coalesce(line_state(lines_t.c), "")
                    + "|"
                    + sa.func.coalesce(line_bank_reference(lines_t.c), ""),
                ).where(lines_t.c.batch_id == batch_id)
            ).all()
        )
        assert not applied_in_batch(conn, batch_id).is_empty()
    read = {
        pid: f"{state}|{ref or ''}"
        for pid, state, ref in whole.select("payment_id", "our_state", "our_bank_reference").iter_rows()
    }
    assert read == one_by_one
    assert sorted(s.split("|")[0] for s in read.values()) == ["dibayar", "dibayar", "dikembalikan", "gagal"]


def _kelurahan_of(db: Database, reference: str) -> str:
    with db.read() as conn:
        return str(
            conn.execute(
                sa.select(lines_t.c.kelurahan_code).where(lines_t.c.reference == reference)
            ).scalar_one()
        )


def test_paid_at_follows_the_state_through_payment_return_and_retry(
    db: Database, admin, tmp_path: Path
) -> None:
    cycle, batch_id, rows = _paid_batch(db, admin, tmp_path, here=2)

    def paid_at() -> dict[str, tuple[str, bool]]:
        with db.read() as conn:
            found = conn.execute(
                sa.select(*entitlement_columns()).where(entitlements.c.cycle_id == cycle)
            ).mappings()
            return {r["recipient_nik"]: (r["state"], r["paid_at"] is not None) for r in found}

    first, second = rows[0][1], rows[1][1]
    assert paid_at() == {first: ("dibayar", True), second: ("dibayar", True)}
    returned = [(rows[0][0], first, rows[0][-1], "RETUR", "Dana dikembalikan", "", "2025-07-20")]
    payments.import_results(db, FINANCE, batch_id, result_file(tmp_path, returned, name="retur.csv"))
    assert paid_at() == {first: ("gagal", False), second: ("dibayar", True)}
    retry_id, retry_rows = exported_batch(db, tmp_path, cycle, retry=True)
    assert paid_at()[first] == ("diproses", False)
    payments.import_results(
        db, FINANCE, retry_id, result_file(tmp_path, all_paid(retry_rows), name="ulang.csv")
    )
    assert paid_at() == {first: ("dibayar", True), second: ("dibayar", True)}


def test_reconciliation_finds_each_mismatch_line_by_its_reference_key(
    db: Database, admin, tmp_path: Path, is_postgres: bool
) -> None:
    """The mismatch list looks each ledger row's line up by (reference, office), the lines' unique key: one index
    probe a row. Joined on the reference alone, SQLite walked the batch's lines for every mismatch (250,000 lines:
    8.8 s where 0.07 s is due, bench/payment_results.py)."""
    if is_postgres:
        pytest.skip("the plan checked is SQLite's (PostgreSQL chose the key either way)")
    from tepat.store import reconciliation as store

    cycle = paying_cycle(db, admin, here=3, there=1)
    batch_id, _ = exported_batch(db, tmp_path, cycle)
    seen: list[tuple[str, object]] = []

    def keep(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        seen.append((statement, parameters))

    sa.event.listen(db.engine, "before_cursor_execute", keep)
    try:
        with db.read() as conn:
            store.mismatches(conn, batch_id=batch_id)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", keep)
    statement, parameters = next((q, p) for q, p in seen if "payment_result_lines" in q)
    with db.read() as conn:
        plan = " ".join(
            str(r[-1]) for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
        )
    assert "SEARCH ours USING INDEX" in plan and "(reference=? AND office_code=?)" in plan, plan
