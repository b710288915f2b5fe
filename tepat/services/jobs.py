"""Background jobs: an import or an export started from a page runs in a worker thread of the process that
received it, while the page shows its progress (from the ``jobs`` table, so any worker process can show it).

Jobs run in two lanes per process, each one job at a time in arrival order: ``berkas`` (imports and exports:
imports write a lot, and on SQLite there is one writer anyway) and ``dokumen`` (printed documents, which only
read and audit, so a Daftar Nominatif never waits for an hour-long import). An import is one transaction: a
process that dies in the middle leaves the registry as it was.

Progress is kept in the runner's memory and, on PostgreSQL, written to the job's row with a heartbeat every few
seconds, so any worker process (or machine) shows it, and a row whose heartbeat stopped is shown as stopped. On
SQLite the import holds the only write lock until it commits, so the row is written when the job starts and
ends; the worker running it shows the live count, and a job left unfinished by a process that died is marked
stopped when the next process starts its runner. Results are kept ``retention_days`` (they may list rows with
personal data), then forgotten with the files the job wrote.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from tepat.domain.access import Actor, Permission
from tepat.domain.audit_actions import AuditAction
from tepat.domain.jobs import JobState
from tepat.errors import NotFound, TepatError
from tepat.store import audit
from tepat.store import jobs as job_store
from tepat.store.database import Database
from tepat.store.engine import as_utc, now

log = logging.getLogger("tepat.jobs")
HEARTBEAT_SECONDS = 5.0
STALE_AFTER = timedelta(minutes=2)  # no heartbeat for this long: the process running it is gone
PROGRESS_EVERY_SECONDS = 1.0

Progress = Callable[[int, int | None], None]
Work = Callable[[Progress], dict[str, Any]]


class JobFailed(TepatError):
    """Work that failed with a message for the user and, optionally, a result to show (an import's bad rows)."""

    def __init__(self, message: str, result: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.result = result


@dataclass(frozen=True)
class JobView:
    """A job as its page shows it."""

    id: int
    kind: str
    file_name: str
    state: str  # a JobState
    done: int
    total: int | None
    result: dict[str, Any] | None
    message: str
    created_at: datetime | None
    finished_at: datetime | None

    @property
    def running(self) -> bool:
        return JobState(self.state).unfinished

    @property
    def percent(self) -> int | None:
        if not self.total:
            return None
        return min(100, round(100 * self.done / self.total))


LANES = ("berkas", "dokumen")
"""Imports and exports; printed documents (see the module docstring)."""

STOPPED = "Proses server berhenti sebelum pekerjaan ini selesai; tidak ada yang tersimpan dari pekerjaan ini. Jalankan lagi."


def _view(row: dict[str, Any], at: datetime, runner: JobRunner | None) -> JobView:
    state, message = row["state"], row["message"] or ""
    done, total = int(row["done"] or 0), row["total"]
    live = runner.live_progress(row["id"]) if runner is not None else None
    if live is not None:
        done, total = live
    elif JobState(state).unfinished and _concurrent_writes(runner):
        beat = as_utc(row["heartbeat_at"]) or as_utc(row["created_at"])
        if beat is not None and at - beat > STALE_AFTER:
            state, message = JobState.TERHENTI.value, STOPPED
    return JobView(
        id=row["id"],
        kind=row["kind"],
        file_name=row["file_name"],
        state=state,
        done=done,
        total=total,
        result=row["result"],
        message=message,
        created_at=as_utc(row["created_at"]),
        finished_at=as_utc(row["finished_at"]),
    )


def _concurrent_writes(runner: JobRunner | None) -> bool:
    return runner is not None and runner.concurrent_writes


def show(db: Database, actor: Actor, job_id: int, runner: JobRunner | None = None) -> JobView:
    """A job for its owner (or an admin whose area holds it); 404 for anyone else, as for a missing one."""
    with db.read() as conn:
        row = job_store.get(conn, job_id)
    mine = row is not None and row["created_by"] == actor.username
    if row is None or not (mine or actor.may(Permission.OVERSEE, row["area_code"])):
        raise NotFound("Pekerjaan tidak ditemukan.")
    return _view(row, now(), runner)


def record_download(
    db: Database, actor: Actor, job_id: int, file_name: str, action: AuditAction = AuditAction.EXPORT_DOWNLOAD
) -> None:
    """Audit one download of a job's file (an export or a Daftar Nominatif holds personal data)."""
    with db.begin() as conn:
        audit.record(
            conn, actor, action, "job", job_id, area_code=actor.area_code, detail={"file": file_name}
        )


def recent(db: Database, actor: Actor, kind: str, runner: JobRunner | None = None) -> list[JobView]:
    """The actor's latest jobs of one kind."""
    at = now()
    with db.read() as conn:
        return [_view(r, at, runner) for r in job_store.recent_of(conn, actor.username, kind)]


class JobRunner:
    """Runs jobs in one background thread per process; ``submit`` returns at once with the job's id."""

    def __init__(self, db: Database, *, files_dir: Path | None = None, retention_days: int = 30) -> None:
        self.db = db
        self.files_dir = files_dir
        self.retention_days = retention_days
        # PostgreSQL takes progress writes beside a running import; SQLite has one writer (the import itself).
        self.concurrent_writes = db.engine.dialect.name != "sqlite"
        self._live: dict[int, tuple[int, int | None]] = {}
        self._live_lock = threading.Lock()
        self._started = now()
        self._lanes = {
            lane: ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"tepat-{lane}") for lane in LANES
        }
        if not self.concurrent_writes:
            self._lanes["berkas"].submit(
                self._mark_abandoned
            )  # in a job thread: a busy database never holds up a page

    def _mark_abandoned(self) -> None:
        """Jobs another process left unfinished (it died): stopped. On SQLite only; see the module docstring."""
        try:
            with self.db.begin() as conn:
                # Only jobs older than this runner: its own (in another lane) may already be queued.
                job_store.stop_unfinished(conn, STOPPED, now(), created_before=self._started)
        except Exception:  # noqa: BLE001 -- another process is writing (an import): its jobs are alive; retry later
            log.info("unfinished jobs not checked: the database is busy")

    def live_progress(self, job_id: int) -> tuple[int, int | None] | None:
        """(done, total) of a job running in this process, or ``None``."""
        with self._live_lock:
            return self._live.get(job_id)

    def submit(
        self,
        actor: Actor,
        kind: str,
        file_name: str,
        work: Work,
        cleanup: Callable[[], None] | None = None,
        *,
        lane: str = "berkas",
    ) -> int:
        """Queue ``work`` (given a progress callback; returns the result to show) in ``lane``. ``cleanup`` runs
        after it, whatever happened (e.g. deleting the uploaded file)."""
        if lane not in self._lanes:
            raise ValueError(f"unknown job lane {lane!r}")
        with self.db.begin() as conn:
            job_id = job_store.insert(
                conn,
                kind=kind,
                created_by=actor.username,
                area_code=actor.area_code,
                file_name=file_name,
                at=now(),
            )
        self._lanes[lane].submit(self._run, job_id, work, cleanup)
        return job_id

    def _run(self, job_id: int, work: Work, cleanup: Callable[[], None] | None) -> None:
        stop = threading.Event()
        try:
            self._sweep()
            with self.db.begin() as conn:
                job_store.start(conn, job_id, now())
            with self._live_lock:
                self._live[job_id] = (0, None)
            if self.concurrent_writes:
                threading.Thread(target=self._heartbeat, args=(job_id, stop), daemon=True).start()
            state, result, message = JobState.SELESAI.value, None, None
            try:
                result = work(self._progress(job_id))
            except JobFailed as exc:
                state, result, message = JobState.GAGAL.value, exc.result, exc.message
            except TepatError as exc:
                state, message = JobState.GAGAL.value, exc.message
            except Exception:  # a bug: the user gets a plain message, the log the details
                log.exception("job %s failed", job_id)
                state, message = (
                    JobState.GAGAL.value,
                    "Terjadi kesalahan pada sistem; tidak ada yang tersimpan. Hubungi admin Dinsos.",
                )
            stop.set()
            with self.db.begin() as conn:
                job_store.finish(conn, job_id, state=state, result=result, message=message, at=now())
        finally:
            stop.set()
            with self._live_lock:
                self._live.pop(job_id, None)
            if cleanup is not None:
                cleanup()

    def _sweep(self) -> None:
        try:
            forget_old(self.db, self.retention_days, self.files_dir)
        except Exception:
            log.exception("retention sweep failed")

    def _progress(self, job_id: int) -> Progress:
        last = [0.0]

        def report(done: int, total: int | None) -> None:
            with self._live_lock:
                self._live[job_id] = (done, total)
            moment = time.monotonic()
            if not self.concurrent_writes or moment - last[0] < PROGRESS_EVERY_SECONDS:
                return
            last[0] = moment
            with self.db.begin() as conn:
                job_store.progress(conn, job_id, done, total, now())

        return report

    def _heartbeat(self, job_id: int, stop: threading.Event) -> None:
        while not stop.wait(HEARTBEAT_SECONDS):
            try:
                with self.db.begin() as conn:
                    job_store.heartbeat(conn, job_id, now())
            except Exception:  # noqa: BLE001 -- a missed heartbeat only makes the page wait; the next one retries
                log.warning("heartbeat of job %s not written", job_id)

    def wait_idle(self, timeout: float = 60.0) -> None:
        """Block until every job submitted so far has finished (tests, and shutdown)."""
        for pool in self._lanes.values():
            pool.submit(lambda: None).result(timeout)

    def shutdown(self) -> None:
        for pool in self._lanes.values():
            pool.shutdown(wait=True)


RETAINED_FILES = ("*-galat.csv", "ekspor/*", "dokumen/*", "tautan/*")
"""Files jobs leave in the upload directory: import error reports, export files, printed documents, outside lists
linked to the registry and their results."""


def forget_old(db: Database, retention_days: int, files_dir: Path | None = None) -> int:
    """Forget the results of jobs finished more than ``retention_days`` ago, and delete the files jobs left in
    ``files_dir`` (error reports, exports) older than that; returns how many results and files."""
    cutoff = now() - timedelta(days=retention_days)
    with db.begin() as conn:
        forgotten = job_store.forget_results_before(conn, cutoff)
    if files_dir is not None:
        for pattern in RETAINED_FILES:
            for path in files_dir.glob(pattern):
                if path.is_file() and path.stat().st_mtime < cutoff.timestamp():
                    path.unlink(missing_ok=True)
                    forgotten += 1
    return forgotten
