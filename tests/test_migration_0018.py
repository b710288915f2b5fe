"""Migration 0018 (the payments ledger) on a database whose imports moved lines and entitlements the old way: the
ledger learns each row's line and entitlement, the open payments and the batch's totals, states read as before,
and a second payment is refused; the downgrade writes states read from the ledger back into the stored columns."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tepat.store.payment_states import entitlement_state, line_state
from tepat.store.schema import entitlements, payments
from tests.migration_support import migrate

AT = "2025-07-01"
KEL = "32.75.01.1001"


def _paid_failed_and_waiting(engine: sa.Engine) -> None:
    """Three entitlements as the old import left them: paid, failed, and still on its way."""
    with engine.begin() as c:
        c.exec_driver_sql(
            "INSERT INTO programmes (id, code, name, unit, benefit_type, funding_source, frequency, amount, "
            "budget_year, rule, exclusions, active, version, created_by, created_at, updated_by, updated_at) VALUES "
            "(1, 'BLT', 'BLT', 'keluarga', 'tunai', 'APBD', 'sekali', 250000, 2025, 'true', '[]', true, 1, 'a', "
            f"'{AT}', 'a', '{AT}')"
        )
        c.exec_driver_sql(
            "INSERT INTO benefit_cycles (id, programme_id, name, period_start, period_end, reference_date, state, "
            f"programme_snapshot, version, created_by, created_at, area_code) VALUES (1, 1, 'Juli', '{AT}', "
            f"'2025-07-31', '{AT}', 'pembayaran', '{{}}', 1, 'a', '{AT}', '32.75')"
        )
        for ent, state in ((1, "dibayar"), (2, "gagal"), (3, "diproses")):
            c.exec_driver_sql(
                "INSERT INTO entitlements (id, cycle_id, unit_key, family_id, kk_number, kelurahan_code, "
                f"kecamatan_code, rw, rt, amount, source, state) VALUES ({ent}, 1, {ent}, {ent}, "
                f"'3275010101250001', '{KEL}', '32.75.01', 1, 1, 250000, 'aturan', '{state}')"
            )
        c.exec_driver_sql(
            "INSERT INTO payment_batches (id, cycle_id, number, channel, state, control_count, control_total, "
            f"version, created_by, created_at) VALUES (1, 1, 'B-1', 'bank', 'diekspor', 3, 750000, 1, 'a', '{AT}')"
        )
        for ent, state in ((1, "dibayar"), (2, "gagal"), (3, "dikirim")):
            c.exec_driver_sql(
                "INSERT INTO payments (id, batch_id, entitlement_id, attempt, reference, amount, kelurahan_code, "
                f"state) VALUES ({ent}, 1, {ent}, 1, 'R{ent}', 250000, '{KEL}', '{state}')"
            )
        c.exec_driver_sql(
            "INSERT INTO payment_result_imports (id, batch_id, file_name, file_sha256, status, rows, actor, "
            f"started_at) VALUES (1, 1, 'hasil.csv', '{'a' * 64}', 'selesai', 3, 'a', '{AT}')"
        )
        for row, (ref, status, outcome) in enumerate(
            (
                ("R1", "dibayar", "diterapkan"),
                ("R2", "gagal", "diterapkan"),
                ("RX", "dibayar", "tidak_dikenal"),
            ),
            start=1,
        ):
            c.exec_driver_sql(
                "INSERT INTO payment_result_lines (import_id, row_number, reference, amount, status, outcome) "
                f"VALUES (1, {row}, '{ref}', 250000, '{status}', '{outcome}')"
            )


def _states(engine: sa.Engine) -> tuple[dict[int, str], dict[int, str]]:
    """Each line's and entitlement's state as tepat reads them, on a database at the head (the code's queries name
    columns later migrations add, such as the office)."""
    migrate(engine, "upgrade", "head")
    with engine.connect() as c:
        lines = dict(c.execute(sa.select(payments.c.id, line_state(payments.c))).all())
        ents = dict(c.execute(sa.select(entitlements.c.id, entitlement_state(entitlements.c))).all())
    return lines, ents


def test_0018_fills_the_ledger_keeps_every_state_and_refuses_a_second_payment(scratch: sa.Engine) -> None:
    migrate(scratch, "upgrade", "0017")
    _paid_failed_and_waiting(scratch)
    migrate(scratch, "upgrade", "0018")
    with scratch.connect() as c:
        ledger = c.exec_driver_sql(
            "SELECT reference, payment_id, entitlement_id, paid_open FROM payment_result_lines ORDER BY row_number"
        ).all()
        totals = sorted(c.exec_driver_sql("SELECT state, lines, amount FROM payment_batch_totals").all())
    assert [(r, p, e, bool(o)) for r, p, e, o in ledger] == [
        ("R1", 1, 1, True),
        ("R2", 2, 2, False),
        ("RX", None, None, False),
    ]
    assert totals == [("dibayar", 1, 250000), ("dikirim", 1, 250000), ("gagal", 1, 250000)]
    with pytest.raises(sa.exc.IntegrityError, match="paid_once|UNIQUE|unique"), scratch.begin() as c:
        c.exec_driver_sql(
            "INSERT INTO payment_result_lines (import_id, row_number, reference, amount, status, outcome, "
            "payment_id, entitlement_id, paid_open) VALUES (1, 9, 'R1', 250000, 'dibayar', 'diterapkan', 1, 1, TRUE)"
        )
    assert _states(scratch) == (
        {1: "dibayar", 2: "gagal", 3: "dikirim"},
        {1: "dibayar", 2: "gagal", 3: "diproses"},
    )


def test_0018_downgrade_writes_the_ledgers_states_back(scratch: sa.Engine) -> None:
    migrate(scratch, "upgrade", "0017")
    _paid_failed_and_waiting(scratch)
    migrate(scratch, "upgrade", "0018")
    with scratch.begin() as c:  # the new import's only write: R3 paid
        c.exec_driver_sql(
            "INSERT INTO payment_result_imports (id, batch_id, file_name, file_sha256, status, rows, actor, "
            f"started_at) VALUES (2, 1, 'hasil-2.csv', '{'b' * 64}', 'selesai', 1, 'a', '2025-07-16')"
        )
        c.exec_driver_sql(
            "INSERT INTO payment_result_lines (import_id, row_number, reference, amount, status, bank_reference, "
            "settled_on, outcome, payment_id, entitlement_id, paid_open) VALUES (2, 1, 'R3', 250000, 'dibayar', "
            "'TRX3', '2025-07-15', 'diterapkan', 3, 3, TRUE)"
        )
    expected = ({1: "dibayar", 2: "gagal", 3: "dibayar"}, {1: "dibayar", 2: "gagal", 3: "dibayar"})
    migrate(scratch, "downgrade", "0017")
    with scratch.connect() as c:
        lines = dict(c.exec_driver_sql("SELECT id, state FROM payments").all())
        ents = dict(c.exec_driver_sql("SELECT id, state FROM entitlements").all())
        three = c.exec_driver_sql("SELECT bank_reference, result_import_id FROM payments WHERE id = 3").one()
        paid_at = c.exec_driver_sql("SELECT paid_at FROM entitlements WHERE id = 3").scalar_one()
    assert (lines, ents) == expected
    assert tuple(three) == ("TRX3", 2) and paid_at is not None
    migrate(scratch, "upgrade", "head")
    assert _states(scratch) == expected
