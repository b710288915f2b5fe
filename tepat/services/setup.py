"""Preparing a database: schema migrations and the region list."""

from __future__ import annotations

from dataclasses import dataclass

from tepat.domain.access import system_actor
from tepat.files.reference import read_regions
from tepat.services.programmes import seed_catalogue
from tepat.store import regions as region_store
from tepat.store.database import Database
from tepat.store.migrate import upgrade


@dataclass(frozen=True)
class InitResult:
    regions_loaded: int
    regions_total: int
    programmes_added: tuple[str, ...] = ()


def init_database(db: Database, *, seed_programmes: bool = False) -> InitResult:
    """Create or upgrade the schema and load the Kepmendagri 2025 region codes (safe to run again).

    ``seed_programmes`` also adds the seed's programme catalogue where it is missing
    (off by default so that test databases start with an empty catalogue).
    """
    upgrade(db.engine)
    with db.begin() as conn:
        loaded = region_store.replace_all(conn, read_regions())
        total = region_store.count(conn)
    db.forget_regions()
    added: tuple[str, ...] = ()
    if seed_programmes:
        added = tuple(seed_catalogue(db, system_actor()))
    return InitResult(regions_loaded=loaded, regions_total=total, programmes_added=added)
