"""The national ranking: desil 1–10 among every family of every office, not within one kabupaten/kota.

DTSEN ranks families nationally: a family's desil says where it stands among
all of Indonesia's, so "desil 1–4" means the same in Kota Bekasi and in a
poor kabupaten. tepat does it in three steps, each where the data is:

1. every office writes a **snapshot** of its active families with the
   model's features (``tepat nasional snapshot``: ``<office>.parquet`` and
   ``<office>.json``, the manifest naming the model version by its
   fingerprint and the reference date);
2. the centre **ranks** every snapshot together (``tepat nasional rank``) on
   Polars (one machine, exact) or on Apache Spark (local or a cluster; exact,
   or by ``approxQuantile`` cut points with their documented rank error) and
   writes one folder per office, ``office=<code>/``, with a manifest
   ``peringkat.json``;
3. every office **imports** its own folder (``tepat pmt import-ranks``) as a
   ranking run of the same model version.

A snapshot set is refused, naming the offices, when one expected is
missing, when offices scored with another model or on another reference date
(stale), or when a file does not hold what its manifest says.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from tepat.domain.deciles import DECILES
from tepat.domain.welfare import AnyPmtModel, GroupedPmtModel, PmtModel, model_from_spec
from tepat.errors import ValidationError
from tepat.services.national_snapshots import read_snapshots
from tepat.store.engine import now

ENGINES = ("polars", "spark")
RESULT_MANIFEST = "peringkat.json"
APPROXIMATE_ERROR = 0.001  # Spark's approxQuantile relativeError: a rank within 0.1 % of N of the exact one
_FIXED = ("office", "family_id", "family_version")


@dataclass(frozen=True)
class NationalRanking:
    """What a national ranking did."""

    out_dir: str
    engine: str
    method: str  # "exact", or "approximate" (Spark's approxQuantile cut points)
    relative_error: float | None
    model_sha256: str
    reference_date: date
    families: int
    offices: dict[str, int]
    decile_sizes: list[int]
    seconds: float
    ranked_at: str = field(default_factory=lambda: now().isoformat(timespec="seconds"))

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "reference_date": self.reference_date.isoformat()}


def rank_nationally(
    snapshot_dir: Path,
    out_dir: Path,
    *,
    engine: str = "polars",
    offices: Sequence[str] = (),
    approximate: bool = False,
    master: str | None = None,
) -> NationalRanking:
    """Rank every family of every snapshot in ``snapshot_dir`` by the model's predicted welfare (lowest first,
    ties by office and family id) into desil 1–10 by family count, and write ``out_dir/office=<code>/`` for each
    office with the manifest ``peringkat.json``."""
    if engine not in ENGINES:
        raise ValidationError(f"Mesin '{engine}' tidak dikenal; pilih {' atau '.join(ENGINES)}.")
    if approximate and engine != "spark":
        raise ValidationError(
            "Peringkat perkiraan (--perkiraan) hanya untuk mesin spark; Polars selalu tepat."
        )
    if out_dir.exists() and any(out_dir.iterdir()):
        raise ValidationError(f"Folder hasil {out_dir} sudah berisi; pilih folder baru.")
    snapshots = read_snapshots(snapshot_dir, offices)
    model = model_from_spec(snapshots[0].model)
    paths = [str(snapshot_dir / f"{s.office}.parquet") for s in snapshots]
    started = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        if engine == "polars":
            sizes = _rank_with_polars(paths, model, out_dir)
        else:
            sizes = _rank_with_spark(paths, model, out_dir, approximate=approximate, master=master)
    except BaseException:
        shutil.rmtree(out_dir, ignore_errors=True)  # half a ranking is no ranking: nobody may import it
        raise
    result = NationalRanking(
        out_dir=str(out_dir),
        engine=engine,
        method="approximate" if approximate else "exact",
        relative_error=APPROXIMATE_ERROR if approximate else None,
        model_sha256=snapshots[0].model_sha256,
        reference_date=snapshots[0].reference_date,
        families=sum(s.families for s in snapshots),
        offices={s.office: s.families for s in snapshots},
        decile_sizes=sizes,
        seconds=round(time.perf_counter() - started, 2),
    )
    (out_dir / RESULT_MANIFEST).write_text(json.dumps(result.as_dict(), indent=2), encoding="utf-8")
    return result


def _models(model: AnyPmtModel) -> list[tuple[str | None, PmtModel]]:
    """(group, model) pairs: one ``(None, model)`` for a single model."""
    if isinstance(model, GroupedPmtModel):
        return [(m.group, m) for m in model.models]
    return [(None, model)]


def _polars_score(model: AnyPmtModel) -> pl.Expr:
    """ln(predicted welfare) as a Polars expression, term by term as ``predict_registry`` adds them (a missing
    number is the training mean; a missing or unseen level adds nothing)."""

    def linear(part: PmtModel) -> pl.Expr:
        coef = part.coefficients
        total = pl.lit(coef["intercept"], dtype=pl.Float64)
        for spec in part.features:
            if spec.kind == "numeric":
                total = total + coef[spec.name] * pl.col(spec.name).cast(pl.Float64).fill_null(spec.mean)
            else:
                effects = {level: coef.get(f"{spec.name}={level}", 0.0) for level in spec.levels}
                total = total + pl.col(spec.name).cast(pl.String).replace_strict(
                    effects, default=0.0, return_dtype=pl.Float64
                ).fill_null(0.0)
        return total

    if not isinstance(model, GroupedPmtModel):
        return linear(model)
    group = pl.col(model.group_column).cast(pl.String)
    chosen: Any = pl
    for name, part in _models(model):
        chosen = chosen.when(group == name).then(linear(part))
    return chosen.otherwise(None)  # type: ignore[no-any-return]


def _rank_with_polars(paths: Sequence[str], model: AnyPmtModel, out_dir: Path) -> list[int]:
    """The rows arrive in (office, family id) order (the paths sorted by office code, each snapshot in family id
    order: ``read_snapshots`` checks it), so an ordinal rank of the score alone breaks its ties by office and family
    id, and no row is moved: each office's rows stay together, ready to write."""
    scored = pl.scan_parquet(list(paths)).select(*_FIXED, _polars_score(model).alias("score")).collect()
    _refuse_unscored(int(scored["score"].null_count()))
    n = scored.height
    ranked = scored.with_columns(peringkat=pl.col("score").rank("ordinal").cast(pl.Int64)).with_columns(
        desil=(pl.col("peringkat") - 1) * DECILES // max(n, 1) + 1,
        predicted=pl.col("score").exp(),
    )
    start = 0
    for office, count in ranked.group_by("office", maintain_order=True).len().iter_rows():
        folder = out_dir / f"office={office}"
        folder.mkdir()
        ranked.slice(start, count).drop("office").write_parquet(folder / "part-0.parquet")
        start += count
    return [int(v) for v in np.bincount(ranked["desil"].to_numpy(), minlength=DECILES + 1)[1:]]


def _refuse_unscored(count: int) -> None:
    if count:
        raise ValidationError(
            f"{count} keluarga tidak dapat dinilai: kelompoknya tidak punya model PMT di versi ini."
        )


def _spark_score(model: AnyPmtModel) -> Any:
    """The same expression as ``_polars_score``, for Spark."""
    from pyspark.sql import functions as F

    def linear(part: PmtModel) -> Any:
        coef = part.coefficients
        total = F.lit(float(coef["intercept"]))
        for spec in part.features:
            if spec.kind == "numeric":
                value = F.coalesce(F.col(spec.name).cast("double"), F.lit(float(spec.mean)))
                total = total + F.lit(float(coef[spec.name])) * value
            else:
                pairs = [
                    item
                    for level in spec.levels
                    for item in (F.lit(level), F.lit(float(coef.get(f"{spec.name}={level}", 0.0))))
                ]
                effect = F.create_map(*pairs)[F.col(spec.name).cast("string")] if pairs else F.lit(0.0)
                total = total + F.coalesce(effect, F.lit(0.0))
        return total

    if not isinstance(model, GroupedPmtModel):
        return linear(model)
    group = F.col(model.group_column).cast("string")
    chosen: Any = F
    for name, part in _models(model):
        chosen = chosen.when(group == name, linear(part))
    return chosen


def _rank_with_spark(
    paths: Sequence[str], model: AnyPmtModel, out_dir: Path, *, approximate: bool, master: str | None
) -> list[int]:
    """Exact: ranks numbered where the rows are (``_exact_ranks``: no single partition, no row through Python). Approximate: nine cut points from ``approxQuantile`` (Greenwald–Khanna; a family's rank is within
    ``APPROXIMATE_ERROR`` × N of its exact rank, so only families that close to a boundary can move one desil)."""
    from pyspark.sql import functions as F

    from tepat.services.spark_session import spark_session

    with spark_session("tepat-peringkat-nasional", master) as spark:
        scored = spark.read.parquet(*paths).select(*_FIXED, _spark_score(model).alias("score"))
        _refuse_unscored(scored.where(F.col("score").isNull()).count())
        n = scored.count()
        if approximate:
            cuts = scored.approxQuantile("score", [d / DECILES for d in range(1, DECILES)], APPROXIMATE_ERROR)
            desil = F.lit(1)
            for cut in cuts:
                desil = desil + F.when(F.col("score") > F.lit(cut), 1).otherwise(0)
            ranked = scored.withColumn("peringkat", F.lit(None).cast("long")).withColumn("desil", desil)
        else:
            ranked = _exact_ranks(spark, scored).withColumn(
                "desil",
                F.expr(f"(peringkat - 1) * {DECILES} div {max(n, 1)} + 1"),  # integer division
            )
        ranked = ranked.withColumn("predicted", F.exp("score"))
        ranked.write.mode("error").partitionBy("office").parquet(str(out_dir / "_spark"))
        sizes = dict(ranked.groupBy("desil").count().collect())
    for folder in sorted((out_dir / "_spark").glob("office=*")):
        folder.rename(out_dir / folder.name)  # the same layout as Polars writes
    for leftover in sorted((out_dir / "_spark").iterdir()):
        leftover.unlink()
    (out_dir / "_spark").rmdir()
    return [int(sizes.get(d, 0)) for d in range(1, DECILES + 1)]


def _exact_ranks(spark: Any, scored: Any) -> Any:
    """``peringkat`` 1…N by (score, office, family id), computed where the rows are: range-partition on that key
    (partitions then follow the order), fix the partitions (a local checkpoint: range bounds come from a sample and
    must not be drawn again), count each, and add each partition's offset to its rows' numbers within it."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    key = ["score", "office", "family_id"]
    parts = max(2, int(spark.sparkContext.defaultParallelism) * 2)
    placed = (
        scored.repartitionByRange(parts, *key)
        .withColumn("_part", F.spark_partition_id())
        .localCheckpoint(eager=True)
    )
    counts = sorted(placed.groupBy("_part").count().collect())
    starts, total = [], 0
    for part, count in counts:
        starts.append((int(part), total))
        total += int(count)
    offsets = spark.createDataFrame(starts, "_part int, _start long")
    within = Window.partitionBy("_part").orderBy(*key)
    return (
        placed.join(F.broadcast(offsets), "_part")
        .withColumn("peringkat", F.col("_start") + F.row_number().over(within))
        .drop("_part", "_start")
    )
