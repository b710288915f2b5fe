"""Bringing a database's schema up to date with Alembic."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

Progress = Callable[[str], None]
"""Where a long run says what it is doing (``tepat init`` prints it): one line at a time."""

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head", *, progress: Progress | None = None) -> None:
    """Apply every migration up to ``revision`` (idempotent); ``progress`` hears which ones, and each one's time
    as it completes (on a large registry one may take minutes)."""
    run(engine, "upgrade", revision, progress=progress)


def pending(engine: Engine, revision: str = "head") -> list[tuple[str, str]]:
    """The migrations an upgrade to ``revision`` would apply, oldest first: (revision, its title)."""
    script = ScriptDirectory.from_config(alembic_config(engine))
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_heads()
    steps = script.iterate_revisions(revision, current or "base")
    return [(step.revision, _title(step.doc)) for step in reversed(list(steps))]


def _title(doc: str | None) -> str:
    """A migration's title: its docstring's first clause (``office keys``)."""
    return (doc or "").split(":", 1)[0].strip()


def _reporter(progress: Progress) -> Callable[..., None]:
    """Alembic's ``on_version_apply`` hook (called as each migration completes), saying so with its time."""
    started = [time.perf_counter()]

    def applied(*, step: Any, **_: Any) -> None:
        now = time.perf_counter()
        progress(
            f"  migrasi {step.up_revision_id} ({_title(step.up_revision.doc)}) selesai, {now - started[0]:.1f} dtk"
        )
        started[0] = now

    return applied


def run(engine: Engine, how: str, revision: str, *, progress: Progress | None = None) -> None:
    """``upgrade`` or ``downgrade`` to ``revision``, in one transaction: a run that fails changes nothing.

    On SQLite, foreign keys are off while it runs (set before the transaction begins: SQLite ignores the setting
    inside one), as Alembic's batch mode needs: it rebuilds a table by copying it and dropping the original, which
    other tables' keys name. Before the commit every key is checked (``PRAGMA foreign_key_check``).
    """
    cfg = alembic_config(engine)
    if progress is not None and how == "upgrade":
        steps = pending(engine, revision)
        if steps:
            progress(
                f"Memutakhirkan skema basis data: {len(steps)} migrasi ({steps[0][0]}–{steps[-1][0]}); pada "
                "registri besar bisa beberapa menit, dan bila terhenti tidak ada yang berubah."
            )
            cfg.attributes["on_version_apply"] = _reporter(progress)
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
