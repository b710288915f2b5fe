"""One database: it owns every engine and pool tepat opens on it, and the region list and the office read from
it once. ``dispose()`` closes them all."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from tepat.domain.office import Office
from tepat.domain.regions import RegionIndex
from tepat.errors import ConfigError
from tepat.store.engine import READ_ONLY, create_engine, create_lookup_pool, create_read_only_engine


class Database:
    """Holds the engine; services open their own transaction with ``begin()``."""

    def __init__(self, url: str, **engine_kwargs: object) -> None:
        self.url = url
        self.engine = create_engine(url, **engine_kwargs)
        self._lookups: sa.Engine | None = None
        self._read_only: sa.Engine | None = None
        self._regions: RegionIndex | None = None
        self._office: Office | None = None

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
    def office(self) -> Office:
        """The office this database serves (``tepat init --office CODE``), read on first use."""
        if self._office is None:
            from tepat.store import offices

            with self.read() as conn:
                found = offices.current(conn)
            if found is None:
                raise ConfigError(
                    "Kantor belum dipilih: jalankan `tepat init --office KODE` dengan kode "
                    "kabupaten/kota yang dilayani (lihat docs/settings.md)."
                )
            self._office = found
        return self._office

    def forget_office(self) -> None:
        self._office = None

    def dispose(self) -> None:
        """Close every pool (buffered audit reads are written first, by the engine's dispose event)."""
        for extra in (self._lookups, self._read_only):
            if extra is not None and extra is not self.engine:
                extra.dispose()
        self._lookups = self._read_only = None
        self.engine.dispose()
