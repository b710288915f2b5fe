"""Preparing a database: schema migrations and the region list."""

from __future__ import annotations

from dataclasses import dataclass

from tepat.files.reference import read_regions
from tepat.store import regions as region_store
from tepat.store.database import Database
from tepat.store.migrate import upgrade


@dataclass(frozen=True)
class InitResult:
    regions_loaded: int
    regions_total: int


def init_database(db: Database) -> InitResult:
    """Create or upgrade the schema and load the Kepmendagri 2025 region codes (safe to run again)."""
    upgrade(db.engine)
    with db.begin() as conn:
        loaded = region_store.replace_all(conn, read_regions())
        total = region_store.count(conn)
    db.forget_regions()
    return InitResult(regions_loaded=loaded, regions_total=total)
