"""The office rows (``offices``): which kabupaten/kota this database serves — one, or several in a province's
deployment — and how each names itself."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from tepat.domain.office import Office
from tepat.store import partitions
from tepat.store.schema import offices


def chosen(conn: sa.Connection) -> list[Office]:
    """The offices this database serves, in the order they were chosen (none before ``tepat init --office``)."""
    rows = conn.execute(sa.select(offices).order_by(offices.c.chosen_at, offices.c.code)).mappings()
    return [
        Office(
            code=row["code"],
            name=row["name"],
            province_name=row["province_name"],
            agency=row["agency"],
            short_agency=row["short_agency"],
            address=row["address"] or "",
        )
        for row in rows
    ]


def current(conn: sa.Connection) -> Office | None:
    """The first office chosen, or ``None`` before ``tepat init --office``."""
    found = chosen(conn)
    return found[0] if found else None


def choose(conn: sa.Connection, office: Office, at: datetime) -> None:
    """Make ``office`` the database's office (its names as given); choosing it again updates them."""
    values = {
        "name": office.name,
        "province_name": office.province_name,
        "agency": office.agency,
        "short_agency": office.short_agency,
        "address": office.address or None,
    }
    if conn.execute(sa.select(offices.c.code).where(offices.c.code == office.code)).first():
        conn.execute(offices.update().where(offices.c.code == office.code).values(**values))
    else:
        conn.execute(offices.insert().values(code=office.code, chosen_at=at, **values))
    partitions.add_office(conn, office.code)  # on PostgreSQL, its partition of each large table
