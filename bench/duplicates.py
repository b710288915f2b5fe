"""The duplicate search at city scale: Splink's fit and prediction against the blocked pair join alone.

    python bench/duplicates.py --families 100000          # about 330,000 members
    python bench/duplicates.py --families 250000 --seed 3

The synthetic registry (``tepat.synth``) is clean: every NIK is distinct. The
bench registers ``--duplicates`` of its people a second time, as offices do:
in another KK of the same kecamatan, two neighbouring serial digits of the NIK
swapped, and half of them with the name written another way (a title added,
"Muhammad" shortened, the old spelling). Then, in one process:

* **baseline**: DuckDB's count of the candidate pairs the search's blocking
  rules produce (the same four rules as one self-join each, the same frame
  registered the same way), the least any search comparing those pairs must do;
* **search**: ``tepat.services.duplicates._fit_and_predict`` (prior, u by random
  sampling, m by EM, and the prediction above the threshold), the whole
  unsupervised pipeline as the service runs it;
* **recall** of the planted pairs and the number of other pairs found (which,
  in a registry with distinct people, are false positives, or twins).

Prints JSON and a Markdown row. Not a test: the machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from bench_support import machine

VARIANTS = (("MUHAMMAD ", "MOH. "), ("SITI ", "HJ. SITI "), ("U", "OE"), ("Y", "J"))


def _records(families: int, duplicates: int, seed: int):
    import polars as pl

    from tepat.synth.registry import generate_registry

    people = generate_registry(families, seed).members.select(
        pl.int_range(1, pl.len() + 1).alias("unique_id"),
        pl.lit(1).alias("version"),
        "nik",
        pl.col("nama").alias("name"),
        pl.col("tanggal_lahir").alias("birth_date"),
        pl.col("jenis_kelamin").alias("sex"),
        pl.col("nomor_kk").alias("kk_number"),
        pl.col("kode_kelurahan").alias("kelurahan_code"),
        pl.col("rw").cast(pl.Int64),
        pl.col("rt").cast(pl.Int64),
    )
    rng = random.Random(seed)
    chosen = rng.sample(range(people.height), duplicates)
    rows, planted = [], []
    next_id = people.height + 1
    for index in chosen:
        p = people.row(index, named=True)
        nik = p["nik"]
        i = next((i for i in range(12, 15) if nik[i] != nik[i + 1]), None)
        if i is None:
            continue
        name = p["name"]
        if index % 2:
            for old, new in VARIANTS:
                if old in name:
                    name = name.replace(old, new, 1)
                    break
        rows.append(
            {
                **p,
                "unique_id": next_id,
                "nik": nik[:i] + nik[i + 1] + nik[i] + nik[i + 2 :],
                "name": name,
                "kk_number": p["kk_number"][:12] + f"{rng.randrange(10_000):04d}",
                "rw": rng.randrange(1, 20),
                "rt": rng.randrange(1, 20),
            }
        )
        planted.append((p["unique_id"], next_id))
        next_id += 1
    return pl.concat([people, pl.DataFrame(rows, schema=people.schema)]), planted


def _baseline(records) -> tuple[float, int]:
    """Count the distinct candidate pairs in DuckDB: the search's four blocking rules as equi-joins, united."""
    import duckdb

    from tepat.services.duplicates import _prepared

    con = duckdb.connect()
    con.register("r", _prepared(records).to_arrow())
    rules = [
        "l.birth_date = r2.birth_date",
        "l.kk_number = r2.kk_number",
        "l.name_key = r2.name_key and l.kelurahan_code = r2.kelurahan_code",
        "l.nik_head = r2.nik_head",
    ]
    started = time.perf_counter()
    joins = " union ".join(
        f"select l.unique_id, r2.unique_id from r l join r r2 on {rule} and l.unique_id < r2.unique_id"
        for rule in rules
    )
    pairs = con.execute(f"select count(*) from ({joins})").fetchone()
    return time.perf_counter() - started, int(pairs[0]) if pairs else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--families", type=int, default=100_000)
    parser.add_argument("--duplicates", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threshold", type=float, default=0.9)
    args = parser.parse_args()

    from tepat.services.duplicates import _fit_and_predict

    records, planted = _records(args.families, args.duplicates, args.seed)
    baseline_s, candidate_pairs = _baseline(records)
    started = time.perf_counter()
    _, predicted = _fit_and_predict(records, args.threshold, args.seed)
    search_s = time.perf_counter() - started
    found = {tuple(sorted((int(p["unique_id_l"]), int(p["unique_id_r"])))) for p in predicted}
    hits = sum(1 for pair in planted if tuple(sorted(pair)) in found)
    result = {
        "machine": machine(),
        "records": records.height,
        "planted": len(planted),
        "candidate_pairs": candidate_pairs,
        "baseline_s": round(baseline_s, 2),
        "search_s": round(search_s, 2),
        "ratio": round(search_s / baseline_s, 1) if baseline_s else None,
        "recall": round(hits / len(planted), 4) if planted else None,
        "other_pairs": len(found) - hits,
    }
    print(json.dumps(result, indent=2))
    print(
        f"| {result['records']:,} | {result['candidate_pairs']:,} | {result['baseline_s']} s | {result['search_s']} s "
        f"| {result['ratio']}× | {result['recall']} | {result['other_pairs']} |"
    )


if __name__ == "__main__":
    main()
