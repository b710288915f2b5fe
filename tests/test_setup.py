"""Database initialisation: migrations and the region list."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from tepat.services.setup import init_database
from tepat.store import citus, partitions
from tepat.store.schema import metadata


def test_all_kepmendagri_regions_are_loaded(db):
    assert len(db.regions) == 91599
    assert db.regions.name("32.75.01.1001") == "Bekasijaya"
    assert len([r for r in db.regions.children("32.75")]) == 12


def test_init_is_idempotent(db):
    again = init_database(db)
    assert again.regions_loaded == 0 and again.regions_total == 91599


def test_migrations_match_the_schema(db):
    """The migrated database is ``schema.py``, but for PostgreSQL's partition layout (migration 0019): the
    partitions themselves, the foreign keys PostgreSQL derives for them, and the duplicate pairs' and merges'
    single-column keys into members, which it cannot keep (docs/scaling.md)."""
    with db.engine.connect() as conn:
        partitioned = set(partitions.partitioned_tables(conn))
        children = set(
            conn.exec_driver_sql("SELECT inhrelid::regclass::text FROM pg_inherits").scalars()
            if partitioned
            else []
        )

        def layout(obj, name, type_, reflected, compare_to):
            if type_ == "table":
                return name not in children
            if type_ in ("index", "unique_constraint"):
                return obj.table.name not in children
            if type_ == "foreign_key_constraint":
                target = obj.referred_table.name
                # a pair may join two offices' people: no key into partitioned members (docs/scaling.md)
                across = obj.table.name in ("duplicate_pairs", "member_merges") and target in partitioned
                return target not in children and not across
            return True

        context = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": layout})
        diff = compare_metadata(context, metadata)
    assert diff == []
    if db.engine.dialect.name == "postgresql":
        assert partitioned == set(citus.DISTRIBUTED)  # the tables an office owns: its partitions, its shards


def test_kota_bekasi_has_56_kelurahan(db):
    from tepat.domain.regions import Level

    assert len(db.regions.descendants("32.75", Level.KELURAHAN)) == 56


def test_tepat_init_adds_the_seed_programmes_once_and_keeps_admin_edits(db) -> None:
    import json

    from typer.testing import CliRunner

    from tepat.cli import app
    from tepat.store.schema import programmes

    first = CliRunner().invoke(app, ["init", "--db", db.url, "--json"])
    assert first.exit_code == 0, first.output
    added = json.loads(first.output)["programmes_added"]
    assert "BLT-APBD" in added and len(added) == 6
    with db.begin() as conn:
        conn.execute(sa.update(programmes).where(programmes.c.code == "BLT-APBD").values(amount=300_000))
    again = CliRunner().invoke(app, ["init", "--db", db.url, "--json"])
    assert json.loads(again.output)["programmes_added"] == []
    with db.read() as conn:
        assert (
            conn.execute(sa.select(programmes.c.amount).where(programmes.c.code == "BLT-APBD")).scalar_one()
            == 300_000
        )


def test_tepat_init_says_which_migrations_it_runs_and_how_long_each_took(scratch: sa.Engine) -> None:
    """On a large registry a migration may take minutes: ``tepat init`` says which ones it will run, then each as
    it completes; with ``--json`` that goes to stderr, and stdout holds the JSON alone."""
    import json

    from typer.testing import CliRunner

    from tepat.cli import app
    from tests.migration_support import migrate

    migrate(scratch, "upgrade", "0018")
    url = scratch.url.render_as_string(hide_password=False)
    upgraded = CliRunner().invoke(app, ["init", "--db", url, "--json"])
    assert upgraded.exit_code == 0, upgraded.output
    assert json.loads(upgraded.stdout)["regions_total"] == 91599
    said = upgraded.stderr.splitlines()
    assert said[0].startswith("Memutakhirkan skema basis data: 3 migrasi (0019–0021)")
    assert said[1].startswith("  migrasi 0019 (") and said[1].endswith(" dtk")
    assert said[2].startswith("  migrasi 0020 (office keys) selesai, ")
    assert said[3].startswith("  migrasi 0021 (each office its own programme catalogue) selesai, ")
    again = CliRunner().invoke(app, ["init", "--db", url])  # nothing to migrate: nothing said of it
    assert again.exit_code == 0 and "migrasi" not in again.output
