"""Helpers for payment tests: an approved cycle of a few families, a finance user, result files as banks send them."""

from __future__ import annotations

import csv
from pathlib import Path

from tepat.domain.access import Actor, Role
from tepat.files.payment_files import result_file_bytes
from tepat.services import payments
from tepat.store.database import Database
from tests.conftest import actor
from tests.factories import KELURAHAN, OTHER_KELURAHAN, make_family
from tests.programme_data import approved_cycle, insert_programme

FINANCE = actor(Role.FINANCE, "32.75", "keuangan-kota")


def paying_cycle(db: Database, admin: Actor, here: int = 3, there: int = 1, amount: int = 250_000) -> int:
    """An approved cycle with ``here`` families in KELURAHAN and ``there`` in OTHER_KELURAHAN."""
    families = [make_family(db, admin) for _ in range(here)] + [
        make_family(db, admin, OTHER_KELURAHAN) for _ in range(there)
    ]
    return approved_cycle(db, insert_programme(db, amount=amount), families)


def exported_batch(
    db: Database, tmp_path: Path, cycle_id: int, who: Actor = FINANCE, **options: object
) -> tuple[int, list[list[str]]]:
    """Create and export a batch; returns its id and the file's data rows (without header and trailer)."""
    batch = payments.create_batch(db, who, cycle_id, str(options.pop("channel", "bank")), **options)  # type: ignore[arg-type]
    out = tmp_path / f"bayar-{batch.id}.csv"
    payments.export_batch(db, who, batch.id, out)
    with out.open(newline="") as f:
        rows = list(csv.reader(f))
    return batch.id, rows[1:-1]


def result_file(
    tmp_path: Path, rows: list[tuple[object, ...]], name: str = "hasil.csv", **kwargs: object
) -> Path:
    """A result file: each row (reference, nik, amount, status[, reason, bank_ref, date])."""
    full = [tuple(r) + ("",) * (7 - len(r)) for r in rows]
    path = tmp_path / name
    path.write_bytes(result_file_bytes(full, **kwargs))  # type: ignore[arg-type]
    return path


def all_paid(lines: list[list[str]]) -> list[tuple[object, ...]]:
    return [(r[0], r[1], r[-1], "SUKSES", "", f"TRX{i}", "2025-07-15") for i, r in enumerate(lines)]


__all__ = [
    "FINANCE",
    "KELURAHAN",
    "OTHER_KELURAHAN",
    "all_paid",
    "exported_batch",
    "paying_cycle",
    "result_file",
]
