"""A province-sized slice on PostgreSQL: one office's work in a database of several offices, against the same office
in a database of its own (issue 17, "Performance").

    python bench/province_slice.py --families 600000 --offices 32.75,32.76,32.71,32.73,32.77 \\
        --db postgresql+psycopg://postgres@127.0.0.1:5432/bench_province \\
        --single postgresql+psycopg://postgres@127.0.0.1:5432/bench_single

Setup (not timed): both databases fresh. The province database serves every office of ``--offices``, each a
synthetic registry of ``--families`` families (``bench_support.load_registry``: disjoint family ids and NIK serial
bands, as ``tepat synth --offices``); the single database serves the first office alone, with the same registry
(same seed, same band). On each: every family verified, a PMT fitted on a synthetic survey and every family ranked,
the seed catalogue with BLT-APBD's rule ``status == "aktif"`` (no desil, so that both databases choose the same
families of the first office) and no budget cap.

Measured in one process, the two databases in turn, each figure the best of ``--rounds``:

* **NIK lookup**: ``registry_reads.find_by_nik`` of ``--samples`` random active NIKs of the first office, by its
  own admin;
* **cycle generation**: ``cycles.create_cycle`` + ``cycles.generate`` of a BLT-APBD cycle of the first office (its
  whole area), the same number of entitlements in both databases (checked).

Target (issue 17): the province database within 1.2× of the single one for both. Prints JSON and a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from bench_support import fresh_database, load_registry, machine
from targeting_registry import CATEGORICAL, FEATURES

RULE = 'status == "aktif"'
PERIOD = (date(2026, 7, 1), date(2026, 7, 31))
DAY = date(2026, 7, 1)
SERIAL_SPAN = 9_998  # NIK serials 0001–9999, split into one band per office (as ``tepat synth --offices``)


def _progress(message: str) -> None:
    """A line on stderr: the setup takes minutes at province size, the JSON on stdout stays clean."""
    print(message, file=sys.stderr, flush=True)


def _since(started: float) -> str:
    return f"{time.perf_counter() - started:.0f} s"


def build(
    url: str, offices: list[str], families: int, seed: int, survey: Path, step: int
) -> dict[str, float]:
    """A fresh database serving ``offices``, each with its synthetic registry (NIK serials in bands of ``step``, the
    i-th office in the i-th: the same people whichever database holds them), ranked, with the catalogue."""
    from tepat.domain.access import Actor, Role
    from tepat.domain.welfare import fit_pmt
    from tepat.files.survey_frames import read_survey_columns
    from tepat.services import programmes, registry_ranking, targeting
    from tepat.services.setup import init_database
    from tepat.store.database import Database
    from tepat.store.schema import families as families_t

    started = time.perf_counter()
    fresh_database(url, office=offices[0])
    db = Database(url)
    for code in offices[1:]:
        init_database(db, office=code)
    db.dispose()
    first_id = 1
    for i, code in enumerate(offices):
        band = (1 + i * step, 1 + (i + 1) * step)
        first_id += load_registry(url, families, seed + i, city=code, serial_band=band, first_id=first_id)
        _progress(
            f"{url.rsplit('/', 1)[-1]}: office {code} loaded ({i + 1}/{len(offices)}), {_since(started)}"
        )
    loaded = time.perf_counter() - started
    started = time.perf_counter()
    db = Database(url)
    everyone = Actor("analis", Role.ADMIN, "", "Analis")
    with db.begin() as conn:
        conn.execute(families_t.update().values(verification_status="terverifikasi"))
    columns = read_survey_columns(
        survey, ["pengeluaran_per_kapita", "bobot", *FEATURES], text_columns=sorted(CATEGORICAL)
    )
    model = fit_pmt(
        columns, target="pengeluaran_per_kapita", features=FEATURES, weight="bobot", categorical=CATEGORICAL
    )
    model_id = targeting.save_model(db, everyone, model, source=survey, name="bench")
    _progress(f"{url.rsplit('/', 1)[-1]}: ranking {first_id - 1:,} families …")
    registry_ranking.rank_registry(db, everyone, model_id, reference_date=DAY)
    first = offices[0]  # the office whose cycle is measured: its own catalogue
    programmes.seed_catalogue(db, everyone, office=first)
    prog = programmes.get_programme(db, everyone, "BLT-APBD", office=first)
    programmes.update_programme(
        db, everyone, "BLT-APBD", prog["version"], {"rule": RULE, "annual_budget": None}, office=first
    )
    if db.dialect == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")  # what autovacuum does after a bulk load
    db.dispose()
    return {"load_s": round(loaded, 1), "rank_s": round(time.perf_counter() - started, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--families", type=int, default=600_000, help="families per office")
    parser.add_argument("--offices", default="32.75,32.76,32.71,32.73,32.77", help="the first is measured")
    parser.add_argument("--db", required=True, help="the province database (PostgreSQL URL)")
    parser.add_argument("--single", required=True, help="the first office's own database (PostgreSQL URL)")
    parser.add_argument("--samples", type=int, default=2_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/tepat-bench-province"))
    parser.add_argument("--keep-db", action="store_true", help="reuse the databases an earlier run built")
    opts = parser.parse_args()
    opts.workdir.mkdir(parents=True, exist_ok=True)
    offices = [c.strip() for c in opts.offices.split(",") if c.strip()]

    import sqlalchemy as sa

    from tepat.domain.access import Actor, Role
    from tepat.services import cycles, registry_reads
    from tepat.store.database import Database
    from tepat.store.schema import benefit_cycles, entitlements, families, members
    from tepat.synth import generate_survey

    report: dict[str, object] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "python": platform.python_version(),
        "offices": offices,
        "families_per_office": opts.families,
    }
    survey = opts.workdir / "survei.csv"
    generate_survey(5_000, opts.seed).write_csv(survey)
    if not opts.keep_db:
        step = SERIAL_SPAN // len(offices)
        report["province_setup"] = build(opts.db, offices, opts.families, opts.seed, survey, step)
        report["single_setup"] = build(opts.single, offices[:1], opts.families, opts.seed, survey, step)
    office = offices[0]
    admin = Actor("admin", Role.ADMIN, office, "Admin")
    dbs = {"province": Database(opts.db), "single": Database(opts.single)}
    sizes = {}
    for name, db in dbs.items():
        with db.read() as conn:
            sizes[name] = {
                "families": conn.execute(sa.select(sa.func.count()).select_from(families)).scalar_one(),
                "people": conn.execute(sa.select(sa.func.count()).select_from(members)).scalar_one(),
            }
        _ = db.regions
    report["sizes"] = sizes
    with dbs["single"].read() as conn:
        niks = list(conn.execute(sa.select(members.c.nik).where(members.c.status == "aktif")).scalars())
    picks = random.Random(opts.seed).sample(niks, min(opts.samples, len(niks)))

    def lookups(db: Database) -> float:
        started = time.perf_counter()
        for nik in picks:
            if not registry_reads.find_by_nik(db, admin, nik):
                raise SystemExit(f"NIK {nik} not found")  # the same people in both databases
        return time.perf_counter() - started

    def generation(db: Database, round_: int) -> tuple[float, int]:
        with db.begin() as conn:  # each round starts from no cycle (not timed)
            conn.execute(entitlements.delete())
            conn.execute(benefit_cycles.delete())
        started = time.perf_counter()
        cycle_id = cycles.create_cycle(
            db,
            admin,
            "BLT-APBD",
            name=f"BLT-APBD Juli 2026 ({round_})",
            period_start=PERIOD[0],
            period_end=PERIOD[1],
            area_code=office,
        )
        made = cycles.generate(db, admin, cycle_id)
        return time.perf_counter() - started, int(made["entitlements"])

    for db in dbs.values():
        lookups(db)  # warm the pools, statement caches and page caches
    best: dict[str, dict[str, float]] = {
        name: {"lookup": float("inf"), "generate": float("inf")} for name in dbs
    }
    counts: dict[str, int] = {}
    load = []
    for round_ in range(opts.rounds + 1):  # round 0 warms up and is not reported
        _progress(f"round {round_} of {opts.rounds} (0: warm-up)")
        load.append(round(os.getloadavg()[0], 1))
        for name, db in dbs.items():
            looked = lookups(db)
            generated, counts[name] = generation(db, round_)
            if round_:
                best[name]["lookup"] = min(best[name]["lookup"], looked)
                best[name]["generate"] = min(best[name]["generate"], generated)
    for db in dbs.values():
        db.dispose()
    if counts["province"] != counts["single"]:
        raise SystemExit(f"the cycles differ: {counts}")
    ratio = {k: round(best["province"][k] / best["single"][k], 2) for k in ("lookup", "generate")}
    report.update(
        {
            "entitlements": counts["single"],
            "lookup_ms": {k: round(v["lookup"] / len(picks) * 1000, 3) for k, v in best.items()},
            "generate_s": {k: round(v["generate"], 2) for k, v in best.items()},
            "ratio_province_to_single": ratio,
            "target_ratio": 1.2,
            "load_average": load,
        }
    )
    print(json.dumps(report, indent=2))
    print()
    print("| step | province s | single office s | province ÷ single (target ≤ 1.2×) |")
    print("|---|---:|---:|---:|")
    print(
        f"| {len(picks):,} NIK lookups of office {office} | {best['province']['lookup']:.2f} | "
        f"{best['single']['lookup']:.2f} | **{ratio['lookup']:.2f}** |"
    )
    print(
        f"| generating office {office}'s cycle of {counts['single']:,} entitlements | "
        f"{best['province']['generate']:.2f} | {best['single']['generate']:.2f} | **{ratio['generate']:.2f}** |"
    )


if __name__ == "__main__":
    main()
