"""Migration 0005 on a database that already holds payments: ``live`` is derived for existing lines and the
exactly-once index keeps holding, up and down (SQLite rebuilds the table; PostgreSQL adds the column in place)."""

from __future__ import annotations

import sqlalchemy as sa

from tests.conftest import PG_URL
from tests.migration_support import migrate

AT = "2025-07-01"
LINE = (
    "INSERT INTO payments (batch_id, entitlement_id, attempt, reference, amount, kelurahan_code, state) "
    "VALUES (1, {ent}, {attempt}, '{ref}', 250000, '32.75.01.1001', '{state}')"
)


def _one_paid_one_failed(engine: sa.Engine) -> None:
    with engine.begin() as c:
        c.exec_driver_sql(
            "INSERT INTO programmes (id, code, name, unit, benefit_type, funding_source, frequency, amount, budget_year, "
            f"rule, exclusions, active, version, created_by, created_at, updated_by, updated_at) VALUES (1, 'BLT', 'BLT', "
            f"'keluarga', 'tunai', 'APBD', 'sekali', 250000, 2025, 'true', '[]', true, 1, 'a', '{AT}', 'a', '{AT}')"
        )
        c.exec_driver_sql(
            "INSERT INTO benefit_cycles (id, programme_id, name, period_start, period_end, reference_date, state, "
            f"programme_snapshot, version, created_by, created_at) VALUES (1, 1, 'Juli', '{AT}', '2025-07-31', '{AT}', "
            f"'pembayaran', '{{}}', 1, 'a', '{AT}')"
        )
        for ent, state in ((1, "dibayar"), (2, "gagal")):
            c.exec_driver_sql(
                "INSERT INTO entitlements (id, cycle_id, unit_key, family_id, kk_number, kelurahan_code, kecamatan_code, "
                f"rw, rt, amount, source, state) VALUES ({ent}, 1, {ent}, {ent}, '3275010101250001', '32.75.01.1001', "
                f"'32.75.01', 1, 1, 250000, 'aturan', '{state}')"
            )
        c.exec_driver_sql(
            "INSERT INTO payment_batches (id, cycle_id, number, channel, state, control_count, control_total, "
            f"version, created_by, created_at) VALUES (1, 1, 'B-1', 'bank', 'selesai', 2, 500000, 1, 'a', '{AT}')"
        )
        c.exec_driver_sql(LINE.format(ent=1, attempt=1, ref="R1", state="dibayar"))
        c.exec_driver_sql(LINE.format(ent=2, attempt=1, ref="R2", state="gagal"))


def _second_live_line_refused(engine: sa.Engine, ref: str) -> bool:
    try:
        with engine.begin() as c:
            c.exec_driver_sql(LINE.format(ent=1, attempt=2, ref=ref, state="dikirim"))
    except sa.exc.IntegrityError:
        return True
    return False


def test_0005_derives_live_for_existing_lines_and_keeps_exactly_once(scratch: sa.Engine) -> None:
    migrate(scratch, "upgrade", "0004")
    _one_paid_one_failed(scratch)
    migrate(scratch, "upgrade", "0005")
    with scratch.connect() as c:
        live = dict(c.exec_driver_sql("SELECT reference, live FROM payments").all())
    assert {k: bool(v) for k, v in live.items()} == {"R1": True, "R2": False}
    assert _second_live_line_refused(scratch, "R3")  # entitlement 1 is paid: no second line on its way
    with scratch.begin() as c:  # entitlement 2 failed: a retry is allowed, and it is live
        c.exec_driver_sql(LINE.format(ent=2, attempt=2, ref="R4", state="dikirim"))
        assert c.exec_driver_sql("SELECT live FROM payments WHERE reference = 'R4'").scalar_one()
        c.exec_driver_sql("UPDATE payments SET state = 'gagal' WHERE reference = 'R4'")
        assert not c.exec_driver_sql("SELECT live FROM payments WHERE reference = 'R4'").scalar_one()
    if PG_URL:
        with scratch.connect() as c:
            options = dict(
                c.exec_driver_sql(
                    "SELECT relname, reloptions FROM pg_class WHERE relname IN ('entitlements', 'payments')"
                ).all()
            )
        assert options == {"entitlements": ["fillfactor=50"], "payments": ["fillfactor=50"]}
    migrate(scratch, "downgrade", "0004")
    assert _second_live_line_refused(scratch, "R5")  # the old index (on state) still guards
    migrate(scratch, "upgrade", "head")
    assert _second_live_line_refused(scratch, "R6")
