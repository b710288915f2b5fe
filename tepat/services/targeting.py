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
import sqlalchemy as sa

from tepat.charts.targeting import accuracy_chart, decile_chart
from tepat.domain.access import Actor, Permission
from tepat.domain.audit_actions import AuditAction
from tepat.domain.deciles import DECILES
from tepat.domain.rule_ast import Rule
from tepat.domain.targeting_accuracy import targeting_table
from tepat.domain.welfare import AnyPmtModel, GroupedPmtModel, model_from_spec
from tepat.errors import ConflictError, NotFound, PermissionDenied, ValidationError
from tepat.files.survey_frames import read_survey_columns
from tepat.store import audit, pmt_features
from tepat.store import families as family_store
from tepat.store import targeting as store
from tepat.store.database import Database
from tepat.store.engine import now
from tepat.store.rule_sql import select_eligible
from tepat.store.schema import families

DEFAULT_COVERAGES = (0.1, 0.2, 0.4)


NO_MODEL = "Model PMT tidak ditemukan"


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


def require_targeting(actor: Actor) -> None:
    """Targeting pages and commands are for Admin Dinsos and analysts."""
    if not actor.may(Permission.TARGETING):
        raise PermissionDenied("Halaman sasaran hanya untuk Admin Dinsos dan Analis.")


def area_condition(actor: Actor, area_code: str | None = None) -> sa.ColumnElement[bool]:
    """Families in the actor's area, or in ``area_code`` inside it."""
    if area_code and not actor.in_area(area_code):
        raise PermissionDenied("Wilayah ini di luar wilayah kerja Anda.")
    return family_store.in_area(area_code or actor.area_code)


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
            conn,
            actor,
            AuditAction.PMT_MODEL_SAVE,
            "pmt_model",
            model_id,
            detail={"name": label, "file": source.name},
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
    raise NotFound(NO_MODEL)


def _unused(conn: sa.Connection, model_id: int) -> dict[str, Any]:
    row = store.get_model(conn, model_id, lock=True)
    if row is None:
        raise NotFound(NO_MODEL)
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
        audit.record(conn, actor, AuditAction.PMT_MODEL_RENAME, "pmt_model", model_id, detail={"name": label})


def delete_model(db: Database, actor: Actor, model_id: int) -> None:
    """Delete a version that was never used for a ranking."""
    require_targeting(actor)
    with db.begin() as conn:
        _unused(conn, model_id)
        store.delete_model(conn, model_id)
        audit.record(conn, actor, AuditAction.PMT_MODEL_DELETE, "pmt_model", model_id)


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
                conn,
                actor,
                AuditAction.PMT_MODEL_EVALUATE,
                "pmt_model",
                model_id,
                detail={"evaluation": evaluation_id},
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


def resolve_model(conn: sa.Connection, model_id: int | None) -> int | None:
    """The given model version (checked), else the one of the latest ranking run."""
    if model_id is not None:
        if store.get_model(conn, model_id) is None:
            raise NotFound(NO_MODEL)
        return model_id
    return store.latest_ranked_model(conn)


def eligible_families(
    conn: sa.Connection, rule: Rule, reference_date: date, model_id: int | None
) -> tuple[int | None, sa.Select[Any]]:
    """The model a rule's desil and skor are read from (``resolve_model``) and the ``SELECT families.id`` of every
    family satisfying the rule on ``reference_date``."""
    chosen = resolve_model(conn, model_id)
    scores = store.scores_source(chosen) if chosen is not None else None
    return chosen, select_eligible(rule, reference_date=reference_date, scores=scores)


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
            source=f"Sumber: tepat, registri {db.offices.for_area(actor.area_code).agency}",
        )
        if rows
        else ""
    )
    return {"model_id": chosen, "rows": rows, "totals": totals, "chart": chart}
