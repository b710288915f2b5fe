"""Exporting the registry in the canonical layout (CSV, XLSX, Parquet), streamed in batches.

One row per active member with its family's columns repeated, ordered by
family and member, so that importing the file again changes nothing. A family
is exported when it is active, or when it is the latest family with its KK
number and no active one exists (the family an import would match).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import polars as pl
import sqlalchemy as sa

from tepat.domain.access import Actor
from tepat.domain.audit_actions import AuditAction
from tepat.domain.formatting import number
from tepat.domain.households import ASSETS, CANONICAL_COLUMNS, FAMILY_FIELDS, MEMBER_FIELDS, RegistryStatus
from tepat.errors import PermissionDenied, ValidationError
from tepat.files.writers import XLSX_MAX_ROWS, format_of, open_writer
from tepat.services.office import requested_area
from tepat.store import audit
from tepat.store.areas import join_on
from tepat.store.database import Database
from tepat.store.schema import families, members

BATCH_ROWS = 50_000


@dataclass(frozen=True)
class ExportResult:
    path: str
    format: str
    area_code: str
    rows: int
    families: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _area(db: Database, actor: Actor, area_code: str | None) -> str:
    if not actor.sees_personal_data:
        raise PermissionDenied("Peran Anda hanya boleh melihat data agregat, bukan data pribadi")
    if not (area_code or "").strip():
        return actor.area_code  # the actor's whole area ("" for the system: every region, "semua wilayah")
    return requested_area(db, actor, area_code)


FAMILY_CHUNK = 20_000


def _exported(area: str) -> sa.ColumnElement[bool]:
    other = families.alias("other")
    condition = sa.or_(
        families.c.registry_status == RegistryStatus.AKTIF.value,
        ~sa.exists().where(
            other.c.kk_number == families.c.kk_number,
            sa.or_(other.c.registry_status == RegistryStatus.AKTIF.value, other.c.id > families.c.id),
        ),
    )
    if area:
        condition = sa.and_(
            condition, sa.or_(families.c.kelurahan_code == area, families.c.kelurahan_code.like(area + ".%"))
        )
    return condition


def _family_chunk(area: str, after_id: int) -> sa.Select[Any]:
    # Walking families by primary key in chunks (keyset) and their members by ix_members_family_id
    # keeps every query an index range scan, with no sort of the whole registry.
    return (
        sa.select(families.c.id, *(families.c[f.name] for f in FAMILY_FIELDS))
        .where(families.c.id > after_id, _exported(area))
        .order_by(families.c.id)
        .limit(FAMILY_CHUNK)
    )


def _members_of(first_id: int, last_id: int) -> sa.Select[Any]:
    return (
        sa.select(members.c.family_id, *(members.c[f.name] for f in MEMBER_FIELDS))
        .where(members.c.family_id.between(first_id, last_id), members.c.status == RegistryStatus.AKTIF.value)
        .order_by(members.c.family_id, members.c.id)
    )


def _count(area: str) -> sa.Select[Any]:
    return (
        sa.select(sa.func.count())
        .select_from(families.join(members, join_on(members.c.family_id, families.c.id)))
        .where(members.c.status == RegistryStatus.AKTIF.value, _exported(area))
    )


_BOOLEANS = {name for name, _, _ in ASSETS} | {"pregnant"}


def _raw_rows(conn: sa.Connection, query: sa.Select[Any]) -> list[tuple[Any, ...]]:
    """The driver's own rows: SQLite's dates are already ISO text and its booleans 0/1, which is what the file wants."""
    result = conn.execute(query)
    try:
        return list(result.cursor.fetchall())
    finally:
        result.close()


def _canonical(family_rows: list[Any], member_rows: list[Any]) -> pl.DataFrame:
    fam_names = ["_family", *(f.name for f in FAMILY_FIELDS)]
    mem_names = ["_family", *(f.name for f in MEMBER_FIELDS)]
    fam = pl.DataFrame(family_rows, schema=fam_names, orient="row", infer_schema_length=None)
    mem = pl.DataFrame(member_rows, schema=mem_names, orient="row", infer_schema_length=None)
    joined = fam.join(mem, on="_family", how="inner", maintain_order="right")
    names = [f.name for f in FAMILY_FIELDS + MEMBER_FIELDS]
    return joined.select(
        (pl.col(n).cast(pl.Int8).cast(pl.String) if n in _BOOLEANS else pl.col(n).cast(pl.String)).alias(
            column
        )
        for n, column in zip(names, CANONICAL_COLUMNS, strict=True)
    ).with_columns(joined.get_column("_family").alias("_family"))


def export_registry(
    db: Database,
    actor: Actor,
    path: str | Path,
    *,
    fmt: str | None = None,
    area_code: str | None = None,
    progress: Callable[[int, int | None], None] | None = None,
) -> ExportResult:
    """Write the registry (the whole area, or one kecamatan/kelurahan inside it) to ``path``; ``progress(rows, total)``."""
    kind = format_of(path, fmt)
    area = _area(db, actor, area_code)
    rows_written = family_count = 0
    # Read outside the writing transaction: on SQLite that would hold the write lock for the whole export.
    with db.read() as conn:
        total = conn.execute(_count(area)).scalar_one()
        if kind == "xlsx" and total > XLSX_MAX_ROWS:
            raise ValidationError(
                f"{number(total)} baris tidak muat dalam satu lembar Excel (paling banyak {number(XLSX_MAX_ROWS)}); "
                "gunakan CSV atau Parquet"
            )
        writer = open_writer(path, CANONICAL_COLUMNS, kind)
        try:
            after = 0
            while True:
                family_rows = _raw_rows(conn, _family_chunk(area, after))
                if not family_rows:
                    break
                first, after = family_rows[0][0], family_rows[-1][0]
                frame = _canonical(family_rows, _raw_rows(conn, _members_of(first, after)))
                family_count += frame.get_column("_family").n_unique()
                writer.write(frame.drop("_family"))
                rows_written += frame.height
                if progress is not None:
                    progress(rows_written, total)
        finally:
            writer.close()
    with db.begin() as conn:
        audit.record(
            conn,
            actor,
            AuditAction.REGISTRY_EXPORT,
            "registry",
            area or None,
            area_code=area or None,
            detail={"path": Path(path).name, "format": kind, "rows": rows_written},
        )
    return ExportResult(str(path), kind, area, rows_written, family_count)
