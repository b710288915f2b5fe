"""Ranking the registry under a PMT version: every active family scored and put in desil 1–10 among the
office's families (``tepat pmt rank``), stored as a run that writes only what changed; the same store for a
national ranking imported back (``tepat.services.national_import``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl
import sqlalchemy as sa

from tepat.domain.access import Actor
from tepat.domain.audit_actions import AuditAction
from tepat.domain.deciles import DECILES, rank_families
from tepat.domain.welfare import AnyPmtModel, GroupedPmtModel, PmtPrediction, model_from_spec
from tepat.errors import NotFound, PermissionDenied
from tepat.services.targeting import NO_MODEL, columns_of, require_targeting
from tepat.store import audit, pmt_features
from tepat.store import targeting as store
from tepat.store.database import Database
from tepat.store.engine import now


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
            raise NotFound(NO_MODEL)
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
    """Only an analyst or admin of everything the database serves ranks its families (a desil is a rank among all
    of them: one office's, or a province deployment's every office)."""
    require_targeting(actor)
    if actor.area_code not in ("", db.offices.area):
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
    action: AuditAction = AuditAction.PMT_MODEL_RANK,
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
