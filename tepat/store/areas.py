"""The area predicates, as SQL: a region-code column inside an area (``within``), or a region containing it
(``containing``)."""

from __future__ import annotations

import sqlalchemy as sa


def within(column: sa.ColumnElement[str], area_code: str) -> sa.ColumnElement[bool]:
    """``column`` (a region code of any level) is ``area_code`` or lies inside it; ``""`` is everywhere.

    The SQL twin of ``tepat.domain.regions.contains``: a province, a kabupaten/kota, a kecamatan or a kelurahan
    bound the same way, whatever the column's level.
    """
    if area_code == "":
        return sa.true()
    if area_code.count(".") == 3:  # a kelurahan holds no region: equality, which an index answers
        return column == area_code
    return sa.or_(column == area_code, column.startswith(area_code + "."))


def containing(column: sa.ColumnElement[str], area_code: str) -> sa.ColumnElement[bool]:
    """``column`` is ``area_code`` or a region containing it (``""``, everywhere, contains every region): the
    other way round from ``within``, as a city cycle covers a kecamatan's payments or a city-wide search a
    kelurahan."""
    return sa.or_(column == area_code, sa.literal(area_code).startswith(column + "."), column == "")


def office_of(column: sa.ColumnElement[str]) -> sa.ColumnElement[str]:
    """The office (kabupaten/kota code) of a kecamatan or kelurahan code column: ``tepat.domain.regions.office_of``
    in SQL, as the tables' ``office_code`` checks read it."""
    return sa.func.substr(column, 1, 5)
