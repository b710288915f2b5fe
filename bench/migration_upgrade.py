"""How long an office waits when ``tepat init`` upgrades a populated database: migrations 0019–0020 (the office
columns, keys and, on PostgreSQL, partitions) on a city's registry, against copying the database once.

    python bench/migration_upgrade.py --families 750000 --db sqlite:////tmp/tepat-bench-upgrade.db

Setup (not timed): a fresh database with a synthetic registry of ``--families`` families
(``bench_support.load_registry``), every family ranked by a PMT fitted on a synthetic survey, then migrated down to
0018 (the schema an office had before issue 17). Measured: ``tepat.store.migrate.upgrade`` to the head, with the time
of each migration as ``tepat init`` prints it, and beside it the baseline — a copy of the same database (``VACUUM
INTO`` a new file on SQLite; ``CREATE DATABASE … TEMPLATE`` on PostgreSQL), every page written once. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import platform
import sqlite3
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from bench_support import fresh_database, load_registry, machine
from targeting_registry import CATEGORICAL, FEATURES

BEFORE = "0018"


def _ranked(url: str, survey: Path) -> None:
    from tepat.domain.access import Actor, Role
    from tepat.domain.welfare import fit_pmt
    from tepat.files.survey_frames import read_survey_columns
    from tepat.services import registry_ranking, targeting
    from tepat.store.database import Database

    db = Database(url)
    everyone = Actor("analis", Role.ADMIN, "", "Analis")
    columns = read_survey_columns(
        survey, ["pengeluaran_per_kapita", "bobot", *FEATURES], text_columns=sorted(CATEGORICAL)
    )
    model = fit_pmt(
        columns, target="pengeluaran_per_kapita", features=FEATURES, weight="bobot", categorical=CATEGORICAL
    )
    model_id = targeting.save_model(db, everyone, model, source=survey, name="bench")
    registry_ranking.rank_registry(db, everyone, model_id, reference_date=date(2026, 7, 1))
    db.dispose()


def _copy_seconds(url: str, workdir: Path) -> float:
    """Every page of the database written once: the yardstick a migration that rebuilds tables is read against."""
    import sqlalchemy as sa

    started = time.perf_counter()
    if url.startswith("sqlite"):
        target = workdir / "salinan.db"
        target.unlink(missing_ok=True)
        source = sqlite3.connect(sa.make_url(url).database or "")
        source.execute(f"VACUUM INTO '{target}'")
        source.close()
        took = time.perf_counter() - started
        target.unlink()
        return took
    source = sa.make_url(url)
    admin = sa.create_engine(source.set(database="postgres"), isolation_level="AUTOCOMMIT")
    copy = f"{source.database}_salinan"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{copy}"')
        started = time.perf_counter()
        conn.exec_driver_sql(f'CREATE DATABASE "{copy}" TEMPLATE "{source.database}"')
        took = time.perf_counter() - started
        conn.exec_driver_sql(f'DROP DATABASE "{copy}"')
    admin.dispose()
    return took


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--families", type=int, default=750_000)
    parser.add_argument("--db", required=True, help="a SQLite file URL or a PostgreSQL database URL")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/tepat-bench-upgrade"))
    opts = parser.parse_args()
    opts.workdir.mkdir(parents=True, exist_ok=True)

    import sqlalchemy as sa

    from tepat.store.engine import create_engine as tepat_engine
    from tepat.store.migrate import run, upgrade
    from tepat.synth import generate_survey

    survey = opts.workdir / "survei.csv"
    generate_survey(5_000, opts.seed).write_csv(survey)
    fresh_database(opts.db)
    load_registry(opts.db, opts.families, opts.seed)
    _ranked(opts.db, survey)
    engine = tepat_engine(opts.db)
    started = time.perf_counter()
    run(engine, "downgrade", BEFORE)
    down = time.perf_counter() - started
    with engine.connect() as conn:
        people = conn.execute(sa.text("SELECT count(*) FROM members")).scalar_one()
        families = conn.execute(sa.text("SELECT count(*) FROM families")).scalar_one()
    engine.dispose()
    baseline = _copy_seconds(opts.db, opts.workdir)

    said: list[str] = []
    engine = tepat_engine(opts.db)
    started = time.perf_counter()
    upgrade(engine, progress=said.append)
    took = time.perf_counter() - started
    engine.dispose()
    print("\n".join(said), file=sys.stderr)
    report = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "python": platform.python_version(),
        "database": opts.db.split(":", 1)[0],
        "families": families,
        "people": people,
        "downgrade_to_0018_s": round(down, 1),
        "copy_s": round(baseline, 1),
        "upgrade_s": round(took, 1),
        "upgrade_steps": said[1:],
        "ratio_upgrade_to_copy": round(took / baseline, 2),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
