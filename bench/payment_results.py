"""Import and reconcile a 250,000-row disbursement result file, against a raw bulk insert of the same rows.

    python bench/payment_results.py --entitlements 250000            # SQLite (a file in --workdir)
    python bench/payment_results.py --entitlements 250000 --db postgresql+psycopg://postgres@127.0.0.1:5432/bench_pay

Setup (not timed): a fresh database; one programme and one approved cycle whose
entitlements are synthetic rows (NIK, name, address, the city's 56 kelurahan)
written straight into ``entitlements`` in bulk — the registry is not needed for
payments. Then, timed and reported: creating the batch (one INSERT … SELECT and
one guarded UPDATE) and exporting its file. A bank result file is written with
every line: 85 % SUKSES, 10 % GAGAL, 5 % RETUR, plus a few rows the bank got
wrong (amount, unknown reference, duplicate).

In the same process and database:

* **ledger baseline**: read the result file with Polars and bulk-insert its rows into an
  empty copy of ``payment_result_lines`` (same columns, key and index; ``executemany``
  on SQLite, ``COPY`` on PostgreSQL); the best of two runs. The **plain-table
  baseline** does the same into a table with no key or index;
* **same-writes baseline** (for comparison with the design before the ledger): the writes
  that design needed, as hand-written SQL with no checks, on copies of ``payments`` and
  ``entitlements``: the ledger rows, one ``UPDATE … FROM`` for the lines' states, one for
  the entitlements', and the reconciliation ``GROUP BY``; the best of two runs;
* **import + reconcile**: ``payments.import_results`` (checks, control totals and
  checksum, batch lock, reading our lines with their state now, judging every row, one
  bulk write of the judged rows into the ledger — whose unique index refuses a second
  payment —, the batch's totals, one commit) followed by ``reconciliation.reconcile``;
* a second import of the same file (found by its checksum, changes nothing).

Target (issue 18, restated): import + reconcile ≤ 2.5× the ledger baseline. Prints JSON and a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from bench_support import fresh_database, machine

from tepat.store.bulk import insert_frame
from tepat.synth.geography import SYNTH_CITY

BANK_ERRORS = 50  # rows of each kind the bank gets wrong


def _ledger_copy(db):  # type: ignore[no-untyped-def]
    """An empty table shaped like ``payment_result_lines`` (same columns, key and indexes), for the second baseline."""
    import sqlalchemy as sa

    from tepat.store.schema import payment_result_lines

    table = payment_result_lines.to_metadata(sa.MetaData(), name="bench_ledger_raw")
    table.primary_key.name = "pk_bench_ledger_raw"  # PostgreSQL names constraints and indexes per schema
    for index in table.indexes:
        index.name = f"bench_{index.name}"
    with db.begin() as conn:
        table.drop(conn, checkfirst=True)
        table.create(conn)
    return table


def ledger_rows(result_path: Path):  # type: ignore[no-untyped-def]
    """The result file read with Polars (as text) in the shape of ``payment_result_lines``: the baselines' rows."""
    import polars as pl

    frame = pl.read_csv(result_path, comment_prefix="#", infer_schema=False)
    return frame.select(
        pl.lit(0).alias("import_id"),
        pl.int_range(1, frame.height + 1).alias("row_number"),
        pl.col("referensi").alias("reference"),
        pl.col("nik").alias("recipient_nik"),
        pl.col("jumlah").cast(pl.Int64).alias("amount"),
        pl.col("status"),
        pl.col("keterangan").alias("reason"),
        pl.col("referensi_bank").alias("bank_reference"),
        pl.col("tanggal").alias("settled_on"),
        pl.lit("").alias("outcome"),
        pl.lit("32.75").alias("office_code"),
    )


def ledger_baseline_once(db, ledger, result_path: Path, rows: int) -> float:  # type: ignore[no-untyped-def]
    """Seconds to read the result file and bulk-insert its rows into the empty ledger copy (the ledger baseline)."""
    import sqlalchemy as sa

    with db.begin() as conn:
        conn.execute(ledger.delete())
    start = time.perf_counter()
    frame = ledger_rows(result_path)
    with db.begin() as conn:
        insert_frame(conn, ledger.name, frame)
    elapsed = time.perf_counter() - start
    with db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(ledger)).scalar_one() == rows
    return elapsed


def _state_copies(db):  # type: ignore[no-untyped-def]
    """Copies of ``payments`` and ``entitlements`` (same columns, keys, indexes and storage settings) holding the
    batch as it is before the import, for the raw-SQL baseline of the same writes. Rebuilt before every run."""
    import sqlalchemy as sa

    from tepat.store.schema import entitlements, payments

    copies = []
    with db.begin() as conn:
        for source in (payments, entitlements):
            table = source.to_metadata(sa.MetaData(), name=f"bench_{source.name}_raw")
            table.primary_key.name = f"pk_bench_{source.name}_raw"
            for index in table.indexes:
                index.name = f"bench_{index.name}"
            for constraint in list(table.constraints):
                if isinstance(constraint, sa.ForeignKeyConstraint):
                    table.constraints.remove(
                        constraint
                    )  # the copies stand alone (the real rows stay as they are)
                elif isinstance(constraint, sa.UniqueConstraint) and constraint.name:
                    constraint.name = f"bench_{constraint.name}"
            for column in table.columns:
                column.foreign_keys.clear()
            table.drop(conn, checkfirst=True)
            table.create(conn)
            names = ", ".join(c.name for c in source.columns if c.computed is None)
            conn.exec_driver_sql(f"INSERT INTO {table.name} ({names}) SELECT {names} FROM {source.name}")
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql(f"ANALYZE {table.name}")
            copies.append(table)
    return copies


def _approved_cycle(url: str, count: int, seed: int) -> int:
    """One programme, one approved cycle and ``count`` synthetic entitlements (setup, not measured)."""
    import numpy as np
    import polars as pl
    import sqlalchemy as sa

    from tepat.store.engine import create_engine, now
    from tepat.store.schema import benefit_cycles, programmes, regions

    rng = np.random.default_rng(seed)
    engine = create_engine(url)
    at = now()
    with engine.begin() as conn:
        prog = conn.execute(
            sa.insert(programmes)
            .values(
                code="BLT-APBD",
                name="BLT APBD",
                office_code=SYNTH_CITY,
                unit="keluarga",
                benefit_type="tunai",
                funding_source="APBD",
                frequency="sekali",
                amount=250_000,
                budget_year=2025,
                rule='status == "aktif"',
                exclusions=[],
                active=True,
                version=1,
                created_by="bench",
                created_at=at,
                updated_by="bench",
                updated_at=at,
            )
            .returning(programmes.c.id)
        ).scalar_one()
        cycle = conn.execute(
            sa.insert(benefit_cycles)
            .values(
                programme_id=prog,
                name="BLT-APBD Juli 2025",
                period_start=date(2025, 7, 1),
                period_end=date(2025, 7, 31),
                reference_date=date(2025, 7, 1),
                state="disetujui",
                programme_snapshot={"code": "BLT-APBD"},
                area_code=SYNTH_CITY,
                version=1,
                created_by="pembuat",
                created_at=at,
                approved_by="penyetuju",
                approved_at=at,
                entitlements=count,
                total_amount=count * 250_000,
            )
            .returning(benefit_cycles.c.id)
        ).scalar_one()
        kelurahan = (
            conn.execute(
                sa.select(regions.c.code).where(
                    regions.c.level == "kelurahan", regions.c.code.like("32.75.%")
                )
            )
            .scalars()
            .all()
        )
        ids = np.arange(1, count + 1)
        kel = np.array(kelurahan)[rng.integers(0, len(kelurahan), count)]
        frame = pl.DataFrame(
            {
                "id": ids,
                "cycle_id": cycle,
                "unit_key": ids,
                "family_id": ids,
                "member_id": ids,
                "kk_number": [f"3275{i:012d}" for i in ids],
                "recipient_nik": [f"3275014{i:09d}" for i in ids],
                "recipient_name": [f"Penerima {i}" for i in ids],
                "kelurahan_code": kel,
                "kecamatan_code": [k[:8] for k in kel],
                "rw": 1,
                "rt": 1,
                "address": [f"Jl. Contoh No. {i % 300}" for i in ids],
                "desil": 1,
                "rank": ids,
                "amount": 250_000,
                "source": "aturan",
                "state": "terjadwal",
                "office_code": [k[:5] for k in kel],
            }
        )
        insert_frame(conn, "entitlements", frame)
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SELECT setval('entitlements_id_seq', (SELECT max(id) FROM entitlements))")
            conn.exec_driver_sql("ANALYZE entitlements")
    engine.dispose()
    return int(cycle)


def _result_file(pay_file: Path, out: Path, seed: int) -> dict[str, int]:
    """The bank's answer to every line of the payment file, with a few of its own mistakes."""
    import numpy as np
    import polars as pl

    from tepat.files.payment_files import result_file_bytes

    lines = pl.read_csv(pay_file, comment_prefix="#", infer_schema=False)
    rng = np.random.default_rng(seed)
    draw = rng.random(lines.height)
    status = np.where(draw < 0.85, "SUKSES", np.where(draw < 0.95, "GAGAL", "RETUR"))
    amount = lines["jumlah"].cast(pl.Int64).to_numpy().copy()
    amount[:BANK_ERRORS] -= 1_000  # the bank's amount differs
    rows = list(
        zip(
            lines["referensi"],
            lines["nik"],
            amount.tolist(),
            status.tolist(),
            np.where(status == "GAGAL", "Rekening tidak aktif", "").tolist(),
            [f"TRX{i:09d}" for i in range(lines.height)],
            ["2025-07-15"] * lines.height,
            strict=True,
        )
    )
    rows += [(f"PX-{i}", "", 250_000, "SUKSES", "", "", "") for i in range(BANK_ERRORS)]  # unknown references
    rows += rows[BANK_ERRORS : 2 * BANK_ERRORS]  # sent twice
    out.write_bytes(result_file_bytes(rows))
    return {"rows": len(rows), **{s: int((status == s).sum()) for s in ("SUKSES", "GAGAL", "RETUR")}}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--entitlements", type=int, default=250_000)
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/tepat-bench-payments"))
    parser.add_argument("--db", default=None, help="database URL (default: SQLite file in --workdir)")
    opts = parser.parse_args()
    opts.workdir.mkdir(parents=True, exist_ok=True)
    url = opts.db or f"sqlite:///{opts.workdir / 'bench.sqlite'}"

    import polars as pl
    import sqlalchemy as sa

    from tepat.domain.access import Actor, Role
    from tepat.services import payments, reconciliation
    from tepat.store.database import Database
    from tepat.store.payment_states import entitlement_state, line_state
    from tepat.store.schema import entitlements
    from tepat.store.schema import payments as lines

    report: dict[str, object] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "python": platform.python_version(),
        "database": url.split(":", 1)[0],
        "entitlements": opts.entitlements,
    }
    start = time.perf_counter()
    fresh_database(url)
    cycle = _approved_cycle(url, opts.entitlements, opts.seed)
    report["setup_s"] = round(time.perf_counter() - start, 1)
    db = Database(url)
    finance = Actor("keuangan", Role.FINANCE, SYNTH_CITY, "Keuangan")
    _ = db.regions

    start = time.perf_counter()
    batch = payments.create_batch(db, finance, cycle, "bank")
    create_s = time.perf_counter() - start
    pay_file = opts.workdir / "bayar.csv"
    start = time.perf_counter()
    payments.export_batch(db, finance, batch.id, pay_file)
    export_s = time.perf_counter() - start
    result_path = opts.workdir / "hasil.csv"
    mix = _result_file(pay_file, result_path, opts.seed)

    with db.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS bench_raw_results")
        conn.exec_driver_sql(
            "CREATE TABLE bench_raw_results (referensi VARCHAR(40), nik VARCHAR(16), jumlah VARCHAR(20), "
            "status VARCHAR(16), keterangan VARCHAR(200), referensi_bank VARCHAR(64), tanggal VARCHAR(10))"
        )

    def baseline_once() -> float:
        with db.begin() as conn:
            conn.exec_driver_sql("DELETE FROM bench_raw_results")
        start = time.perf_counter()
        frame = pl.read_csv(result_path, comment_prefix="#", infer_schema=False)  # as text: the rawest load
        with db.begin() as conn:
            insert_frame(conn, "bench_raw_results", frame)
        elapsed = time.perf_counter() - start
        with db.read() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM bench_raw_results").scalar_one() == mix["rows"]
        return elapsed

    baseline = min(baseline_once(), baseline_once())
    ledger = _ledger_copy(db)

    ledger_baseline = min(ledger_baseline_once(db, ledger, result_path, mix["rows"]) for _ in range(2))

    statuses = {"SUKSES": "dibayar", "GAGAL": "gagal", "RETUR": "dikembalikan"}

    def same_writes_once() -> float:
        """The writes this design needs, as hand-written SQL with no checks: the ledger rows, the lines' new state,
        the entitlements' new state, then the reconciliation GROUP BY (same tuning as the import on PostgreSQL)."""
        pay, ent = _state_copies(db)
        with db.begin() as conn:
            conn.execute(ledger.delete())
        start = time.perf_counter()
        rows = ledger_rows(result_path).with_columns(
            pl.col("status").replace_strict(statuses, default=None), outcome=pl.lit("diterapkan")
        )
        with db.begin() as conn:
            pg = conn.dialect.name == "postgresql"
            if pg:
                conn.exec_driver_sql("SET LOCAL work_mem = '64MB'")
                conn.exec_driver_sql("SET LOCAL jit = off")
            insert_frame(conn, ledger.name, rows)
            if pg:
                conn.exec_driver_sql(f"ANALYZE {ledger.name}")
            conn.exec_driver_sql(
                f"UPDATE {pay.name} SET state = l.status, failure_reason = l.reason, bank_reference = l.bank_reference, "
                f"settled_on = {'CAST(l.settled_on AS DATE)' if pg else 'l.settled_on'} FROM {ledger.name} l "
                f"WHERE l.reference = {pay.name}.reference AND {pay.name}.state = 'dikirim' AND l.status IS NOT NULL"
            )
            conn.exec_driver_sql(
                f"UPDATE {ent.name} SET state = CASE WHEN p.state = 'dibayar' THEN 'dibayar' ELSE 'gagal' END, "
                f"paid_at = CASE WHEN p.state = 'dibayar' THEN CURRENT_TIMESTAMP END FROM {pay.name} p "
                f"WHERE p.entitlement_id = {ent.name}.id AND p.state <> 'dikirim' AND {ent.name}.state = 'diproses'"
            )
        with db.read() as conn:
            conn.exec_driver_sql(
                f"SELECT kelurahan_code, state, count(*), sum(amount) FROM {pay.name} "
                f"WHERE batch_id = {int(batch.id)} GROUP BY kelurahan_code, state"
            ).all()
        elapsed = time.perf_counter() - start
        with db.read() as conn:
            paid = conn.exec_driver_sql(
                f"SELECT count(*) FROM {ent.name} WHERE state = 'dibayar'"
            ).scalar_one()
        assert paid == mix["SUKSES"], (paid, mix)  # no checks: the 50 wrong amounts are applied too
        with db.begin() as conn:
            pay.drop(conn)
            ent.drop(conn)
        return elapsed

    same_writes = min(same_writes_once(), same_writes_once())
    start = time.perf_counter()
    summary = payments.import_results(db, finance, batch.id, result_path)
    import_s = time.perf_counter() - start
    start = time.perf_counter()
    recon = reconciliation.reconcile(db, finance, batch_id=batch.id)
    reconcile_s = time.perf_counter() - start
    start = time.perf_counter()
    again = payments.import_results(db, finance, batch.id, result_path)
    again_s = time.perf_counter() - start
    with db.read() as conn:
        twice = (
            sa.select(lines.c.entitlement_id)
            .where(line_state(lines.c) == "dibayar")
            .group_by(lines.c.entitlement_id)
            .having(sa.func.count() > 1)
            .subquery()
        )
        paid_twice = conn.execute(sa.select(sa.func.count()).select_from(twice)).scalar_one()
        paid_entitlements = conn.execute(
            sa.select(sa.func.count()).where(entitlement_state(entitlements.c) == "dibayar")
        ).scalar_one()
    assert again.already_imported and paid_twice == 0
    # the lines reported paid, but for the wrong amounts among the first BANK_ERRORS lines: read three ways
    assert paid_entitlements == recon.total["dibayar_count"] > mix["SUKSES"] - BANK_ERRORS, (
        paid_entitlements,
        mix,
    )
    total = import_s + reconcile_s
    report.update(
        {
            "batch_lines": batch.control_count,
            "result_rows": mix["rows"],
            "mix": mix,
            "outcomes": summary.by_outcome,
            "create_batch_s": round(create_s, 2),
            "export_s": round(export_s, 2),
            "baseline_bulk_insert_s": round(baseline, 2),
            "import_s": round(import_s, 2),
            "reconcile_s": round(reconcile_s, 2),
            "import_reconcile_s": round(total, 2),
            "ledger_baseline_s": round(ledger_baseline, 2),
            "ratio_to_ledger_baseline": round(total / ledger_baseline, 2),
            "same_writes_baseline_s": round(same_writes, 2),
            "ratio_to_same_writes": round(total / same_writes, 2),
            "ratio": round(total / baseline, 2),
            "target_ratio": 2.5,
            "reimport_s": round(again_s, 2),
            "paid": recon.total["dibayar_count"],
            "mismatches": recon.mismatch_counts,
            "paid_twice": paid_twice,
        }
    )
    with db.begin() as conn:
        conn.exec_driver_sql("DROP TABLE bench_raw_results")
        ledger.drop(conn)
    db.dispose()
    print(json.dumps(report, indent=2))
    print()
    print("| step | seconds | × ledger baseline | × plain-table baseline |")
    print("|---|---:|---:|---:|")
    print(
        f"| read the file + bulk insert its {mix['rows']:,} rows into a copy of `payment_result_lines` "
        f"(ledger baseline) | {ledger_baseline:.2f} | 1.00 | {ledger_baseline / baseline:.2f} |"
    )
    print(
        f"| read the file + bulk insert its rows into a plain table without key or index (plain-table baseline) "
        f"| {baseline:.2f} | {baseline / ledger_baseline:.2f} | 1.00 |"
    )
    for label, secs in (
        ("import (check, lock, read our lines, judge, write the ledger and the batch's totals)", import_s),
        ("reconcile the batch (per kelurahan + mismatches)", reconcile_s),
    ):
        print(f"| {label} | {secs:.2f} | {secs / ledger_baseline:.2f} | {secs / baseline:.2f} |")
    print(
        f"| **import + reconcile** (target ≤ 2.5×) | **{total:.2f}** | **{total / ledger_baseline:.2f}** "
        f"| **{total / baseline:.2f}** |"
    )
    print(
        f"| raw SQL of the same writes: ledger rows, lines' and entitlements' states, reconciliation GROUP BY "
        f"(same-writes baseline) | {same_writes:.2f} | {same_writes / ledger_baseline:.2f} | {same_writes / baseline:.2f} |"
    )
    print(f"| import + reconcile ÷ same-writes baseline | **{total / same_writes:.2f}** | | |")
    print(
        f"| same file again (found by checksum, nothing changed) | {again_s:.2f} | {again_s / ledger_baseline:.2f} "
        f"| {again_s / baseline:.2f} |"
    )
    print(f"| create the batch of {batch.control_count:,} lines (not in the ratio) | {create_s:.2f} | |")
    print(f"| export the payment file (not in the ratio) | {export_s:.2f} | |")


if __name__ == "__main__":
    main()
