"""The public status check's lookup and its log (which never holds a full NIK)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from tepat.domain.households import RegistryStatus
from tepat.store.areas import join_on
from tepat.store.compiled import CompiledQuery, DriverConnection
from tepat.store.schema import families, family_scores, members, ranking_runs, status_checks

_LOOKUP_COLUMNS = (
    members.c.id.label("member_id"),
    members.c.name,
    members.c.birth_date,
    members.c.status.label("member_status"),
    members.c.inactive_reason.label("member_inactive_reason"),
    members.c.life_status,
    families.c.id.label("family_id"),
    families.c.kk_number,
    families.c.kelurahan_code,
    families.c.kecamatan_code,
    families.c.registry_status,
    families.c.verification_status,
    families.c.verified_on,
)


# Built once: the public check runs this for every request, so it is not rebuilt each time.
_BY_NIK = (
    sa.select(*_LOOKUP_COLUMNS)
    .join(families, join_on(members.c.family_id, families.c.id))
    .where(members.c.nik == sa.bindparam("nik"))
    .order_by((members.c.status == RegistryStatus.AKTIF.value).desc(), members.c.id.desc())
    .limit(1)
)


# The desil of the family in the latest ranking run (NULL before any ranking), fetched with the person so
# that a check is one round trip whatever the outcome.
_LATEST_MODEL = (
    sa.select(ranking_runs.c.model_id).order_by(ranking_runs.c.id.desc()).limit(1).scalar_subquery()
)
_DESIL = (
    sa.select(family_scores.c.desil)
    .where(family_scores.c.model_id == _LATEST_MODEL, join_on(family_scores.c.family_id, families.c.id))
    .scalar_subquery()
)
_CHECK = _BY_NIK.add_columns(_DESIL.label("desil"))


_CHECK_QUERY = CompiledQuery(_CHECK)


def person_for_check(conn: sa.Connection, nik: str) -> dict[str, Any] | None:
    """The status check's one statement, on the driver's cursor of ``conn`` (``tepat.store.compiled``): the person
    with this NIK (the active record first, else the latest), their family and the latest desil."""
    return _CHECK_QUERY.first(DriverConnection.of(conn), {"nik": nik})


def person_by_nik(conn: sa.Connection, nik: str) -> dict[str, Any] | None:
    """The person with this NIK and their family: the active record first, else the latest one."""
    row = conn.execute(_BY_NIK, {"nik": nik}).mappings().first()
    return dict(row) if row else None


def recent(conn: sa.Connection, limit: int = 100) -> list[dict[str, Any]]:
    q = sa.select(status_checks).order_by(status_checks.c.id.desc()).limit(limit)
    return [dict(r) for r in conn.execute(q).mappings()]


def insert_many(conn: sa.Connection, rows: list[dict[str, Any]]) -> None:
    """Write a batch of log rows (the checker buffers them briefly under load)."""
    if rows:
        conn.execute(status_checks.insert(), rows)
