"""PMT features of registry families, computed set-based in SQL: the one mapping from survey column to registry.

A model is fitted on survey columns (``jumlah_art``, ``jenis_lantai``,
``aset_mobil``, …, see ``tepat.synth.survey``) and applied to the registry. This
module is the single place that says which registry expression each survey
column means:

* family columns are the canonical file columns of ``FAMILY_FIELDS`` (``jenis_lantai``
  → ``families.floor_material``; yes/no assets become 0/1);
* member features are aggregates over the family's ``anggota`` (members alive and
  active in the registry), grouped by family in one subquery: household size,
  children (under 18) and elderly (60+) on the reference date, and the head's age,
  sex, education and work, and whether anyone has a disability.

Ages are never computed in SQL: "under 18 on day d" is "born after d − 18 years"
(the cut ``tepat.store.rule_sql.birth_date_cut`` gives), and the head's age is
computed in NumPy from the head's birth date.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl
import sqlalchemy as sa

from tepat.domain.households import FAMILY_FIELDS, LifeStatus, RegistryStatus
from tepat.errors import ValidationError
from tepat.store.areas import join_on, within
from tepat.store.rule_sql import birth_date_cut
from tepat.store.schema import families, members

Columns = dict[str, npt.NDArray[Any]]
HEAD = "kepala_keluarga"
HEAD_BIRTH = "_lahir_kepala"
FETCH_BATCH = 100_000


@dataclass(frozen=True)
class RegistryFeature:
    """One survey column as the registry knows it."""

    column: str  # survey / canonical column name, as in the model
    label: str  # Indonesian label for pages
    source: str  # "keluarga" or "anggota"


def _family_sources() -> dict[str, tuple[sa.ColumnElement[Any], str]]:
    out: dict[str, tuple[sa.ColumnElement[Any], str]] = {}
    for field in FAMILY_FIELDS:
        col = families.c[field.name]
        if field.kind == "bool":
            out[field.column] = (sa.case((col.is_(None), None), (col, 1), else_=0), field.label)
        elif field.kind in ("enum", "int"):
            out[field.column] = (col, field.label)
    out["kode_kecamatan"] = (families.c.kecamatan_code, "Kecamatan")
    out["kode_kelurahan"] = (families.c.kelurahan_code, "Kelurahan")
    return out


FAMILY_SOURCES = _family_sources()


def _head(column: sa.ColumnElement[Any], type_: Any = sa.String) -> sa.ColumnElement[Any]:
    return sa.func.max(sa.case((members.c.relationship == HEAD, column)), type_=type_)


def _count_born(after: bool, years: int) -> Callable[[date], sa.ColumnElement[Any]]:
    def build(day: date) -> sa.ColumnElement[Any]:
        cut = birth_date_cut(day, years)
        cond = members.c.birth_date > cut if after else members.c.birth_date <= cut
        return sa.func.sum(sa.case((cond, 1), else_=0))

    return build


MEMBER_SOURCES: dict[str, tuple[Callable[[date], sa.ColumnElement[Any]], str]] = {
    "jumlah_art": (lambda day: sa.func.count(), "Jumlah anggota keluarga"),
    "jumlah_anak": (_count_born(True, 18), "Jumlah anak (di bawah 18 tahun)"),
    "jumlah_lansia": (_count_born(False, 60), "Jumlah lansia (60 tahun ke atas)"),
    HEAD_BIRTH: (lambda day: _head(members.c.birth_date, sa.Date), "Tanggal lahir kepala keluarga"),
    "jenis_kelamin_kepala": (lambda day: _head(members.c.sex), "Jenis kelamin kepala keluarga"),
    "pendidikan_kepala": (lambda day: _head(members.c.education), "Pendidikan kepala keluarga"),
    "status_pekerjaan_kepala": (lambda day: _head(members.c.work_status), "Status pekerjaan kepala keluarga"),
    "ada_disabilitas": (
        lambda day: sa.func.max(
            sa.case(
                (sa.and_(members.c.disability.is_not(None), members.c.disability != "tidak_ada"), 1), else_=0
            )
        ),
        "Ada anggota penyandang disabilitas",
    ),
}
DERIVED = {"umur_kepala": (HEAD_BIRTH, "Umur kepala keluarga")}
"""Features computed in NumPy from a fetched column (the head's age from the head's birth date)."""
COUNTS = ("jumlah_art", "jumlah_anak", "jumlah_lansia", "ada_disabilitas")
"""Member aggregates that are 0, not missing, for a family without active members."""


def catalogue() -> list[RegistryFeature]:
    """Every survey column a model may use on the registry, with its label."""
    out = [RegistryFeature(name, label, "keluarga") for name, (_, label) in FAMILY_SOURCES.items()]
    out += [
        RegistryFeature(name, label, "anggota")
        for name, (_, label) in MEMBER_SOURCES.items()
        if name != HEAD_BIRTH
    ]
    out += [RegistryFeature(name, label, "anggota") for name, (_, label) in DERIVED.items()]
    return out


def label_of(column: str) -> str:
    """The Indonesian label of a feature column (the column itself when unknown)."""
    for feature in catalogue():
        if feature.column == column:
            return feature.label
    return column


def check_features(names: Sequence[str]) -> None:
    """Refuse features the registry cannot provide (the model could then not be applied to families)."""
    known = {f.column for f in catalogue()}
    missing = [n for n in names if n not in known]
    if missing:
        raise ValidationError(
            f"Fitur tidak tersedia di registri: {', '.join(missing)}. Pakai kolom survei yang juga ada di registri "
            f"(mis. jumlah_art, jenis_lantai, aset_mobil)."
        )


def feature_query(
    names: Sequence[str],
    reference_date: date,
    *,
    where: sa.ColumnElement[bool] | None = None,
    area: str | None = None,
) -> sa.Select[Any]:
    """``id``, ``version`` and the requested features of active families (or ``where``), one row per family, by id;
    with ``area``, only the families living in it (one office of several)."""
    check_features(names)
    wanted = [DERIVED[n][0] if n in DERIVED else n for n in names]
    wanted = list(dict.fromkeys(wanted))
    member_names = [n for n in wanted if n in MEMBER_SOURCES]
    cols: list[sa.ColumnElement[Any]] = [families.c.id, families.c.version]
    source: sa.FromClause = families
    if member_names:
        agg = (
            sa.select(
                members.c.family_id,
                members.c.office_code,
                *(MEMBER_SOURCES[n][0](reference_date).label(n) for n in member_names),
            )
            .where(
                members.c.status == RegistryStatus.AKTIF.value,
                members.c.life_status == LifeStatus.HIDUP.value,
            )
            .group_by(
                members.c.family_id, members.c.office_code
            )  # a family's office is one: the key, for the join
            .subquery("anggota")
        )
        source = families.outerjoin(agg, join_on(agg.c.family_id, families.c.id))
    for name in wanted:
        if name in FAMILY_SOURCES:
            cols.append(FAMILY_SOURCES[name][0].label(name))
        elif name in COUNTS:
            cols.append(sa.func.coalesce(agg.c[name], 0).label(name))
        else:
            cols.append(agg.c[name])
    condition = families.c.registry_status == RegistryStatus.AKTIF.value if where is None else where
    if area:
        condition = sa.and_(condition, within(families.c.kelurahan_code, area))
    return sa.select(*cols).select_from(source).where(condition).order_by(families.c.id)


def read_features(
    conn: sa.Connection,
    names: Sequence[str],
    reference_date: date,
    *,
    where: sa.ColumnElement[bool] | None = None,
    area: str | None = None,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], Columns]:
    """Family ids, versions and feature columns (numbers as floats with NaN, codes as objects), in id order."""
    query = feature_query(names, reference_date, where=where, area=area)
    keys = [c.name for c in query.selected_columns]
    frame = fetch_frame(conn, query, keys)
    ids = frame["id"].cast(pl.Int64).to_numpy()
    versions = frame["version"].cast(pl.Int64).to_numpy()
    out: Columns = {}
    for name in names:
        if name in DERIVED:
            out[name] = _ages(frame[DERIVED[name][0]], reference_date)
        else:
            out[name] = _array(frame[name])
    return ids, versions, out


def fetch_frame(conn: sa.Connection, query: sa.Select[Any], keys: Sequence[str]) -> pl.DataFrame:
    """Run ``query`` and fetch its rows in large batches into one Polars frame."""
    result = conn.execute(query)
    parts: list[pl.DataFrame] = []
    while rows := result.fetchmany(FETCH_BATCH):
        parts.append(pl.DataFrame(rows, schema=list(keys), orient="row", infer_schema_length=None))
    if not parts:
        return pl.DataFrame({k: [] for k in keys})
    return pl.concat(parts, how="vertical_relaxed")


def _array(series: pl.Series) -> npt.NDArray[Any]:
    if series.dtype == pl.String:
        return series.to_numpy().astype(object)
    if series.dtype.is_numeric() or series.dtype == pl.Boolean:
        return series.cast(pl.Float64).to_numpy()
    if series.dtype == pl.Null:
        return np.full(series.len(), np.nan)
    return series.cast(pl.String).to_numpy().astype(object)


def _ages(series: pl.Series, day: date) -> npt.NDArray[np.float64]:
    born = series.cast(pl.String).str.to_date("%Y-%m-%d", strict=False) if series.dtype != pl.Date else series
    years = day.year - born.dt.year()
    before_birthday = (born.dt.month() > day.month) | (
        (born.dt.month() == day.month) & (born.dt.day() > day.day)
    )
    age = years - before_birthday.cast(pl.Int32)
    return age.cast(pl.Float64).to_numpy()
