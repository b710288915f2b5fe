"""Importing a registry file (CSV, XLSX, Parquet): check every row, upsert the good ones.

The file is read in batches; each batch is checked with vectorised rules
(``tepat.files.row_checks``) and applied set-based (``tepat.store.staging``).
All writes happen in one transaction, so a crash halfway stores nothing. The
run itself is recorded in ``imports`` (with its counts) and in the audit log.

Modes: ``valid-only`` stores the good rows and reports the bad ones;
``strict`` stores nothing when any row is bad (``ImportRejected``, after the
errors file is written); it still applies every good row inside its transaction
before rolling back, so its report counts what valid-only would have created
and updated.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path
from queue import Empty, Full, Queue
from threading import Event, Thread
from typing import Any, TypeVar

import polars as pl
import sqlalchemy as sa

from tepat.domain.access import Actor
from tepat.domain.audit_actions import AuditAction
from tepat.domain.households import LifeStatus
from tepat.domain.regions import Level
from tepat.errors import FieldError, ImportRejected, PermissionDenied, ValidationError
from tepat.files.canonical import (
    FAMILY_COLUMNS,
    FIELD_BY_COLUMN,
    MEMBER_COLUMNS,
    ColumnMapping,
    load_mapping,
)
from tepat.files.readers import ROW, open_registry_file
from tepat.files.row_checks import ERROR_SCHEMA, CheckContext, RowChecker
from tepat.files.writers import write_errors
from tepat.services import moves, payable
from tepat.services.import_preview import missing_columns, missing_message
from tepat.store import audit
from tepat.store import families as family_store
from tepat.store.bulk import refresh_statistics
from tepat.store.database import Database
from tepat.store.engine import now
from tepat.store.schema import imports, regions
from tepat.store.staging import Refusal, Stager, UpsertCounts

BATCH_ROWS = 50_000
ERRORS_KEPT = 100_000
"""At most this many errors are kept in ``ImportResult.errors``; the errors file has them all."""

Progress = Callable[[int, int | None], None]
T = TypeVar("T")


class ImportMode(StrEnum):
    STRICT = "strict"
    VALID_ONLY = "valid-only"


class ImportStatus(StrEnum):
    RUNNING = "running"
    DONE = "done"
    REJECTED = "rejected"
    FAILED = "failed"


@dataclass(frozen=True)
class ImportResult:
    """What an import did (``as_dict()`` is what ``tepat import --json`` prints)."""

    import_id: int
    status: str
    mode: str
    rows_read: int
    rows_rejected: int
    families_created: int
    families_updated: int
    members_created: int
    members_updated: int
    errors: list[FieldError] = field(default_factory=list)
    warnings: list[FieldError] = field(default_factory=list)
    """Stored rows that need a look (a family without a head, a dead member still active): nothing rejected."""

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["errors"] = [e.as_dict() for e in self.errors]
        out["warnings"] = [w.as_dict() for w in self.warnings]
        return out


def _prefetched(items: Iterator[T], depth: int = 2) -> Iterator[T]:
    """``items``, produced by a background thread up to ``depth`` ahead.

    Reading and checking the next batch (polars, which releases the GIL) overlaps with
    writing the current one to the database; the queue bound keeps memory flat.
    """
    queue: Queue[tuple[str, object]] = Queue(maxsize=depth)
    stop = Event()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        queue.put(("item", item), timeout=0.1)
                        break
                    except Full:
                        continue
                if stop.is_set():
                    return
            queue.put(("end", None))
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, which re-raises it
            queue.put(("error", exc))

    worker = Thread(target=produce, name="tepat-import-reader", daemon=True)
    worker.start()
    try:
        while True:
            kind, value = queue.get()
            if kind == "end":
                return
            if kind == "error":
                raise value  # type: ignore[misc]
            yield value  # type: ignore[misc]
    finally:
        stop.set()
        while worker.is_alive():
            try:
                queue.get_nowait()
            except Empty:
                worker.join(0.05)


class _StrictFailure(Exception):
    """Raised inside the transaction so that a rejected strict import rolls back."""


def _actor_may_import(actor: Actor) -> None:
    if not actor.can_edit_registry(actor.area_code):
        raise PermissionDenied("Anda tidak berhak mengimpor data registri")


def _kelurahan_codes(db: Database) -> list[str]:
    with db.read() as conn:
        return list(
            conn.execute(sa.select(regions.c.code).where(regions.c.level == Level.KELURAHAN.value)).scalars()
        )


def _start(db: Database, actor: Actor, filename: str, mode: ImportMode) -> int:
    with db.begin() as conn:
        return int(
            conn.execute(
                imports.insert()
                .values(
                    started_at=now(),
                    actor=actor.username,
                    filename=filename[:255],
                    mode=mode.value,
                    status=ImportStatus.RUNNING.value,
                )
                .returning(imports.c.id)
            ).scalar_one()
        )


def _finish(conn: sa.Connection, actor: Actor, result: ImportResult, filename: str) -> None:
    counts = {k: v for k, v in result.as_dict().items() if k not in ("errors", "warnings", "import_id")}
    conn.execute(
        imports.update()
        .where(imports.c.id == result.import_id)
        .values(finished_at=now(), **{k: counts[k] for k in counts if k != "mode"})
    )
    audit.record(
        conn,
        actor,
        AuditAction.REGISTRY_IMPORT,
        "import",
        result.import_id,
        area_code=actor.area_code or None,
        detail={"filename": filename, **counts},
    )


def _field_errors(frame: pl.DataFrame, limit: int) -> list[FieldError]:
    return [
        FieldError(column, message, value, row)
        for row, column, value, message in frame.head(limit).iter_rows()
    ]


def _families_and_members(valid: pl.DataFrame, columns: list[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    names = {c: FIELD_BY_COLUMN[c].name for c in columns}
    fam = [c for c in columns if c in FAMILY_COLUMNS]
    mem = [c for c in columns if c in MEMBER_COLUMNS]
    renamed = valid.rename(names)
    families = renamed.select([names[c] for c in fam]).unique("kk_number", keep="first", maintain_order=True)
    members = renamed.select("kk_number", *[names[c] for c in mem])
    return families, members


def _refused_rows(valid: pl.DataFrame, refusals: list[Refusal]) -> pl.DataFrame:
    """One error per row of a refused KK: on the NIK cell for the person of another area, else on the KK cell."""
    if not refusals:
        return pl.DataFrame(schema=ERROR_SCHEMA)
    kks = sorted({r.kk_number for r in refusals})
    niks = sorted({r.nik for r in refusals if r.nik is not None})
    rows = valid.filter(pl.col("nomor_kk").is_in(kks))
    on_nik = pl.col("nik").is_in(niks)
    return rows.select(
        pl.col(ROW).alias("row"),
        pl.when(on_nik).then(pl.lit("nik")).otherwise(pl.lit("nomor_kk")).alias("column"),
        pl.when(on_nik).then(pl.col("nik")).otherwise(pl.col("nomor_kk")).cast(pl.String).alias("value"),
        pl.lit(moves.REFUSED_IN_IMPORT).alias("message"),
    )


HEADLESS = (
    "Keluarga ini tidak punya kepala keluarga aktif; tidak diikutkan dalam siklus bantuan sampai diperbaiki"
)
DECEASED_ACTIVE = (
    "Anggota ditandai meninggal tetapi masih aktif; nonaktifkan dengan alasan meninggal "
    "(halaman anggota atau berkas Dukcapil)"
)


class _FirstRows:
    """The file's first row of each KK and row of each NIK, to point warnings at the file (a few tens of MB for a city)."""

    def __init__(self) -> None:
        self.kk: dict[str, int] = {}
        self.nik: dict[str, int] = {}

    def add(self, valid: pl.DataFrame) -> None:
        for kk, row in valid.group_by("nomor_kk").agg(pl.col(ROW).min()).iter_rows():
            self.kk.setdefault(kk, row)
        if "status_hidup" in valid.columns:
            for nik, row in (
                valid.filter(pl.col("status_hidup") == LifeStatus.MENINGGAL.value)
                .select("nik", ROW)
                .iter_rows()
            ):
                self.nik[nik] = row


def _warnings(
    conn: sa.Connection, import_id: int, rows: _FirstRows, counts: UpsertCounts
) -> list[FieldError]:
    """What was stored but needs a look: families left without an active head, dead members still active.

    Read in the import's own transaction, over the rows it wrote: after a large import the tables are analysed
    first, or PostgreSQL plans the head check as if they were empty (a nested loop over a city's 750,000 families:
    20 minutes and more, measured)."""
    written = (
        counts.families_created + counts.families_updated + counts.members_created + counts.members_updated
    )
    refresh_statistics(conn, "families", "members", rows=written)
    found = [
        FieldError("hubungan_keluarga", HEADLESS, kk, rows.kk.get(kk))
        for kk in family_store.headless_after_import(conn, import_id)
    ]
    found += [
        FieldError("status_hidup", DECEASED_ACTIVE, "meninggal", rows.nik.get(nik))
        for nik in family_store.deceased_active_after_import(conn, import_id)
    ]
    return sorted(found, key=lambda w: (w.row is None, w.row or 0))[:ERRORS_KEPT]


def import_file(
    db: Database,
    actor: Actor,
    path: str | Path,
    *,
    mode: str = "valid-only",
    mapping: ColumnMapping | str | Path | None = None,
    errors_path: str | Path | None = None,
    progress: Progress | None = None,
    filename: str | None = None,
) -> ImportResult:
    """Import a registry file in the canonical layout (or another one through ``mapping``)."""
    _actor_may_import(actor)
    try:
        run_mode = ImportMode(mode)
    except ValueError:
        raise ValidationError("Mode impor harus strict atau valid-only") from None
    if mapping is not None and not isinstance(mapping, ColumnMapping):
        mapping = load_mapping(mapping)
    name = filename or Path(path).name
    source = open_registry_file(path, mapping, filename=name)
    missing = missing_columns(source)
    if missing:
        raise ValidationError(missing_message(name, missing))
    columns = [c for c in source.columns]
    checker = RowChecker(
        CheckContext.build(_kelurahan_codes(db), actor.area_code, offices=db.offices), columns
    )
    import_id = _start(db, actor, name, run_mode)
    error_frames: list[pl.DataFrame] = []
    rows_read = rejected = 0
    counts = UpsertCounts()
    refusals: list[Refusal] = []
    first_rows = _FirstRows()

    def outcome(
        status: ImportStatus,
        stored: UpsertCounts,
        errors: list[FieldError] | None = None,
        warnings: list[FieldError] | None = None,
    ) -> ImportResult:
        """The import's result: the rows read and rejected so far, what ``stored`` counts."""
        return ImportResult(
            import_id,
            status.value,
            run_mode.value,
            rows_read,
            rejected,
            **asdict(stored),
            errors=errors or [],
            warnings=warnings or [],
        )

    try:
        with db.begin() as conn:
            stager = Stager(
                conn,
                area_code=actor.area_code,
                family_columns=[FIELD_BY_COLUMN[c].name for c in columns if c in FAMILY_COLUMNS],
                member_columns=[FIELD_BY_COLUMN[c].name for c in columns if c in MEMBER_COLUMNS],
                changed_by=actor.username,
                change_reason=f"impor {name}",
                import_id=import_id,
                now=now(),
            )
            for checked in _prefetched(checker.check(batch) for batch in source.batches(BATCH_ROWS)):
                rows_read += checked.rows
                rejected += checked.rejected
                if checked.errors.height:
                    error_frames.append(checked.errors)
                # Strict mode applies the good rows too (rolled back at the end when any row was bad), so that
                # its report counts what valid-only would have created and updated.
                first_rows.add(checked.valid)
                fams, mems = _families_and_members(checked.valid.drop(ROW), columns)
                counts = counts + stager.apply(fams, mems)
                refused = _refused_rows(checked.valid, stager.refused[len(refusals) :])
                refusals = list(stager.refused)
                if refused.height:
                    rejected += refused.height
                    error_frames.append(refused)
                if progress is not None:
                    progress(rows_read, source.total_rows)
            stager.close()
            errors = (
                pl.concat(error_frames).sort("row", maintain_order=True)
                if error_frames
                else pl.DataFrame(schema=ERROR_SCHEMA)
            )
            if run_mode is ImportMode.STRICT and rejected:
                raise _StrictFailure
            moves.send(conn, actor, refusals, source="impor", import_id=import_id)
            if (
                counts.families_updated or counts.members_updated
            ):  # a death, a deactivation or a move in the file
                payable.block_after_change(conn, actor, now(), everyone=True, source="impor")
            result = outcome(
                ImportStatus.DONE,
                counts,
                _field_errors(errors, ERRORS_KEPT),
                _warnings(conn, import_id, first_rows, counts),
            )
            _finish(conn, actor, result, name)
    except _StrictFailure:
        if errors_path is not None:
            write_errors(errors_path, errors)
        result = outcome(ImportStatus.REJECTED, UpsertCounts(), _field_errors(errors, ERRORS_KEPT))
        with db.begin() as conn:
            moves.send(conn, actor, refusals, source="impor", import_id=import_id)
            _finish(conn, actor, result, name)
        would_be = outcome(ImportStatus.REJECTED, counts)
        raise ImportRejected(
            f"{rejected} baris bermasalah; tidak ada data yang disimpan",
            result.errors,
            counts={k: v for k, v in would_be.as_dict().items() if k not in ("errors", "warnings")},
        ) from None
    except BaseException:
        with db.begin() as conn:
            conn.execute(
                imports.update()
                .where(imports.c.id == import_id)
                .values(status=ImportStatus.FAILED.value, finished_at=now())
            )
        raise
    if errors_path is not None:
        write_errors(errors_path, errors)
    return result
