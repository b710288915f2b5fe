"""Targeting use cases: PMT model versions, evaluation, ranking the registry, eligibility and explanations.

A model version is stored with what it was fitted on (file name and SHA-256),
its coefficients and statistics, and who fitted it. Once a version has been
used for a ranking it is immutable: renaming or deleting it is refused, so a
desil always points at the exact coefficients that produced it.

Ranking reads the features of every active family in one set-based query
(``tepat.store.pmt_features``), predicts and ranks in NumPy, and writes only the
score rows that changed (new families, a changed family version, prediction or
desil); families no longer active lose their score.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl
import sqlalchemy as sa

from tepat.charts.targeting import accuracy_chart, decile_chart
from tepat.domain.access import Actor, Permission
from tepat.domain.deciles import DECILES, rank_families
from tepat.domain.targeting_accuracy import targeting_table
from tepat.domain.welfare import AnyPmtModel, GroupedPmtModel, PmtPrediction, model_from_spec
from tepat.errors import ConflictError, NotFound, PermissionDenied, ValidationError
from tepat.files.survey_frames import read_survey_columns
from tepat.store import audit, pmt_features
from tepat.store import families as family_store
from tepat.store import targeting as store
from tepat.store.database import Database
from tepat.store.engine import now
from tepat.store.schema import families

DEFAULT_COVERAGES = (0.1, 0.2, 0.4)
_NO_MODEL = "Model PMT tidak ditemukan"


@dataclass(frozen=True)
class ModelVersion:
    """A stored PMT model version."""

    id: int
    name: str
    model: AnyPmtModel
    source_file: str
    source_sha256: str
    created_by: str
    created_at: datetime
    first_used_at: datetime | None
    last_run: dict[str, Any] | None = None
    last_evaluation: dict[str, Any] | None = None

    @property
    def used(self) -> bool:
        return self.first_used_at is not None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: coefficients, features, reference levels, statistics and provenance."""
        m = self.model
        return {
            "id": self.id,
            "name": self.name,
            "target": m.target,
            "weight": m.weight,
            "features": [f.name for f in m.features],
            "references": {f.name: f.reference for f in m.features if f.kind == "categorical"},
            **(
                {
                    "group_column": m.group_column,
                    "groups": {
                        g.group: {"coefficients": g.coefficients, "r2": g.r2, "n": g.n} for g in m.models
                    },
                }
                if isinstance(m, GroupedPmtModel)
                else {}
            ),
            "coefficients": m.coefficients,
            "r2": m.r2,
            "n": m.n,
            "dropped": m.dropped,
            "weight_sum": m.weight_sum,
            "residual_variance": m.residual_variance,
            "source_file": self.source_file,
            "source_sha256": self.source_sha256,
            "created_by": self.created_by,
            "created_at": self.created_at.isoformat(),
            "used": self.used,
            "first_used_at": self.first_used_at.isoformat() if self.first_used_at else None,
        }


@dataclass(frozen=True)
class Evaluation:
    """Inclusion and exclusion errors of one model version on a survey file, per coverage."""

    model_id: int
    model_name: str
    households: int
    rows: list[dict[str, float | int]]

    def as_dict(self) -> dict[str, Any]:
        return {
            "model": self.model_id,
            "name": self.model_name,
            "households": self.households,
            "coverages": self.rows,
        }


@dataclass(frozen=True)
class RankingResult:
    """What a ranking run did."""

    run_id: int
    model_id: int
    reference_date: date
    families: int
    inserted: int
    updated: int
    deleted: int
    unchanged: int
    unknown_levels: int
    imputed: int
    decile_sizes: list[int]

    def as_dict(self) -> dict[str, Any]:
        return {
            **{k: v for k, v in self.__dict__.items() if k != "reference_date"},
            "reference_date": self.reference_date.isoformat(),
        }


@dataclass(frozen=True)
class FamilyTargeting:
    """A family's desil under a model version and the indicators that pushed it up or down."""

    model_id: int
    model_name: str
    desil: int
    score: float
    predicted: float  # monthly per-capita consumption, rupiah
    ranked_at: datetime
    reference_date: date
    stale: bool  # the family changed after the ranking run
    contributions: list[dict[str, Any]] = field(default_factory=list)


# ----------------------------------------------------------------- access


def require_targeting(actor: Actor) -> None:
    """Targeting pages and commands are for Admin Dinsos and analysts."""
    if not actor.may(Permission.TARGETING):
        raise PermissionDenied("Halaman sasaran hanya untuk Admin Dinsos dan Analis.")


def area_condition(actor: Actor, area_code: str | None = None) -> sa.ColumnElement[bool]:
    """Families in the actor's area, or in ``area_code`` inside it."""
    if area_code and not actor.in_area(area_code):
        raise PermissionDenied("Wilayah ini di luar wilayah kerja Anda.")
    return family_store.in_area(area_code or actor.area_code)


# ----------------------------------------------------------------- model versions


def file_hash(path: Path) -> str:
    """SHA-256 of a file, in hex."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def save_model(
    db: Database, actor: Actor, model: AnyPmtModel, *, source: Path, name: str | None = None
) -> int:
    """Store a fitted model (one for the city, or one per group) as a new immutable version; returns its id.
    A grouped model's group column must be a registry field too, holding the same values, so that ranking can
    give each family its group's model."""
    require_targeting(actor)
    pmt_features.check_features(columns_of(model))
    spec = model.as_dict()
    if not all(math.isfinite(v) for v in model.coefficients.values()):
        raise ValidationError("Koefisien model tidak valid (bukan angka).")
    at = now()
    label = " ".join((name or f"PMT {source.stem} {at:%Y-%m-%d %H:%M}").split())[:80]
    with db.begin() as conn:
        model_id = store.insert_model(
            conn,
            {
                "name": label,
                "target": model.target,
                "weight": model.weight,
                "features": [f.name for f in model.features],
                "reference_levels": {f.name: f.reference for f in model.features if f.kind == "categorical"},
                "spec": spec,
                "r2": model.r2,
                "n": model.n,
                "source_file": source.name[:255],
                "source_sha256": file_hash(source),
                "created_by": actor.username,
                "created_at": at,
            },
        )
        audit.record(
            conn, actor, "pmt.save", "pmt_model", model_id, detail={"name": label, "file": source.name}
        )
    return model_id


def columns_of(model: AnyPmtModel) -> list[str]:
    """The registry (or survey) columns a model reads: its features, and a grouped model's group column."""
    names = [f.name for f in model.features]
    return names + [model.group_column] if isinstance(model, GroupedPmtModel) else names


def _version(conn: sa.Connection, row: dict[str, Any]) -> ModelVersion:
    run = store.get_run(conn, row["run_id"]) if row.get("run_id") else None
    evaluation = store.get_evaluation(conn, row["evaluation_id"]) if row.get("evaluation_id") else None
    return ModelVersion(
        id=row["id"],
        name=row["name"],
        model=model_from_spec(row["spec"]),
        source_file=row["source_file"],
        source_sha256=row["source_sha256"],
        created_by=row["created_by"],
        created_at=row["created_at"],
        first_used_at=row["first_used_at"],
        last_run=run,
        last_evaluation=evaluation,
    )


def list_models(db: Database, actor: Actor) -> list[ModelVersion]:
    """Every model version, newest first, with its latest run and evaluation."""
    require_targeting(actor)
    with db.read() as conn:
        return [_version(conn, row) for row in store.list_models(conn)]


def get_model(db: Database, actor: Actor, model_id: int) -> ModelVersion:
    """One model version."""
    require_targeting(actor)
    with db.read() as conn:
        for row in store.list_models(conn):
            if row["id"] == model_id:
                return _version(conn, row)
    raise NotFound(_NO_MODEL)


def _unused(conn: sa.Connection, model_id: int) -> dict[str, Any]:
    row = store.get_model(conn, model_id, lock=True)
    if row is None:
        raise NotFound(_NO_MODEL)
    if row["first_used_at"] is not None:
        raise ConflictError(
            "Versi model ini sudah dipakai untuk pemeringkatan dan tidak boleh diubah atau dihapus. "
            "Simpan versi baru."
        )
    return row


def rename_model(db: Database, actor: Actor, model_id: int, name: str) -> None:
    """Rename a version that was never used for a ranking."""
    require_targeting(actor)
    label = " ".join(name.split())[:80]
    if not label:
        raise ValidationError("Nama model wajib diisi.")
    with db.begin() as conn:
        _unused(conn, model_id)
        store.update_model(conn, model_id, {"name": label})
        audit.record(conn, actor, "pmt.rename", "pmt_model", model_id, detail={"name": label})


def delete_model(db: Database, actor: Actor, model_id: int) -> None:
    """Delete a version that was never used for a ranking."""
    require_targeting(actor)
    with db.begin() as conn:
        _unused(conn, model_id)
        store.delete_model(conn, model_id)
        audit.record(conn, actor, "pmt.delete", "pmt_model", model_id)


# ----------------------------------------------------------------- evaluation


def survey_predictions(model: AnyPmtModel, path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Observed consumption, predicted log welfare and weights of the valid households of a survey file."""
    names = columns_of(model)
    text = [f.name for f in model.features if f.kind == "categorical"]
    if isinstance(model, GroupedPmtModel):
        text.append(model.group_column)
    wanted = [model.target, *names] + ([model.weight] if model.weight else [])
    columns = read_survey_columns(path, wanted, text_columns=text)
    consumption = np.asarray(columns[model.target], dtype=np.float64)
    weights = np.asarray(columns[model.weight], dtype=np.float64) if model.weight else None
    keep = np.isfinite(consumption) & (consumption > 0)
    if weights is not None:
        keep &= np.isfinite(weights) & (weights > 0)
    if not keep.any():
        raise ValidationError(f"Tidak ada rumah tangga dengan konsumsi yang valid dalam {path.name}.")
    predicted = model.predict({k: v[keep] for k, v in columns.items()}).log_welfare
    return consumption[keep], predicted, None if weights is None else weights[keep]


def evaluate_model(
    db: Database,
    actor: Actor,
    model_id: int,
    path: Path,
    coverages: Sequence[float] = DEFAULT_COVERAGES,
    *,
    save: bool = True,
) -> Evaluation:
    """Inclusion/exclusion errors (Alatas et al. 2012) of a version on held-out survey households."""
    version = get_model(db, actor, model_id)
    consumption, predicted, weights = survey_predictions(version.model, path)
    table = targeting_table(consumption, predicted, coverages, weights)
    rows: list[dict[str, float | int]] = [
        {
            "coverage": t.coverage,
            "inclusion_error": t.inclusion_error,
            "exclusion_error": t.exclusion_error,
            "target_count": t.target_count,
            "selected_count": t.selected_count,
        }
        for t in table
    ]
    result = Evaluation(model_id, version.name, int(consumption.shape[0]), rows)
    if save:
        with db.begin() as conn:
            evaluation_id = store.insert_evaluation(
                conn,
                {
                    "model_id": model_id,
                    "source_file": path.name[:255],
                    "source_sha256": file_hash(path),
                    "households": result.households,
                    "results": rows,
                    "evaluated_by": actor.username,
                    "evaluated_at": now(),
                },
            )
            audit.record(
                conn, actor, "pmt.evaluate", "pmt_model", model_id, detail={"evaluation": evaluation_id}
            )
    return result


def compare_models(
    db: Database,
    actor: Actor,
    model_ids: Sequence[int],
    path: Path,
    coverages: Sequence[float] = DEFAULT_COVERAGES,
) -> tuple[list[Evaluation], str]:
    """Several versions evaluated on the same survey file, side by side, with an SVG chart."""
    results = [evaluate_model(db, actor, m, path, coverages) for m in model_ids]
    return results, evaluation_chart(results)


def evaluation_chart(results: Sequence[Evaluation]) -> str:
    """The grouped-bar chart of inclusion and exclusion errors of evaluations."""
    data = {
        f"#{r.model_id} {r.model_name}": [
            (float(row["coverage"]), float(row["inclusion_error"]), float(row["exclusion_error"]))
            for row in r.rows
        ]
        for r in results
    }
    return accuracy_chart(data)


# ----------------------------------------------------------------- ranking


def rank_registry(
    db: Database, actor: Actor, model_id: int, *, reference_date: date | None = None
) -> RankingResult:
    """Score and rank every active family city-wide under a version; write only what changed."""
    require_city_ranking(db, actor)
    started = now()
    day = reference_date or started.date()
    with db.begin() as conn:
        row = store.get_model(conn, model_id, lock=True)
        if row is None:
            raise NotFound(_NO_MODEL)
        model = model_from_spec(row["spec"])
        ids, versions, columns = pmt_features.read_features(conn, columns_of(model), day)
        prediction = predict_registry(model, columns)
        ranking = rank_families(prediction.log_welfare, ids)
        return store_ranking(
            conn,
            actor,
            model_id,
            day,
            started,
            Ranked(ids, versions, prediction.log_welfare, ranking.decile),
            unknown_levels=prediction.unknown_levels,
            imputed=prediction.imputed,
        )


def require_city_ranking(db: Database, actor: Actor) -> None:
    """Only an analyst or admin of the whole office ranks its families (a desil is a rank among all of them)."""
    require_targeting(actor)
    if actor.area_code not in ("", db.office.code):
        raise PermissionDenied(
            "Pemeringkatan berlaku untuk seluruh kota; hanya akun tingkat kota yang boleh menjalankannya."
        )


@dataclass(frozen=True)
class Ranked:
    """Families as ranked: ids (ascending), their versions when scored, ln(predicted welfare) and desil."""

    family_id: npt.NDArray[np.int64]
    family_version: npt.NDArray[np.int64]
    log_welfare: npt.NDArray[np.float64]
    desil: npt.NDArray[np.int64]


def store_ranking(
    conn: sa.Connection,
    actor: Actor,
    model_id: int,
    day: date,
    started: datetime,
    ranked: Ranked,
    *,
    unknown_levels: int = 0,
    imputed: int = 0,
    action: str = "pmt.rank",
    detail: dict[str, Any] | None = None,
) -> RankingResult:
    """Store a ranking of the office's families under a model version as one run, writing only what changed
    (new, changed and gone families); the families not in ``ranked`` lose their score under the version."""
    ids, versions = ranked.family_id, ranked.family_version
    new = {
        "family_id": ids,
        "family_version": versions,
        "predicted": np.exp(ranked.log_welfare),
        "score": ranked.log_welfare,
        "desil": ranked.desil,
    }
    old = store.stored_scores(conn, model_id)
    pos = np.searchsorted(old["family_id"], ids)
    pos_c = np.minimum(pos, max(len(old["family_id"]) - 1, 0))
    found = (
        (pos < len(old["family_id"])) & (old["family_id"][pos_c] == ids)
        if len(old["family_id"])
        else np.zeros(len(ids), bool)
    )
    changed = found.copy()
    if found.any():
        o = pos_c[found]
        changed[found] = (
            (old["family_version"][o] != versions[found])
            | (old["desil"][o] != ranked.desil[found])
            | (np.abs(old["predicted"][o] - new["predicted"][found]) > 1e-9 * new["predicted"][found])
        )
    gone = old["family_id"][~np.isin(old["family_id"], ids)]
    run_id = store.insert_run(
        conn,
        {
            "model_id": model_id,
            "reference_date": day,
            "started_at": started,
            "finished_at": started,
            "actor": actor.username,
            "families": len(ids),
            "inserted": 0,
            "updated": 0,
            "deleted": 0,
            "unknown_levels": unknown_levels,
            "imputed": imputed,
        },
    )
    store.delete_scores(conn, model_id, gone)
    store.insert_scores(conn, model_id, run_id, {k: v[~found] for k, v in new.items()})
    store.update_scores(conn, model_id, run_id, {k: v[changed] for k, v in new.items()})
    store.mark_used(conn, model_id, started)
    counts = {"inserted": int((~found).sum()), "updated": int(changed.sum()), "deleted": len(gone)}
    store.finish_run(conn, run_id, {"finished_at": now(), **counts})
    audit.record(
        conn, actor, action, "pmt_model", model_id, detail={"run": run_id, **counts, **(detail or {})}
    )
    sizes = np.bincount(ranked.desil, minlength=DECILES + 1)[1 : DECILES + 1]
    return RankingResult(
        run_id,
        model_id,
        day,
        len(ids),
        unchanged=int((found & ~changed).sum()),
        unknown_levels=unknown_levels,
        imputed=imputed,
        decile_sizes=[int(n) for n in sizes],
        **counts,
    )


def predict_registry(model: AnyPmtModel, columns: dict[str, np.ndarray]) -> PmtPrediction:
    """``model.predict`` for registry columns, with categories mapped to their coefficients by Polars (a grouped
    model: each group's rows by its own model; a family of a group without a model is refused).

    Same terms as ``PmtModel.predict`` (a level not in the model or missing adds 0, i.e. the reference,
    and is counted; a missing number takes the training mean), without a Python pass over every cell.
    Falls back to ``model.predict`` when a categorical column does not hold text.
    """
    if isinstance(model, GroupedPmtModel):
        groups = np.asarray(columns[model.group_column], dtype=object).astype(str)  # one pass, no Python loop
        total = np.full(groups.shape[0], np.nan)
        unknown = imputed = 0
        for group in np.unique(groups):
            rows = groups == group
            part = predict_registry(
                model.model_for(str(group)), {k: np.asarray(v)[rows] for k, v in columns.items()}
            )
            total[rows] = part.log_welfare
            unknown += part.unknown_levels
            imputed += part.imputed
        return PmtPrediction(total, unknown, imputed)
    coef = model.coefficients
    n = len(next(iter(columns.values()))) if columns else 0
    total = np.full(n, coef["intercept"], dtype=np.float64)
    unknown = imputed = 0
    for spec in model.features:
        values = columns[spec.name]
        if spec.kind == "numeric":
            col = np.asarray(values, dtype=np.float64)
            missing = ~np.isfinite(col)
            imputed += int(missing.sum())
            total += coef[spec.name] * np.where(missing, spec.mean, col)
            continue
        if values.dtype != object or any(v is not None and not isinstance(v, str) for v in values[:1000]):
            return model.predict(columns)
        series = pl.Series(
            spec.name, values.tolist(), dtype=pl.String
        )  # an all-missing column is an object array
        effects = {level: coef.get(f"{spec.name}={level}", 0.0) for level in spec.levels}
        total += series.replace_strict(effects, default=0.0, return_dtype=pl.Float64).to_numpy()
        unknown += int((~series.is_in(list(spec.levels)).fill_null(False)).sum())
    return PmtPrediction(total, unknown, imputed)


def resolve_model(conn: sa.Connection, model_id: int | None) -> int | None:
    """The given model version (checked), else the one of the latest ranking run."""
    if model_id is not None:
        if store.get_model(conn, model_id) is None:
            raise NotFound(_NO_MODEL)
        return model_id
    return store.latest_ranked_model(conn)


def family_targeting(
    db: Database, actor: Actor, family_id: int, model_id: int | None = None
) -> FamilyTargeting | None:
    """A family's desil and the indicators that pushed it up or down (``None`` when not ranked yet)."""
    with db.read() as conn:
        fam = family_store.get(conn, family_id)
        if fam is None or not actor.can_read_personal(fam["kelurahan_code"]):
            raise NotFound("Keluarga tidak ditemukan")
        chosen = resolve_model(conn, model_id)
        if chosen is None:
            return None
        score = store.family_score(conn, chosen, family_id)
        if score is None:
            return None
        row = store.get_model(conn, chosen)
        assert row is not None
        model = model_from_spec(row["spec"])
        names = columns_of(model)
        _, versions, columns = pmt_features.read_features(
            conn, names, score["reference_date"], where=families.c.id == family_id
        )
    values = {name: _plain(columns[name][0]) for name in names}
    terms = []
    for term, effect in model.contributions(values):
        feature, _, level = term.partition("=")
        terms.append(
            {
                "feature": feature,
                "label": pmt_features.label_of(feature),
                "level": level or None,
                "value": values.get(feature),
                "effect": effect,
                "direction": "naik" if effect > 0 else ("turun" if effect < 0 else "netral"),
            }
        )
    return FamilyTargeting(
        model_id=chosen,
        model_name=row["name"],
        desil=int(score["desil"]),
        score=float(score["score"]),
        predicted=float(score["predicted"]),
        ranked_at=score["finished_at"],
        reference_date=score["reference_date"],
        stale=bool(len(versions) and int(versions[0]) != score["family_version"]),
        contributions=terms,
    )


def _plain(value: Any) -> Any:
    """A fetched cell as a plain Python value (``None`` when missing)."""
    if hasattr(value, "item"):
        value = value.item()
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return int(value) if isinstance(value, float) and value.is_integer() else value


# ----------------------------------------------------------------- distribution


def decile_distribution(db: Database, actor: Actor, model_id: int | None = None) -> dict[str, Any]:
    """Active families per desil in each kecamatan of the actor's area, with an SVG chart."""
    require_targeting(actor)
    with db.read() as conn:
        chosen = resolve_model(conn, model_id)
        counts = store.decile_counts(conn, chosen, area_condition(actor)) if chosen is not None else []
    table: dict[str, list[int]] = {}
    for code, desil, count in counts:
        table.setdefault(code, [0] * DECILES)[desil - 1] = count
    rows: list[dict[str, Any]] = [
        {"code": code, "name": db.regions.name(code), "counts": c, "total": sum(c)}
        for code, c in table.items()
    ]
    totals = [sum(c[d] for c in table.values()) for d in range(DECILES)]
    chart = (
        decile_chart(
            [(db.regions.name(code), c) for code, c in table.items()],
            title="Sebaran desil keluarga per kecamatan",
            source=f"Sumber: tepat, registri {db.office.agency}",
        )
        if rows
        else ""
    )
    return {"model_id": chosen, "rows": rows, "totals": totals, "chart": chart}
