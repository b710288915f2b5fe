"""The national ranking of many offices' families, on Polars and on Spark (local mode), against reading the columns
once, in the same run (issue 17 point 4).

    python bench/national_rank.py --families 10000000 --offices 10

Setup (not timed): a PMT model fitted on a synthetic Susenas sample; ``--offices`` Jawa Barat kabupaten/kota
(from the shipped region list), each a snapshot of ``families / offices`` synthetic families written as
``tepat nasional snapshot`` writes them (``<office>.parquet`` with the model's features, numbers with 1 % missing,
codes with 1 % missing and 1 % levels the model never saw; ``<office>.json``). Timed:

* **baseline**: read every snapshot's columns once with Polars (``pl.read_parquet``);
* **Polars**: ``national_ranking.rank_nationally(engine="polars")``: the set's checks, the score, the exact
  national rank and desil, one folder per office written;
* **Spark, exact** and **Spark, approximate** (``approxQuantile`` cut points), local mode on every core;
  the approximate desil compared with the exact one family by family.

Prints JSON and a Markdown table, with families per second per core for each engine.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from bench_support import machine

FEATURES = [
    "jumlah_art",
    "jumlah_anak",
    "umur_kepala",
    "pendidikan_kepala",
    "ada_disabilitas",
    "jenis_lantai",
    "daya_listrik",
    "aset_mobil",
    "luas_lantai",
]
CATEGORICAL = {"pendidikan_kepala", "jenis_lantai", "daya_listrik"}
DAY = date(2026, 7, 1)


def _model():  # type: ignore[no-untyped-def]
    from tepat.domain.welfare import fit_pmt
    from tepat.files.survey_frames import read_survey_columns
    from tepat.synth import generate_survey

    path = Path("/tmp/tepat-bench-national-survey.csv")
    generate_survey(3000, 11).write_csv(path)
    columns = read_survey_columns(
        path, ["pengeluaran_per_kapita", "bobot", *FEATURES], text_columns=sorted(CATEGORICAL)
    )
    return fit_pmt(
        columns, target="pengeluaran_per_kapita", features=FEATURES, weight="bobot", categorical=CATEGORICAL
    )


def _offices(count: int) -> list[tuple[str, str]]:
    from tepat.domain.regions import Level
    from tepat.files.reference import read_regions

    found = [
        (r.code, r.name) for r in read_regions() if r.code.startswith("32.") and r.level is Level.KABKOTA
    ]
    if count > len(found):
        raise SystemExit(f"--offices: Jawa Barat has {len(found)} kabupaten/kota")
    return found[:count]


def write_snapshots(folder: Path, model, offices: list[tuple[str, str]], families: int) -> None:  # type: ignore[no-untyped-def]
    from tepat.domain.welfare import model_fingerprint
    from tepat.services.national_snapshots import Snapshot

    spec = model.as_dict()
    rng = np.random.default_rng(17)
    each = families // len(offices)
    for number, (code, name) in enumerate(offices):
        columns: dict[str, pl.Series] = {
            "office": pl.Series([code] * each, dtype=pl.String),
            "family_id": pl.Series(np.arange(1, each + 1, dtype=np.int64)),
            "family_version": pl.Series(np.ones(each, dtype=np.int64)),
        }
        for feature in model.features:
            if feature.kind == "numeric":
                values = rng.integers(0, 8 if feature.name != "luas_lantai" else 120, each).astype(np.float64)
                series = pl.Series(feature.name, values).scatter(rng.integers(0, each, each // 100), None)
            else:
                levels = np.asarray([*feature.levels, "tidak_dikenal"], dtype=object)
                picks = levels[rng.integers(0, len(levels), each)]
                series = pl.Series(feature.name, picks.tolist(), dtype=pl.String)
                series = series.scatter(rng.integers(0, each, each // 100), None)
            columns[feature.name] = series.alias(feature.name)
        pl.DataFrame(columns).write_parquet(folder / f"{code}.parquet")
        manifest = Snapshot(
            office=code,
            office_name=name,
            model_sha256=model_fingerprint(spec),
            model=spec,
            reference_date=DAY,
            families=each,
            written_at=f"bench {number}",
        )
        (folder / f"{code}.json").write_text(json.dumps(manifest.as_dict()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", type=int, default=10_000_000)
    parser.add_argument("--offices", type=int, default=10)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/tepat-bench-national"))
    parser.add_argument("--no-spark", action="store_true")
    args = parser.parse_args()
    from tepat.services import national_ranking

    shutil.rmtree(args.workdir, ignore_errors=True)
    snapshots = args.workdir / "snapshot"
    snapshots.mkdir(parents=True)
    t0 = time.perf_counter()
    model = _model()
    offices = _offices(args.offices)
    write_snapshots(snapshots, model, offices, args.families)
    setup = time.perf_counter() - t0
    paths = sorted(str(p) for p in snapshots.glob("*.parquet"))
    n = sum(pl.scan_parquet(p).select(pl.len()).collect().item() for p in paths)

    def timed(run):  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        value = run()
        return time.perf_counter() - start, value

    baseline = min(timed(lambda: pl.read_parquet(paths).height)[0] for _ in range(2))
    polars_s, polars_result = timed(
        lambda: national_ranking.rank_nationally(snapshots, args.workdir / "polars", engine="polars")
    )
    cores = os.cpu_count() or 1
    report: dict[str, object] = {
        "machine": machine(),
        "families": n,
        "offices": len(offices),
        "setup_seconds": round(setup, 1),
        "baseline_read_columns_once_s": round(baseline, 2),
        "polars_s": round(polars_s, 2),
        "polars_over_baseline": round(polars_s / baseline, 2),
        "polars_families_per_core_s": round(n / polars_s / cores),
        "decile_sizes": polars_result.decile_sizes,
    }
    if not args.no_spark:
        spark_s, _ = timed(
            lambda: national_ranking.rank_nationally(snapshots, args.workdir / "spark", engine="spark")
        )
        approx_s, approx = timed(
            lambda: national_ranking.rank_nationally(
                snapshots, args.workdir / "approx", engine="spark", approximate=True
            )
        )

        def desil(folder: Path) -> pl.DataFrame:
            return pl.read_parquet(folder / "office=*" / "*.parquet", hive_partitioning=True).select(
                "office", "family_id", "desil"
            )

        exact_polars, exact_spark, near = (desil(args.workdir / k) for k in ("polars", "spark", "approx"))
        same = exact_polars.join(exact_spark, on=["office", "family_id"], suffix="_spark")
        compared = exact_polars.join(near, on=["office", "family_id"], suffix="_approx")
        moved = compared.filter(pl.col("desil") != pl.col("desil_approx"))
        report.update(
            spark_exact_s=round(spark_s, 2),
            spark_exact_over_polars=round(spark_s / polars_s, 2),
            spark_exact_families_per_core_s=round(n / spark_s / cores),
            spark_exact_equals_polars=bool((same["desil"] == same["desil_spark"]).all()) and same.height == n,
            spark_approx_s=round(approx_s, 2),
            spark_approx_families_per_core_s=round(n / approx_s / cores),
            spark_approx_relative_error_parameter=approx.relative_error,
            spark_approx_families_in_another_desil=moved.height,
            spark_approx_share_in_another_desil=round(moved.height / n, 6),
            spark_approx_largest_desil_difference=int(
                (moved["desil"] - moved["desil_approx"]).abs().max() or 0  # type: ignore[operator]
            ),
            spark_approx_decile_sizes=approx.decile_sizes,
        )
    print(json.dumps(report, indent=2, default=str))
    print()
    print("| step | seconds | × baseline | families / s / core |")
    print("|---|---:|---:|---:|")
    print(
        f"| read the columns once (Polars, baseline) | {baseline:.2f} | 1.00 | {n / baseline / cores:,.0f} |"
    )
    print(
        f"| national ranking, Polars (exact) | {polars_s:.2f} | {polars_s / baseline:.2f} | {n / polars_s / cores:,.0f} |"
    )
    if not args.no_spark:
        print(
            f"| national ranking, Spark local (exact) | {spark_s:.2f} | {spark_s / baseline:.2f} | {n / spark_s / cores:,.0f} |"
        )
        print(
            f"| national ranking, Spark local (approxQuantile) | {approx_s:.2f} | {approx_s / baseline:.2f} | "
            f"{n / approx_s / cores:,.0f} |"
        )


if __name__ == "__main__":
    main()
