"""Bringing a database's schema up to date with Alembic."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply every migration up to ``revision`` (idempotent)."""
    run(engine, "upgrade", revision)


def run(engine: Engine, how: str, revision: str) -> None:
    """``upgrade`` or ``downgrade`` to ``revision``, in one transaction: a run that fails changes nothing.

    On SQLite, foreign keys are off while it runs (set before the transaction begins: SQLite ignores the setting
    inside one), as Alembic's batch mode needs: it rebuilds a table by copying it and dropping the original, which
    other tables' keys name. Before the commit every key is checked (``PRAGMA foreign_key_check``).
    """
    cfg = alembic_config(engine)
    with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        driver = conn.connection.driver_connection
        if sqlite:
            driver.execute("PRAGMA foreign_keys = OFF")  # type: ignore[union-attr]
        try:
            with conn.begin():
                cfg.attributes["connection"] = conn
                getattr(command, how)(cfg, revision)
                broken = conn.exec_driver_sql("PRAGMA foreign_key_check").all() if sqlite else []
                if broken:
                    table, row, parent, _ = broken[0]
                    raise IntegrityError(
                        "PRAGMA foreign_key_check",
                        None,
                        ValueError(
                            f"{len(broken)} rujukan putus setelah migrasi, mis. {table} baris {row} → {parent}"
                        ),
                    )
        finally:
            if sqlite:
                driver.execute("PRAGMA foreign_keys = ON")  # type: ignore[union-attr]


def revision(engine: Engine, message: str) -> None:
    """Autogenerate a new migration from the difference between ``schema.py`` and the database (developers only)."""
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.revision(cfg, message=message, autogenerate=True)
