"""One database: its engine, and the region list and the office read from it once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from tepat.domain.office import Office
from tepat.domain.regions import RegionIndex
from tepat.errors import ConfigError
from tepat.store.engine import READ_ONLY, create_engine


class Database:
    """Holds the engine; services open their own transaction with ``begin()``."""

    def __init__(self, url: str, **engine_kwargs: object) -> None:
        self.url = url
        self.engine = create_engine(url, **engine_kwargs)
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
        self.engine.dispose()
