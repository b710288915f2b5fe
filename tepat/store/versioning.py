"""Writing and reading system-versioned rows (``families``, ``members``).

A change copies the current row into its ``*_versions`` table (with
``valid_to``) and then updates it with ``version + 1``: nothing is overwritten
without a trace, and an edit based on a stale version is refused.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from tepat.domain.regions import office_of
from tepat.store.areas import office_of_family
from tepat.store.schema import VERSIONED
from tepat.store.targeting import scores_follow

VERSION_COLUMNS = ("version", "valid_from", "changed_by", "change_reason", "import_id")


def insert_row(
    conn: sa.Connection,
    table: sa.Table,
    values: Mapping[str, Any],
    *,
    changed_by: str,
    reason: str,
    at: datetime,
    import_id: int | None = None,
) -> int:
    """Insert the first version of a row and return its id."""
    row = {
        **values,
        **_office(values),
        "version": 1,
        "valid_from": at,
        "changed_by": changed_by,
        "change_reason": reason,
        "import_id": import_id,
    }
    return int(conn.execute(table.insert().values(row).returning(table.c.id)).scalar_one())


def lock_current(conn: sa.Connection, table: sa.Table, row_id: int) -> dict[str, Any] | None:
    """The current row, locked for update (PostgreSQL; SQLite's writer lock covers it)."""
    row = conn.execute(sa.select(table).where(table.c.id == row_id).with_for_update()).mappings().first()
    return dict(row) if row else None


def update_row(
    conn: sa.Connection,
    table: sa.Table,
    current: Mapping[str, Any],
    changes: Mapping[str, Any],
    *,
    changed_by: str,
    reason: str,
    at: datetime,
    import_id: int | None = None,
) -> bool:
    """Keep ``current`` as an old version and apply ``changes``; ``False`` when nothing differs.

    ``current`` must come from ``lock_current`` in the same transaction.
    """
    real = {k: v for k, v in changes.items() if current.get(k) != v}
    if not real:
        return False
    real.update(_office(real))
    moved = (
        table.name == "families" and real.get("office_code", current["office_code"]) != current["office_code"]
    )
    versions = VERSIONED[table.name]
    conn.execute(versions.insert().values({**current, "valid_to": at}))
    conn.execute(
        table.update()
        .where(table.c.id == current["id"])
        .values(
            **real,
            version=current["version"] + 1,
            valid_from=at,
            changed_by=changed_by,
            change_reason=reason,
            import_id=import_id,
        )
    )
    if moved:
        scores_follow(conn, [current["id"]])
    return True


def _office(values: Mapping[str, Any]) -> dict[str, Any]:
    """The ``office_code`` that goes with ``values``: a family's from its kelurahan, a member's from its family
    (nothing when neither changes)."""
    if "kelurahan_code" in values:
        return {"office_code": office_of(str(values["kelurahan_code"]))}
    if "family_id" in values:
        return {"office_code": office_of_family(values["family_id"])}
    return {}


Where = Callable[[sa.Table], sa.ColumnElement[bool]]
"""A condition built for a given table, so the same one applies to current and old versions."""


def all_versions(conn: sa.Connection, table: sa.Table, where: Where | None = None) -> list[dict[str, Any]]:
    """Every version (old and current) of the rows matching ``where``, oldest first per row."""
    versions = VERSIONED[table.name]
    cols = [c.name for c in table.columns]
    current = sa.select(
        *[table.c[c] for c in cols], sa.cast(sa.null(), versions.c.valid_to.type).label("valid_to")
    )
    old = sa.select(*[versions.c[c] for c in cols], versions.c.valid_to)
    if where is not None:
        current = current.where(where(table))
        old = old.where(where(versions))
    union = sa.union_all(current, old).subquery()
    rows = conn.execute(sa.select(union).order_by(union.c.id, union.c.version)).mappings()
    return [dict(r) for r in rows]


def as_of(conn: sa.Connection, table: sa.Table, where: Where, at: datetime) -> list[dict[str, Any]]:
    """The version of each matching row that was current at ``at`` (rows created later are absent)."""
    out = []
    for row in all_versions(conn, table, where):
        valid_to = row["valid_to"]
        if _le(row["valid_from"], at) and (valid_to is None or _lt(at, valid_to)):
            out.append(row)
    return out


def _le(a: datetime, b: datetime) -> bool:
    return _naive(a) <= _naive(b)


def _lt(a: datetime, b: datetime) -> bool:
    return _naive(a) < _naive(b)


def _naive(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
