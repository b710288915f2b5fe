"""The office row (``offices``): which kabupaten/kota this database serves, and how it names itself."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from tepat.domain.office import Office
from tepat.store.schema import offices


def current(conn: sa.Connection) -> Office | None:
    """The office this database serves (the first chosen), or ``None`` before ``tepat init --office``."""
    row = (
        conn.execute(sa.select(offices).order_by(offices.c.chosen_at, offices.c.code).limit(1))
        .mappings()
        .first()
    )
    if row is None:
        return None
    return Office(
        code=row["code"],
        name=row["name"],
        province_name=row["province_name"],
        agency=row["agency"],
        short_agency=row["short_agency"],
        address=row["address"] or "",
    )


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
