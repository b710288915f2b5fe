"""Database initialisation: migrations and the region list."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from tepat.services.setup import init_database
from tepat.store.schema import metadata


def test_all_kepmendagri_regions_are_loaded(db):
    assert len(db.regions) == 91599
    assert db.regions.name("32.75.01.1001") == "Bekasijaya"
    assert len([r for r in db.regions.children("32.75")]) == 12


def test_init_is_idempotent(db):
    again = init_database(db)
    assert again.regions_loaded == 0 and again.regions_total == 91599


def test_migrations_match_the_schema(db):
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    assert diff == []


def test_kota_bekasi_has_56_kelurahan(db):
    from tepat.domain.regions import Level

    assert len(db.regions.descendants("32.75", Level.KELURAHAN)) == 56
