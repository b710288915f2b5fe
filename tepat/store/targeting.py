"""Queries for targeting: PMT model versions, their evaluations, ranking runs and family scores."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl
import sqlalchemy as sa

from tepat.domain.households import LifeStatus, RegistryStatus
from tepat.store.areas import join_on, office_of_family
from tepat.store.bulk import insert_frame, read_frame, refresh_statistics
from tepat.store.schema import families, family_scores, members, pmt_evaluations, pmt_models, ranking_runs

UPDATE_BATCH = 5_000


# ----------------------------------------------------------------- model versions


def insert_model(conn: sa.Connection, values: Mapping[str, Any]) -> int:
    """Store a new model version; returns its id."""
    return int(conn.execute(pmt_models.insert().values(**values).returning(pmt_models.c.id)).scalar_one())


def get_model(conn: sa.Connection, model_id: int, *, lock: bool = False) -> dict[str, Any] | None:
    q = sa.select(pmt_models).where(pmt_models.c.id == model_id)
    if lock:
        q = q.with_for_update()
    row = conn.execute(q).mappings().first()
    return dict(row) if row else None


def list_models(conn: sa.Connection) -> list[dict[str, Any]]:
    """Every model version, newest first, with its latest ranking run and evaluation."""
    last_run = (
        sa.select(ranking_runs.c.model_id, sa.func.max(ranking_runs.c.id).label("run_id"))
        .group_by(ranking_runs.c.model_id)
        .subquery()
    )
    last_eval = (
        sa.select(pmt_evaluations.c.model_id, sa.func.max(pmt_evaluations.c.id).label("evaluation_id"))
        .group_by(pmt_evaluations.c.model_id)
        .subquery()
    )
    q = (
        sa.select(pmt_models, last_run.c.run_id, last_eval.c.evaluation_id)
        .outerjoin(last_run, last_run.c.model_id == pmt_models.c.id)
        .outerjoin(last_eval, last_eval.c.model_id == pmt_models.c.id)
        .order_by(pmt_models.c.id.desc())
    )
    return [dict(r) for r in conn.execute(q).mappings()]


def update_model(conn: sa.Connection, model_id: int, values: Mapping[str, Any]) -> None:
    """Change a version that was never used (the service checks ``first_used_at`` under a lock)."""
    conn.execute(
        pmt_models.update()
        .where(pmt_models.c.id == model_id, pmt_models.c.first_used_at.is_(None))
        .values(**values)
    )


def delete_model(conn: sa.Connection, model_id: int) -> None:
    conn.execute(pmt_evaluations.delete().where(pmt_evaluations.c.model_id == model_id))
    conn.execute(pmt_models.delete().where(pmt_models.c.id == model_id, pmt_models.c.first_used_at.is_(None)))


def mark_used(conn: sa.Connection, model_id: int, at: datetime) -> None:
    conn.execute(
        pmt_models.update()
        .where(pmt_models.c.id == model_id, pmt_models.c.first_used_at.is_(None))
        .values(first_used_at=at)
    )


# ----------------------------------------------------------------- evaluations


def insert_evaluation(conn: sa.Connection, values: Mapping[str, Any]) -> int:
    return int(
        conn.execute(pmt_evaluations.insert().values(**values).returning(pmt_evaluations.c.id)).scalar_one()
    )


def get_evaluation(conn: sa.Connection, evaluation_id: int) -> dict[str, Any] | None:
    row = (
        conn.execute(sa.select(pmt_evaluations).where(pmt_evaluations.c.id == evaluation_id))
        .mappings()
        .first()
    )
    return dict(row) if row else None


# ----------------------------------------------------------------- runs and scores


def insert_run(conn: sa.Connection, values: Mapping[str, Any]) -> int:
    return int(conn.execute(ranking_runs.insert().values(**values).returning(ranking_runs.c.id)).scalar_one())


def finish_run(conn: sa.Connection, run_id: int, values: Mapping[str, Any]) -> None:
    conn.execute(ranking_runs.update().where(ranking_runs.c.id == run_id).values(**values))


def get_run(conn: sa.Connection, run_id: int) -> dict[str, Any] | None:
    row = conn.execute(sa.select(ranking_runs).where(ranking_runs.c.id == run_id)).mappings().first()
    return dict(row) if row else None


def latest_ranked_model(conn: sa.Connection) -> int | None:
    """The model version of the most recent ranking run (the scores rules use by default)."""
    return conn.execute(
        sa.select(ranking_runs.c.model_id).order_by(ranking_runs.c.id.desc()).limit(1)
    ).scalar()


def stored_scores(conn: sa.Connection, model_id: int) -> dict[str, npt.NDArray[Any]]:
    """The stored scores of a model as arrays sorted by family id."""
    q = (
        sa.select(
            family_scores.c.family_id,
            family_scores.c.family_version,
            family_scores.c.predicted,
            family_scores.c.desil,
        )
        .where(family_scores.c.model_id == model_id)
        .order_by(family_scores.c.family_id)
    )
    rows = conn.execute(q).all()
    if not rows:
        empty = np.zeros(0, dtype=np.int64)
        return {"family_id": empty, "family_version": empty, "predicted": np.zeros(0), "desil": empty}
    ids, versions, predicted, desil = zip(*rows, strict=True)
    return {
        "family_id": np.asarray(ids, dtype=np.int64),
        "family_version": np.asarray(versions, dtype=np.int64),
        "predicted": np.asarray(predicted, dtype=np.float64),
        "desil": np.asarray(desil, dtype=np.int64),
    }


def insert_scores(
    conn: sa.Connection, model_id: int, run_id: int, rows: Mapping[str, npt.NDArray[Any]]
) -> None:
    """Bulk insert of new score rows (``tepat.store.bulk.insert_frame``: COPY on PostgreSQL, executemany on
    SQLite); a large load is followed by ANALYZE on PostgreSQL, so rules joined to the scores plan on them."""
    n = len(rows["family_id"])
    frame = pl.DataFrame(
        {
            "model_id": np.full(n, model_id, dtype=np.int64),
            "family_id": rows["family_id"],
            "family_version": rows["family_version"],
            "predicted": rows["predicted"],
            "score": rows["score"],
            "desil": rows["desil"],
            "run_id": np.full(n, run_id, dtype=np.int64),
        }
    )
    if n:
        first, last = int(rows["family_id"].min()), int(rows["family_id"].max())
        frame = frame.join(_offices(conn, first, last), on="family_id", how="left", maintain_order="left")
    insert_frame(conn, "family_scores", frame)
    refresh_statistics(conn, "family_scores", rows=n)


def _offices(conn: sa.Connection, first: int, last: int) -> pl.DataFrame:
    """The office of each family with an id from ``first`` to ``last`` (a score lives in its family's office), read
    in one pass of that range of the (id, office) key: a ranking that adds a few scores reads a few families."""
    query = sa.select(families.c.id, families.c.office_code).where(families.c.id.between(first, last))
    return read_frame(conn, query, pl.Schema({"family_id": pl.Int64, "office_code": pl.String}))


def update_scores(
    conn: sa.Connection, model_id: int, run_id: int, rows: Mapping[str, npt.NDArray[Any]]
) -> None:
    """Overwrite existing score rows by primary key, in batches."""
    stmt = (
        family_scores.update()
        .where(
            family_scores.c.model_id == sa.bindparam("k_model"),
            family_scores.c.family_id == sa.bindparam("k_family"),
        )
        .values(
            family_version=sa.bindparam("v_version"),
            predicted=sa.bindparam("v_predicted"),
            score=sa.bindparam("v_score"),
            desil=sa.bindparam("v_desil"),
            run_id=sa.bindparam("v_run"),
            office_code=_FAMILY_OFFICE,  # a family moved to another office takes its score along
        )
    )
    records = [
        {
            "k_model": r["model_id"],
            "k_family": r["family_id"],
            "v_version": r["family_version"],
            "v_predicted": r["predicted"],
            "v_score": r["score"],
            "v_desil": r["desil"],
            "v_run": run_id,
        }
        for r in _records(model_id, run_id, rows)
    ]
    for start in range(0, len(records), UPDATE_BATCH):
        conn.execute(stmt, records[start : start + UPDATE_BATCH])


def scores_follow(conn: sa.Connection, family_ids: sa.Select[Any] | list[int]) -> None:
    """Put the scores of ``family_ids`` in their family's office: a family moved to another office takes its
    scores along, as its members go by the database's own key (``ON UPDATE CASCADE``); scores carry no key (a
    ranking writes a million at once), so the two places a family moves (``versioning.update_row``, the import's
    ``staging``) call this. Joins read a score by the family's (id, office) (``areas.join_on``)."""
    office = office_of_family(family_scores.c.family_id)
    conn.execute(
        family_scores.update()
        .where(family_scores.c.family_id.in_(family_ids), family_scores.c.office_code != office)
        .values(office_code=office)
    )


_FAMILY_OFFICE = office_of_family(sa.bindparam("k_family"))


def delete_scores(conn: sa.Connection, model_id: int, family_ids: npt.NDArray[np.int64]) -> None:
    stmt = family_scores.delete().where(
        family_scores.c.model_id == model_id, family_scores.c.family_id == sa.bindparam("fid")
    )
    ids = [{"fid": int(i)} for i in family_ids]
    for start in range(0, len(ids), UPDATE_BATCH):
        conn.execute(stmt, ids[start : start + UPDATE_BATCH])


def _records(model_id: int, run_id: int, rows: Mapping[str, npt.NDArray[Any]]) -> list[dict[str, Any]]:
    return [
        {
            "model_id": model_id,
            "family_id": f,
            "family_version": v,
            "predicted": p,
            "score": s,
            "desil": d,
            "run_id": run_id,
        }
        for f, v, p, s, d in zip(
            rows["family_id"].tolist(),
            rows["family_version"].tolist(),
            rows["predicted"].tolist(),
            rows["score"].tolist(),
            rows["desil"].tolist(),
            strict=True,
        )
    ]


def scores_source(model_id: int) -> sa.Subquery:
    """A model's scores as the ``family_id, office_code, desil, skor`` selectable the rule compiler joins (by the
    office key: ``areas.join_on``)."""
    return (
        sa.select(
            family_scores.c.family_id,
            family_scores.c.office_code,
            family_scores.c.desil,
            family_scores.c.score.label("skor"),
        )
        .where(family_scores.c.model_id == model_id)
        .subquery("skor_keluarga")
    )


def family_score(conn: sa.Connection, model_id: int, family_id: int) -> dict[str, Any] | None:
    q = (
        sa.select(family_scores, ranking_runs.c.finished_at, ranking_runs.c.reference_date)
        .join(ranking_runs, ranking_runs.c.id == family_scores.c.run_id)
        .where(family_scores.c.model_id == model_id, family_scores.c.family_id == family_id)
    )
    row = conn.execute(q).mappings().first()
    return dict(row) if row else None


def decile_counts(
    conn: sa.Connection, model_id: int, area: sa.ColumnElement[bool]
) -> list[tuple[str, int, int]]:
    """(kecamatan code, desil, families) of active families in ``area``."""
    q = (
        sa.select(families.c.kecamatan_code, family_scores.c.desil, sa.func.count())
        .join(family_scores, join_on(family_scores.c.family_id, families.c.id))
        .where(
            family_scores.c.model_id == model_id,
            families.c.registry_status == RegistryStatus.AKTIF.value,
            area,
        )
        .group_by(families.c.kecamatan_code, family_scores.c.desil)
        .order_by(families.c.kecamatan_code, family_scores.c.desil)
    )
    return [(str(k), int(d), int(c)) for k, d, c in conn.execute(q)]


def last_run_date(conn: sa.Connection, model_id: int) -> date | None:
    q = (
        sa.select(ranking_runs.c.reference_date)
        .where(ranking_runs.c.model_id == model_id)
        .order_by(ranking_runs.c.id.desc())
        .limit(1)
    )
    return conn.execute(q).scalar()


# ----------------------------------------------------------------- eligibility


def people_count() -> sa.ScalarSelect[Any]:
    """Alive and active members (``anggota``) of the family in the outer query: one index probe per row."""
    return (
        sa.select(sa.func.count())
        .where(
            join_on(members.c.family_id, families.c.id),
            members.c.status == RegistryStatus.AKTIF.value,
            members.c.life_status == LifeStatus.HIDUP.value,
        )
        .correlate(families)
        .scalar_subquery()
    )


def eligible_query(
    eligible_ids: sa.Select[Any], model_id: int | None, area: sa.ColumnElement[bool]
) -> sa.Select[Any]:
    """Eligible families in ``area`` with kecamatan, kelurahan, desil, score and people, poorest first."""
    ids = eligible_ids.add_columns(families.c.office_code).order_by(None).subquery("memenuhi")  # office key
    cols: list[Any] = [
        families.c.id,
        families.c.kecamatan_code,
        families.c.kelurahan_code,
        people_count().label("jiwa"),
    ]
    source = families.join(ids, join_on(ids.c.id, families.c.id))
    if model_id is not None:
        scores = (
            sa.select(
                family_scores.c.family_id,
                family_scores.c.office_code,
                family_scores.c.desil,
                family_scores.c.score,
            )
            .where(family_scores.c.model_id == model_id)
            .subquery("skor")
        )
        source = source.outerjoin(scores, join_on(scores.c.family_id, families.c.id))
        cols += [scores.c.desil, scores.c.score]
        order: list[Any] = [
            sa.func.coalesce(scores.c.desil, 99),
            sa.func.coalesce(scores.c.score, 1e300),
            families.c.id,
        ]
    else:
        # typed NULLs (a bare NULL parameter comes back as text on PostgreSQL, which the Float result type refuses)
        cols += [sa.cast(sa.null(), sa.Integer).label("desil"), sa.cast(sa.null(), sa.Float).label("score")]
        order = [families.c.id]
    return sa.select(*cols).select_from(source).where(area).order_by(*order)
