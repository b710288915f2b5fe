"""Shared fixtures: a fresh, initialised database per test, on SQLite or PostgreSQL.

Set ``TEPAT_TEST_DATABASE_URL`` to a PostgreSQL URL to run the suite there: the
session creates its own database next to the one named (so parallel runs do not
collide), and every test starts from empty tables (regions kept).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import settings

from tepat.domain.access import Actor, Role
from tepat.services.setup import init_database
from tepat.store.database import Database
from tepat.store.engine import create_engine as tepat_engine
from tepat.store.schema import metadata
from tepat.synth.geography import SYNTH_CITY

pytest_plugins = ["tests.browser_support"]  # the ``browser`` fixture, for the tests that drive chromium

# The machine is shared and noisy: no test fails for taking long (hypothesis's default is 200 ms per example).
settings.register_profile("tepat", deadline=None)
settings.load_profile("tepat")

PG_URL = os.environ.get("TEPAT_TEST_DATABASE_URL", "")
KEEP_TABLES = {"regions", "alembic_version", "offices"}


def _pg_admin_url(url: str) -> sa.URL:
    return sa.make_url(url.replace("postgresql://", "postgresql+psycopg://", 1))


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An initialised database for this test session (a template file on SQLite)."""
    if PG_URL:
        admin_url = _pg_admin_url(PG_URL)
        name = f"tepat_test_{uuid.uuid4().hex[:10]}"
        admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        url = admin_url.set(database=name).render_as_string(hide_password=False)
        db = Database(url)
        init_database(db, office=SYNTH_CITY)
        db.dispose()
        try:
            yield url
        finally:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.dispose()
    else:
        path = tmp_path_factory.mktemp("template") / "template.sqlite"
        db = Database(f"sqlite:///{path}")
        init_database(db, office=SYNTH_CITY)
        db.dispose()  # closing the last connection checkpoints the WAL into the file we copy
        yield f"sqlite:///{path}"


@contextmanager
def own_database_url(tmp_path: Path, prefix: str) -> Iterator[str]:
    """A new, empty database of its own (a SQLite file, or a PostgreSQL database dropped afterwards when the suite
    runs there), for tests that migrate or initialise it themselves."""
    if not PG_URL:
        yield f"sqlite:///{tmp_path / (prefix + '.sqlite')}"
        return
    admin = sa.create_engine(_pg_admin_url(PG_URL), isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield _pg_admin_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _truncate_pg(db: Database) -> None:
    names = [t.name for t in metadata.sorted_tables if t.name not in KEEP_TABLES]
    with db.begin() as conn:
        existing = set(sa.inspect(conn).get_table_names())
        names = [n for n in names if n in existing]
        if names:
            conn.exec_driver_sql(
                "TRUNCATE " + ", ".join(f'"{n}"' for n in names) + " RESTART IDENTITY CASCADE"
            )


@pytest.fixture
def db(database_url: str, tmp_path: Path) -> Iterator[Database]:
    """A fresh initialised database for one test."""
    if PG_URL:
        database = Database(database_url)
        _truncate_pg(database)
    else:
        template = Path(sa.make_url(database_url).database or "")
        path = tmp_path / "tepat.sqlite"
        shutil.copyfile(template, path)
        database = Database(f"sqlite:///{path}")
    try:
        yield database
    finally:
        database.dispose()


@pytest.fixture
def is_postgres() -> bool:
    return bool(PG_URL)


def actor(role: Role = Role.ADMIN, area_code: str = "32.75", username: str | None = None) -> Actor:
    """A plain actor for service calls (no account needed)."""
    return Actor(
        username=username or f"{role.value}-{area_code}",
        role=role,
        area_code=area_code,
        full_name=username or role.label,
    )


@pytest.fixture
def admin() -> Actor:
    return actor(Role.ADMIN, "32.75", "admin")


@pytest.fixture
def two_offices(tmp_path: Path) -> Iterator[Database]:
    """A province-style database serving Kota Bekasi and Kota Depok."""
    with own_database_url(tmp_path, "tepat_offices") as url:
        db = Database(url)
        try:
            init_database(db, office="32.75")
            init_database(db, office="32.76")
            yield db
        finally:
            db.dispose()


@pytest.fixture
def scratch(tmp_path: Path) -> Iterator[sa.Engine]:
    """An empty database of its own (SQLite file, or a PostgreSQL database made for the test), for
    migration tests (``tests.migration_support.migrate``)."""
    with own_database_url(tmp_path, "tepat_mig") as url:
        engine = tepat_engine(url)
        try:
            yield engine
        finally:
            engine.dispose()
