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


def load_registry(
    url: str,
    families: int,
    seed: int,
    *,
    city: str = SYNTH_CITY,
    serial_band: tuple[int, int] | None = None,
    first_id: int = 1,
) -> int:
    """A synthetic registry of ``city`` written straight into ``families`` and ``members`` (setup, not measured):
    family ids from ``first_id``, NIK serials in ``serial_band`` (offices sharing a database take disjoint bands).
    Returns the number of families written."""
    import polars as pl
    import sqlalchemy as sa

    from tepat.domain.households import ASSETS, FAMILY_FIELDS, MEMBER_FIELDS
    from tepat.synth.registry import generate_registry

    band = {} if serial_band is None else {"serial_band": serial_band}
    rows = generate_registry(families, seed, city=city, **band).members
    rows = rows.with_columns(pl.all().cast(pl.String))
    fams = rows.select([f.column for f in FAMILY_FIELDS]).unique(
        "nomor_kk", keep="first", maintain_order=True
    )
    fams = fams.with_row_index("id", offset=first_id)
    mems = rows.select(["nomor_kk"] + [f.column for f in MEMBER_FIELDS]).join(
        fams.select("id", "nomor_kk", pl.col("kode_kelurahan").str.slice(0, 5).alias("office_code")),
        on="nomor_kk",
        maintain_order="left",
    )
    bools = {c for _, c, _ in ASSETS} | {"hamil"}
    stamp = "2026-01-01 00:00:00"

    def flag(column: str) -> pl.Expr:
        return (
            pl.when(pl.col(column).is_in(["1", "true", "ya", "True"]))
            .then(1)
            .when(pl.col(column).is_in(["0", "false", "tidak", "False"]))
            .then(0)
            .otherwise(None)
        )

    versioning = [
        pl.lit(1).alias("version"),
        pl.lit(stamp).alias("valid_from"),
        pl.lit("bench").alias("changed_by"),
        pl.lit("bench").alias("change_reason"),
    ]
    f_out = fams.select(
        "id",
        *[(flag(f.column) if f.column in bools else pl.col(f.column)).alias(f.name) for f in FAMILY_FIELDS],
        pl.col("kode_kelurahan").str.slice(0, 8).alias("kecamatan_code"),
        pl.col("kode_kelurahan").str.slice(0, 5).alias("office_code"),
        *versioning,
    )
    m_out = mems.select(
        pl.col("id").alias("family_id"),
        *[(flag(f.column) if f.column in bools else pl.col(f.column)).alias(f.name) for f in MEMBER_FIELDS],
        pl.lit("aktif").alias("status"),
        "office_code",
        *versioning,
    )
    m_out = (
        m_out.with_columns(pl.col("life_status").fill_null("hidup"))
        if "life_status" in m_out.columns
        else m_out
    )
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for table, frame in (("families", f_out), ("members", m_out)):
            names = frame.columns
            if url.startswith("sqlite"):
                raw = conn.connection.driver_connection
                sql = f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
                for off in range(0, frame.height, 100_000):
                    raw.executemany(sql, frame.slice(off, 100_000).rows())
            else:
                raw = conn.connection.driver_connection
                casted = frame.with_columns(
                    [
                        pl.col(c).cast(pl.Boolean)
                        for c in names
                        if c in {n for n, _, _ in ASSETS} | {"pregnant"}
                    ]
                )
                with (
                    raw.cursor() as cur,
                    cur.copy(f"COPY {table} ({', '.join(names)}) FROM STDIN (FORMAT csv)") as copy,
                ):
                    for off in range(0, casted.height, 100_000):
                        copy.write(casted.slice(off, 100_000).write_csv(include_header=False))
                # what autovacuum would do after a bulk load: plans need statistics
                conn.exec_driver_sql(f"ANALYZE {table}")
    engine.dispose()
    return fams.height
