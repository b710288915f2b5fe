"""What every benchmark needs: a fresh, migrated database and a line describing the machine.

Benchmarks are scripts run from the repository (``python bench/NAME.py``); each puts
the repository root and ``bench/`` on ``sys.path`` and imports this module.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

from tepat.synth.geography import SYNTH_CITY


def fresh_database(url: str, office: str = SYNTH_CITY) -> str:
    """Drop and re-create the database at ``url`` (a SQLite file or a PostgreSQL database), migrate it and choose
    the ``office`` served (pages, documents and batches need one, as after ``tepat init --office``)."""
    import sqlalchemy as sa

    from tepat.services.setup import init_database
    from tepat.store.database import Database

    if url.startswith("sqlite"):
        path = Path(sa.make_url(url).database or "")
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    else:
        target = sa.make_url(url.replace("postgresql://", "postgresql+psycopg://", 1))
        admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)')
            conn.exec_driver_sql(f'CREATE DATABASE "{target.database}"')
        admin.dispose()
    db = Database(url)
    init_database(db, office=office)
    db.dispose()
    return url


def machine() -> str:
    """``x86_64, 2 CPU, Linux 6.18``: printed with every result, since absolute times depend on it."""
    return f"{platform.machine()}, {os.cpu_count()} CPU, {platform.system()} {platform.release()}"
