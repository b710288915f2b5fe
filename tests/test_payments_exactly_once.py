"""Exactly once: the same result file twice, two imports at once, and an import killed halfway then run again.

Each must end with every entitlement paid at most once and the batch's totals reconciled.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import sqlalchemy as sa

from tepat.services import payments, reconciliation
from tepat.store.database import Database
from tepat.store.payment_states import line_state
from tepat.store.schema import entitlements, payment_result_imports, payment_result_lines
from tepat.store.schema import payments as lines_t
from tests.payment_support import FINANCE, all_paid, exported_batch, paying_cycle, result_file

ROOT = Path(__file__).resolve().parent.parent


def paid_lines_per_entitlement(db: Database, cycle_id: int) -> Counter[int]:
    with db.read() as conn:
        rows = (
            conn.execute(
                sa.select(lines_t.c.entitlement_id)
                .join(entitlements, entitlements.c.id == lines_t.c.entitlement_id)
                .where(entitlements.c.cycle_id == cycle_id, line_state(lines_t.c) == "dibayar")
            )
            .scalars()
            .all()
        )
    return Counter(rows)


def assert_paid_once_and_reconciled(db: Database, cycle_id: int, batch_id: int, expected_paid: int) -> None:
    counts = paid_lines_per_entitlement(db, cycle_id)
    assert len(counts) == expected_paid and max(counts.values(), default=1) == 1
    report = reconciliation.reconcile(db, FINANCE, cycle_id=cycle_id)
    assert (
        report.entitlements
        and report.entitlements["paid_twice"] == 0
        and report.entitlements["paid_without_line"] == 0
    )
    assert report.entitlements["by_state"]["dibayar"]["count"] == expected_paid
    batch = reconciliation.reconcile(db, FINANCE, batch_id=batch_id)
    assert batch.total["dibayar_count"] == expected_paid and batch.balanced


def test_double_import_applies_once(db: Database, admin, tmp_path: Path) -> None:
    cycle = paying_cycle(db, admin, here=5, there=1)
    batch_id, rows = exported_batch(db, tmp_path, cycle)
    file = result_file(tmp_path, all_paid(rows))
    assert payments.import_results(db, FINANCE, batch_id, file).applied == 6
    again = payments.import_results(db, FINANCE, batch_id, file)
    assert again.already_imported and again.by_outcome == {"diterapkan": 6}
    with db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(payment_result_imports)).scalar_one() == 1
        assert conn.execute(sa.select(sa.func.count()).select_from(payment_result_lines)).scalar_one() == 6
    assert_paid_once_and_reconciled(db, cycle, batch_id, 6)


def _import_at_once(db: Database, batch_id: int, files: list[Path], monkeypatch) -> list[object]:
    """Run one import per file in its own thread, started together; each holds its transaction a while."""
    monkeypatch.setattr(payments, "after_staging", lambda conn, import_id: time.sleep(0.4))
    barrier = threading.Barrier(len(files))
    results: list[object] = [None] * len(files)

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = payments.import_results(db, FINANCE, batch_id, files[i])
        except Exception as exc:  # noqa: BLE001 -- whatever it is, the assertion below reports it
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(files))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_concurrent_import_of_the_same_file(db: Database, admin, tmp_path: Path, monkeypatch) -> None:
    """Two connections import the same file at once (PostgreSQL: row lock; SQLite: BEGIN IMMEDIATE queues them)."""
    cycle = paying_cycle(db, admin, here=6, there=2)
    batch_id, rows = exported_batch(db, tmp_path, cycle)
    file = result_file(tmp_path, all_paid(rows))
    first, second = _import_at_once(db, batch_id, [file, file], monkeypatch)
    assert isinstance(first, payments.ImportSummary) and isinstance(second, payments.ImportSummary), (
        first,
        second,
    )
    assert sorted([first.already_imported, second.already_imported]) == [False, True]
    assert_paid_once_and_reconciled(db, cycle, batch_id, 8)


def test_concurrent_import_of_two_files_with_the_same_rows(
    db: Database, admin, tmp_path: Path, monkeypatch
) -> None:
    cycle = paying_cycle(db, admin, here=4, there=0)
    batch_id, rows = exported_batch(db, tmp_path, cycle)
    one = result_file(tmp_path, all_paid(rows), name="a.csv")
    two = result_file(tmp_path, all_paid(rows), name="b.csv", separator=";")
    results = _import_at_once(db, batch_id, [one, two], monkeypatch)
    outcomes = sorted(str(r.by_outcome) for r in results)  # type: ignore[attr-defined]
    assert outcomes == sorted([str({"diterapkan": 4}), str({"sudah": 4})])
    assert_paid_once_and_reconciled(db, cycle, batch_id, 4)


KILLABLE = """
import sys, time
from pathlib import Path
from tepat.domain.access import Actor, Role
from tepat.services import payments
from tepat.store.database import Database

def stop_here(conn, import_id):
    print("STAGED", flush=True)
    time.sleep(120)

payments.after_staging = stop_here
payments.import_results(Database(sys.argv[1]), Actor("keu", Role.FINANCE, "32.75"), int(sys.argv[2]), Path(sys.argv[3]))
print("DONE", flush=True)
"""


def test_import_killed_halfway_leaves_nothing_and_the_rerun_applies_once(
    db: Database, admin, tmp_path: Path
) -> None:
    cycle = paying_cycle(db, admin, here=5, there=1)
    batch_id, rows = exported_batch(db, tmp_path, cycle)
    file = result_file(tmp_path, all_paid(rows))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(
        [sys.executable, "-c", KILLABLE, db.url, str(batch_id), str(file)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    try:
        line = child.stdout.readline() if child.stdout else ""
        assert line.strip() == "STAGED", child.stderr.read() if child.stderr else line
        with db.read() as conn:  # staged, not committed: nobody else sees a thing
            assert (
                conn.execute(sa.select(sa.func.count()).select_from(payment_result_lines)).scalar_one() == 0
            )
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(30)
        for stream in (child.stdout, child.stderr):
            if stream:
                stream.close()
    assert child.returncode == -signal.SIGKILL
    with db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(payment_result_imports)).scalar_one() == 0
        assert set(conn.execute(sa.select(line_state(lines_t.c))).scalars()) == {"dikirim"}
        assert conn.execute(sa.select(sa.func.count()).select_from(payment_result_lines)).scalar_one() == 0
    rerun = payments.import_results(db, FINANCE, batch_id, file)
    assert rerun.applied == 6 and not rerun.already_imported
    assert payments.import_results(db, FINANCE, batch_id, file).already_imported
    assert_paid_once_and_reconciled(db, cycle, batch_id, 6)
