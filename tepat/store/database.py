"""One database: it owns every engine and pool tepat opens on it, its buffered writers (the read audit, the status
check's log), and the region list and the office read from it once. ``dispose()`` writes what is buffered and
closes them all."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from tepat.domain.office import Office, Offices
from tepat.domain.regions import RegionIndex
from tepat.errors import ConfigError
from tepat.store.buffered import BufferedWriter, WhenFull
from tepat.store.engine import READ_ONLY, create_engine, create_lookup_pool, create_read_only_engine

log = logging.getLogger("tepat.store.database")


class Database:
    """Holds the engine; services open their own transaction with ``begin()``."""

    def __init__(self, url: str, **engine_kwargs: object) -> None:
        self.url = url
        self.engine = create_engine(url, **engine_kwargs)
        self._lookups: sa.Engine | None = None
        self._read_only: sa.Engine | None = None
        self._regions: RegionIndex | None = None
        self._office: Offices | None = None
        self._writers: list[BufferedWriter] = []
        self._read_audit: BufferedWriter | None = None
        self._writers_lock = threading.Lock()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def begin(self) -> Iterator[sa.Connection]:
        """One transaction: committed when the block ends, rolled back on error."""
        with self.engine.begin() as conn:
            yield conn

    @contextmanager
    def read(self) -> Iterator[sa.Connection]:
        """A connection for reading only (on SQLite it does not queue behind writers)."""
        with self.engine.connect() as conn:
            yield conn.execution_options(**{READ_ONLY: True})

    @property
    def lookups(self) -> sa.Engine:
        """The pool of the hottest single-statement reads (``tepat.store.compiled.read_rows``): see
        ``tepat.store.engine.create_lookup_pool``."""
        if self._lookups is None:
            self._lookups = create_lookup_pool(self.engine)
        return self._lookups

    @property
    def read_only(self) -> sa.Engine:
        """The engine of the public status check: see ``tepat.store.engine.create_read_only_engine``."""
        if self._read_only is None:
            self._read_only = create_read_only_engine(self.engine)
        return self._read_only

    @property
    def regions(self) -> RegionIndex:
        """The region list, loaded from the database on first use."""
        if self._regions is None:
            from tepat.store import regions as region_store

            with self.read() as conn:
                self._regions = region_store.region_index(conn)
        return self._regions

    def forget_regions(self) -> None:
        self._regions = None

    @property
    def offices(self) -> Offices:
        """The offices this database serves (``tepat init --office CODE``, once per office), read on first use."""
        if self._office is None:
            from tepat.store import offices

            with self.read() as conn:
                found = offices.chosen(conn)
            if not found:
                raise ConfigError(
                    "Kantor belum dipilih: jalankan `tepat init --office KODE` dengan kode "
                    "kabupaten/kota yang dilayani (lihat docs/settings.md)."
                )
            self._office = Offices(tuple(found))
        return self._office

    @property
    def office(self) -> Office:
        """The office of a single-office database. A database serving several offices (a province) has no one
        office: code names the office of the area at hand (``db.offices.for_area(...)``), and this refuses."""
        offices = self.offices
        if not offices.single:
            raise ConfigError(
                "Basis data ini melayani beberapa kantor; pilih kantor menurut wilayah (db.offices.for_area)."
            )
        return offices.primary

    def forget_office(self) -> None:
        self._office = None

    @property
    def read_audit(self) -> BufferedWriter:
        """The buffered audit log of reads of personal data (``tepat.store.audit.record_read``), made on first use:
        its background thread writes the rows at most ``READ_LOG_MAX_DELAY`` seconds late; the reader never
        writes (it may hold a transaction of its own, and should not wait for the log)."""
        if self._read_audit is None:
            from tepat.store import audit

            with self._writers_lock:
                if self._read_audit is None:
                    self._read_audit = BufferedWriter(
                        self.engine,
                        audit.insert_many,
                        name="audit-reads",
                        batch=audit.READ_LOG_BATCH,
                        max_delay=audit.READ_LOG_MAX_DELAY,
                        when_full=WhenFull.LEAVE,
                    )
                    self._writers.append(self._read_audit)
        return self._read_audit

    def own(self, writer: BufferedWriter) -> BufferedWriter:
        """Take charge of a buffered writer on this database (see ``tepat.store.buffered``): ``flush`` and
        ``dispose`` write it out."""
        with self._writers_lock:
            self._writers.append(writer)
        return writer

    def ping(self) -> bool:
        """True when the database answers a trivial query now (the server's readiness)."""
        try:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
        except sa.exc.SQLAlchemyError:
            return False
        return True

    def flush(self) -> None:
        """Write every buffered row now (the web app does it when it stops)."""
        with self._writers_lock:
            writers = list(self._writers)
        for writer in writers:
            writer.flush()

    def dispose(self) -> None:
        """Write every buffered row, then close every pool."""
        with self._writers_lock:
            writers, self._writers, self._read_audit = self._writers, [], None
        for writer in writers:
            try:
                writer.close()
            except Exception:
                log.exception("%s: %d buffered rows not written", writer.name, writer.pending)
        for extra in (self._lookups, self._read_only):
            if extra is not None and extra is not self.engine:
                extra.dispose()
        self._lookups = self._read_only = None
        self.engine.dispose()
