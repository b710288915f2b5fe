"""``tepat dedup`` over a whole synthetic city with planted duplicates: recall per kind of error, precision, time
and memory, beside plain Splink with the same comparisons and blocking rules in the same run.

    python bench/linkage_city.py --families 750000     # ~2.5 million people, 1 % planted a second time
    python bench/linkage_city.py --families 20000      # a quick look

1. ``tepat synth --duplicates RATE --format parquet`` writes the city and the truth (not timed);
2. ``tepat dedup registry.parquet --id nik --out pairs.csv --json`` runs end to end in its own process (reading
   and checking the file, normalising names, training: prior, u, EM; scoring; clustering; writing), timed, with
   that process's peak memory (``ru_maxrss``);
3. plain Splink in this process on the same records already prepared (the same ``SettingsCreator``: the same
   comparisons and blocking rules), only u by random sampling and the prediction: the least any Splink run with
   these rules does.

Targets (issue 15): end to end within 2× plain Splink, under 10 minutes on this 2-core machine, peak memory
under 8 GB; recall and precision reported per kind (``tepat.synth.duplicates.KINDS``).
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _tepat(*args: str) -> str:
    tepat = Path(sys.executable).parent / "tepat"
    done = subprocess.run([str(tepat), *args], check=True, cwd=ROOT, capture_output=True, text=True)
    return done.stdout


def _plain_splink(registry: Path) -> tuple[float, int]:
    from splink import Linker

    from tepat.files.person_lists import load_link_mapping, read_person_list
    from tepat.services import record_linkage as rl

    frame = rl.prepared(read_person_list(registry, "nik", load_link_mapping(None)).frame)
    fields = set(frame.columns) - {rl.ID}
    started = time.perf_counter()
    with rl._engine("duckdb", None) as table:  # the same memory limit and spill directory as tepat's run
        linker = Linker(
            table(frame), rl._settings(fields, "dedupe_only", rl._dukcapil([frame])), log_level=logging.ERROR
        )
        linker.training.estimate_u_using_random_sampling(max_pairs=rl.U_PAIRS, seed=rl.SEED)
        predicted = linker.inference.predict(threshold_match_probability=rl.DEFAULT_THRESHOLD)
        count = int(predicted.as_duckdbpyrelation().count("*").fetchall()[0][0])
    return time.perf_counter() - started, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", type=int, default=20_000)
    parser.add_argument("--rate", type=float, default=0.01)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="tepat-linkage-city-"))
    work.mkdir(parents=True, exist_ok=True)
    registry, truth_path, pairs_path = work / "registry.parquet", work / "duplicates.csv", work / "pairs.csv"
    if not registry.exists():
        _tepat(
            "synth", "--out", str(work), "--families", str(args.families), "--duplicates", str(args.rate),
            "--format", "parquet", "--survey-households", "20",
        )  # fmt: skip
    started = time.perf_counter()
    summary = json.loads(_tepat("dedup", str(registry), "--id", "nik", "--out", str(pairs_path), "--json"))
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    ids = {"nik": pl.String, "nik_duplikat": pl.String}
    truth = pl.read_csv(truth_path, schema_overrides=ids).with_columns(
        id_a=pl.min_horizontal("nik", "nik_duplikat"), id_b=pl.max_horizontal("nik", "nik_duplikat")
    )
    found = pl.read_csv(pairs_path, schema_overrides={"id_a": pl.String, "id_b": pl.String})
    hit = truth.join(found, on=["id_a", "id_b"], how="left").with_columns(pl.col("probability").is_not_null())
    per_kind = {
        kind: {"planted": n, "recall": round(r, 4)}
        for kind, n, r in hit.group_by("jenis")
        .agg(pl.len(), pl.col("probability").mean())
        .sort("jenis")
        .iter_rows()
    }
    true_pairs = hit.filter(pl.col("probability")).height
    plain_seconds, plain_pairs = _plain_splink(registry)
    print(
        json.dumps(
            {
                "people": summary["records"],
                "candidate_pairs": summary["candidate_pairs"],
                "pairs_written": found.height,
                "planted": truth.height,
                "recall": round(true_pairs / truth.height, 4),
                "precision": round(true_pairs / max(found.height, 1), 4),
                "per_kind": per_kind,
                "tepat_seconds": round(seconds, 1),
                "tepat_peak_mb": round(peak_mb),
                "plain_splink_seconds": round(plain_seconds, 1),
                "plain_splink_pairs": plain_pairs,
                "ratio": round(seconds / plain_seconds, 2),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
