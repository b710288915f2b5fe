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

from tepat.domain.access import Actor
from tepat.domain.deciles import DECILES
from tepat.domain.regions import Level, RegionCode
from tepat.domain.welfare import AnyPmtModel, GroupedPmtModel, PmtModel, model_fingerprint, model_from_spec
from tepat.errors import NotFound, ValidationError
from tepat.services.targeting import (
    Ranked,
    RankingResult,
    columns_of,
    require_city_ranking,
    store_ranking,
)
from tepat.store import audit, pmt_features
from tepat.store import targeting as store
from tepat.store.database import Database
from tepat.store.engine import now

ENGINES = ("polars", "spark")
RESULT_MANIFEST = "peringkat.json"
APPROXIMATE_ERROR = 0.001  # Spark's approxQuantile relativeError: a rank within 0.1 % of N of the exact one
_FIXED = ("office", "family_id", "family_version")


# ----------------------------------------------------------------- 1. an office's snapshot


@dataclass(frozen=True)
class Snapshot:
    """What an office's snapshot manifest says: whose, under which model, as of when, how many families."""

    office: str
    office_name: str
    model_sha256: str
    model: dict[str, Any]
    reference_date: date
    families: int
    written_at: str

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "reference_date": self.reference_date.isoformat()}

    @classmethod
    def read(cls, path: Path) -> Snapshot:
        """The manifest at ``path``; ``ValidationError`` naming the file when it is not one."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            found = cls(
                office=str(data["office"]),
                office_name=str(data.get("office_name", "")),
                model_sha256=str(data["model_sha256"]),
                model=dict(data["model"]),
                reference_date=date.fromisoformat(str(data["reference_date"])),
                families=int(data["families"]),
                written_at=str(data.get("written_at", "")),
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ValidationError(f"{path.name}: bukan manifest snapshot tepat ({exc}).") from None
        if model_fingerprint(found.model) != found.model_sha256:
            raise ValidationError(
                f"{path.name}: model di manifest tidak sesuai sidik jarinya (berkas diubah?)."
            )
        return found


def write_snapshot(
    db: Database, actor: Actor, model_id: int, out_dir: Path, *, reference_date: date | None = None
) -> Snapshot:
    """Write this office's active families with the features of model version ``model_id`` to ``out_dir`` (as
    ``<office>.parquet`` and its manifest ``<office>.json``; a snapshot written before is replaced)."""
    require_city_ranking(db, actor)
    day = reference_date or now().date()
    office = db.office
    with db.read() as conn:
        row = store.get_model(conn, model_id)
        if row is None:
            raise NotFound("Versi model PMT tidak ditemukan.")
        model = model_from_spec(row["spec"])
        ids, versions, columns = pmt_features.read_features(conn, columns_of(model), day)
    frame = pl.DataFrame(
        [
            pl.Series("office", [office.code] * len(ids), dtype=pl.String),
            pl.Series("family_id", ids, dtype=pl.Int64),
            pl.Series("family_version", versions, dtype=pl.Int64),
            *(_feature_series(name, values) for name, values in columns.items()),
        ]
    )
    snapshot = Snapshot(
        office=office.code,
        office_name=office.name,
        model_sha256=model_fingerprint(row["spec"]),
        model=dict(row["spec"]),
        reference_date=day,
        families=frame.height,
        written_at=now().isoformat(timespec="seconds"),
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    _replace(out_dir / f"{office.code}.parquet", lambda path: frame.write_parquet(path))
    _replace(
        out_dir / f"{office.code}.json",
        lambda path: path.write_text(json.dumps(snapshot.as_dict(), indent=2, ensure_ascii=False), "utf-8"),
    )
    with db.begin() as conn:
        audit.record(
            conn,
            actor,
            "nasional.snapshot",
            "pmt_model",
            model_id,
            detail={"families": frame.height, "reference_date": day.isoformat(), "folder": out_dir.name},
        )
    return snapshot


def _feature_series(name: str, values: Any) -> pl.Series:
    """A feature column as the snapshot holds it: numbers as Float64 with missing as null (never NaN), codes as
    text."""
    array = np.asarray(values)
    if array.dtype == object:
        return pl.Series(name, [None if v is None else str(v) for v in array.tolist()], dtype=pl.String)
    return pl.Series(name, array.astype(np.float64), dtype=pl.Float64).fill_nan(None)


def _replace(path: Path, write: Any) -> None:
    """Write beside ``path`` and rename over it: a reader never sees half a file."""
    partial = path.with_name(f".{path.name}.tmp")
    write(partial)
    partial.replace(path)


# ----------------------------------------------------------------- 2. the national ranking


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


def read_snapshots(snapshot_dir: Path, offices: Sequence[str] = ()) -> list[Snapshot]:
    """The snapshots in ``snapshot_dir``, checked as one set: every office in ``offices`` (when given) present,
    each a kabupaten/kota, one model, one reference date, each file holding its manifest's families."""
    if not snapshot_dir.is_dir():
        raise ValidationError(f"Folder snapshot {snapshot_dir} tidak ada.")
    problems: list[str] = []
    for code in offices:
        try:
            RegionCode.parse(code, level=Level.KABKOTA)
        except ValueError as exc:
            problems.append(f"{code}: {exc}")
    found = sorted((Snapshot.read(path) for path in snapshot_dir.glob("*.json")), key=lambda s: s.office)
    by_office = {s.office: s for s in found}
    for snapshot in found:
        try:
            RegionCode.parse(snapshot.office, level=Level.KABKOTA)
        except ValueError as exc:
            problems.append(f"snapshot {snapshot.office}: {exc}")
    missing = [code for code in offices if code not in by_office]
    if missing:
        problems.append("snapshot kantor berikut tidak ada: " + ", ".join(missing))
    if not found:
        problems.append(f"tidak ada snapshot (<kode>.json dan <kode>.parquet) di {snapshot_dir}")
    if problems:
        raise ValidationError("Snapshot tidak dapat diperingkat: " + "; ".join(problems) + ".")
    model = _most_common([s.model_sha256 for s in found])
    other_model = [s.office for s in found if s.model_sha256 != model]
    newest = max(s.reference_date for s in found)
    stale = [f"{s.office} ({s.reference_date.isoformat()})" for s in found if s.reference_date != newest]
    if other_model:
        problems.append("kantor berikut memakai versi model PMT lain: " + ", ".join(other_model))
    if stale:
        problems.append(
            f"snapshot kantor berikut lebih lama dari tanggal acuan {newest.isoformat()}: " + ", ".join(stale)
        )
    for snapshot in found:
        data = snapshot_dir / f"{snapshot.office}.parquet"
        if not data.is_file():
            problems.append(f"{snapshot.office}: berkas {data.name} tidak ada")
            continue
        try:
            rows, offices_inside, in_order = (
                pl.scan_parquet(data)
                .select(
                    pl.len(),
                    pl.col("office").n_unique() - (pl.col("office") == snapshot.office).all().cast(pl.UInt32),
                    (pl.col("family_id").diff().drop_nulls() > 0).all(),
                )
                .collect()
                .row(0)
            )
        except (OSError, pl.exceptions.PolarsError) as exc:
            problems.append(f"{snapshot.office}: {data.name} tidak terbaca ({exc})")
            continue
        if rows != snapshot.families:
            problems.append(
                f"{snapshot.office}: {data.name} memuat {rows} keluarga, manifest menyebut {snapshot.families}"
            )
        elif rows and (offices_inside != 0 or not in_order):
            problems.append(
                f"{snapshot.office}: {data.name} bukan snapshot tepat kantor ini (kode kantor lain, atau keluarga "
                "tidak urut nomor)"
            )
    if problems:
        raise ValidationError("Snapshot tidak dapat diperingkat: " + "; ".join(problems) + ".")
    return found


def _most_common(values: Sequence[str]) -> str:
    return max(sorted(set(values)), key=values.count)


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


# ----------------------------------------------------------------- 3. an office imports its national desil


@dataclass(frozen=True)
class ImportedRanks:
    """A national ranking imported by one office: the run it became, and what did not fit the registry now."""

    ranking: RankingResult
    changed_since_snapshot: (
        int  # families edited after the snapshot: their national desil is kept until the next
    )
    no_longer_active: int  # in the ranking, no longer active here: left out
    not_ranked: (
        int  # active here, not in the ranking (registered after the snapshot): no desil under the version
    )

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.ranking.as_dict(),
            "changed_since_snapshot": self.changed_since_snapshot,
            "no_longer_active": self.no_longer_active,
            "not_ranked": self.not_ranked,
        }


def import_ranks(db: Database, actor: Actor, results_dir: Path) -> ImportedRanks:
    """Store this office's part of a national ranking (``results_dir``, as ``tepat nasional rank`` wrote it) as a
    ranking run of the same model version stored here."""
    require_city_ranking(db, actor)
    manifest_path = results_dir / RESULT_MANIFEST
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        model_sha256, day = str(manifest["model_sha256"]), date.fromisoformat(str(manifest["reference_date"]))
    except (OSError, ValueError, KeyError, TypeError):
        raise ValidationError(
            f"{manifest_path} tidak ada atau bukan manifest peringkat nasional (tepat nasional rank)."
        ) from None
    office = db.office.code
    files = sorted((results_dir / f"office={office}").glob("*.parquet"))
    if not files:
        raise ValidationError(
            f"Hasil peringkat nasional di {results_dir} tidak memuat kantor ini ({office})."
        )
    started = now()
    with db.begin() as conn:
        model_id = _model_with(conn, model_sha256)
        rows = (
            pl.read_parquet(files).select("family_id", "family_version", "score", "desil").sort("family_id")
        )
        ids, versions, _ = pmt_features.read_features(conn, [], day)
        active = np.isin(rows["family_id"].to_numpy(), ids)
        kept = rows.filter(pl.Series(active))
        now_version = dict(zip(ids.tolist(), versions.tolist(), strict=True))
        changed = sum(
            now_version[f] != v for f, v in zip(kept["family_id"], kept["family_version"], strict=True)
        )
        ranked = Ranked(
            kept["family_id"].to_numpy(),
            kept["family_version"].to_numpy(),
            kept["score"].to_numpy(),
            kept["desil"].cast(pl.Int64).to_numpy(),
        )
        result = store_ranking(
            conn,
            actor,
            model_id,
            day,
            started,
            ranked,
            action="pmt.import_ranks",
            detail={
                "national": True,
                "engine": manifest.get("engine"),
                "families_national": manifest.get("families"),
            },
        )
    return ImportedRanks(
        result,
        changed_since_snapshot=int(changed),
        no_longer_active=int((~active).sum()),
        not_ranked=int(len(ids) - kept.height),
    )


def _model_with(conn: Any, model_sha256: str) -> int:
    """The id of the version stored here whose spec has ``model_sha256``; refused when none has."""
    for row in store.list_models(conn):
        found = store.get_model(conn, row["id"])
        if found is not None and model_fingerprint(found["spec"]) == model_sha256:
            return int(row["id"])
    raise ValidationError(
        f"Versi model PMT peringkat nasional ({model_sha256[:12]}…) tidak ada di basis data ini: simpan model yang "
        "sama (tepat pmt fit --save dengan survei yang sama) lalu impor lagi."
    )
