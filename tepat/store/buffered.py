"""Rows written in batches, a little late, by a background thread: the one buffered writer of tepat.

Two logs sit on the hottest paths and are written this way: the audit records of reads of personal data (a NIK
lookup, a family page) and the public status check's log. Writing each row in its own transaction would cost as
much as the read being logged, and on SQLite every check would queue behind the one writer. A
``BufferedWriter`` gathers rows in memory and writes them in one transaction:

* when the buffer is full (``batch`` rows): in the caller's thread (``WhenFull.WRITE``), in the caller's thread
  only if SQLite's writer lock is free right now (``WhenFull.WRITE_IF_FREE``: the web app's event loop must never
  wait for an import's lock), or by the background thread (``WhenFull.LEAVE``);
* when its oldest row is ``max_delay`` seconds old: by the background thread;
* when ``flush()`` is called, and when the ``Database`` that owns it is disposed or the process exits normally.

A failed write keeps its rows, in order, in front of the buffer for the next try. The trade-off, accepted for
logs only: a process killed outright (``SIGKILL``, power loss) loses at most the rows of its last ``max_delay``
seconds. Changes to the registry and money are never buffered. ``Database`` owns the writers (see
``Database.read_audit`` and ``Database.own``); no service starts a thread of its own.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
import weakref
from collections.abc import Callable
from enum import Enum
from typing import Any

import sqlalchemy as sa

from tepat.store.engine import write_if_free

log = logging.getLogger("tepat.store.buffered")

Row = dict[str, Any]
Write = Callable[[sa.Connection, list[Row]], None]

IDLE_SECONDS = 5.0
"""How often an idle background thread looks whether its writer is still there (it ends with it)."""


class WhenFull(Enum):
    """What ``add`` does when the buffer reaches ``batch`` rows."""

    WRITE = "write"  # write now, in the caller's thread (waiting for the database if it must)
    WRITE_IF_FREE = "write_if_free"  # write now only if the writer lock is free, else leave it to the thread
    LEAVE = "leave"  # leave it to the background thread (the caller never writes)


class BufferedWriter:
    """A buffer of rows for one table, written by ``write(conn, rows)`` in one transaction per batch."""

    def __init__(
        self,
        engine: sa.Engine,
        write: Write,
        *,
        name: str,
        batch: int = 1,
        max_delay: float = 0.5,
        when_full: WhenFull = WhenFull.WRITE,
    ) -> None:
        self.engine = engine
        self.write = write
        self.name = name
        self.batch = max(1, batch)
        self.max_delay = max_delay
        self.when_full = when_full
        self._rows: list[Row] = []
        self._oldest = 0.0  # time.monotonic() of the oldest buffered row
        self._lock = threading.Lock()  # guards the buffer; held only to append or take
        self._write_lock = threading.Lock()  # one write at a time: batches reach the table in their order
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._closed = False
        _LIVE.add(self)

    @property
    def pending(self) -> int:
        """Rows waiting to be written."""
        return len(self._rows)

    def add(self, row: Row) -> None:
        """Buffer one row; written at once, soon or by the thread, as the policy says (see the module docstring)."""
        with self._lock:
            first = not self._rows
            if first:
                self._oldest = time.monotonic()
            self._rows.append(row)
            full = len(self._rows) >= self.batch
        if full:
            if self.when_full is WhenFull.WRITE:
                self.flush()
                return
            if self.when_full is WhenFull.WRITE_IF_FREE and self._write_if_free():
                return
        if first or full:
            self._wake_thread()

    def flush(self) -> None:
        """Write every buffered row now, in the caller's thread; raises if the database refuses (rows kept)."""
        with self._write_lock:
            rows = self._take()
            if not rows:
                return
            try:
                with self.engine.begin() as conn:
                    self.write(conn, rows)
            except BaseException:
                self._put_back(rows)
                raise

    def close(self) -> None:
        """Write what is buffered and stop the thread (``Database.dispose``)."""
        self._closed = True
        self._wake.set()
        self.flush()

    # ------------------------------------------------------------------ internals

    def _take(self) -> list[Row]:
        with self._lock:
            rows, self._rows = self._rows, []
        return rows

    def _put_back(self, rows: list[Row]) -> None:
        with self._lock:
            if not self._rows:
                self._oldest = time.monotonic()
            self._rows[:0] = rows  # in front, in order

    def _write_if_free(self) -> bool:
        """Write the buffer now if nobody else is writing it and SQLite's writer lock is free; ``False`` if not
        (the rows stay for the thread). On PostgreSQL writers do not queue like that: the rows are written."""
        if not self._write_lock.acquire(blocking=False):
            return False
        try:
            rows = self._take()
            try:
                if not rows or write_if_free(self.engine, lambda conn: self.write(conn, rows)):
                    return True
            except Exception:
                log.warning(
                    "%s: writing a batch failed; the background thread retries", self.name, exc_info=True
                )
            self._put_back(rows)
            return False
        finally:
            self._write_lock.release()

    def _seconds_until_due(self) -> float | None:
        """``None`` when nothing is buffered; 0 when the buffer is full or its oldest row old enough."""
        with self._lock:
            if not self._rows:
                return None
            if len(self._rows) >= self.batch:
                return 0.0
            return max(0.0, self._oldest + self.max_delay - time.monotonic())

    def _wake_thread(self) -> None:
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=_run, args=(weakref.ref(self),), name=f"tepat-{self.name}", daemon=True
                    )
                    self._thread.start()
        if not self._wake.is_set():  # under load it is already set, and setting it again takes a lock
            self._wake.set()


def _run(ref: weakref.ref[BufferedWriter]) -> None:
    """The background thread of one writer: writes its buffer when due; ends with the writer or when closed."""
    while True:
        writer = ref()
        if writer is None or writer._closed:
            return
        wake, wait = writer._wake, writer._seconds_until_due()
        retry_after = writer.max_delay
        del writer  # hold no reference while waiting: a forgotten writer can go
        if wait is None or wait > 0:
            wake.wait(IDLE_SECONDS if wait is None else wait)
            wake.clear()
            continue  # look again: woken by a first row, a full batch, or the time has come
        writer = ref()
        if writer is None:
            return
        try:
            writer.flush()
        except Exception:
            log.warning("%s: writing a batch failed; trying again", writer.name, exc_info=True)
            del writer
            time.sleep(retry_after)
            continue
        del writer


_LIVE: weakref.WeakSet[BufferedWriter] = weakref.WeakSet()


def _flush_all_at_exit() -> None:
    for writer in list(_LIVE):
        try:
            writer.flush()
        except Exception:
            log.warning("%s: rows not written at exit", writer.name, exc_info=True)


atexit.register(_flush_all_at_exit)
