"""The area predicates, as SQL: a region-code column inside an area (``within``), or a region containing it
(``containing``); and the office key, by which office-owned rows name each other (``join_on``)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from tepat.domain.regions import office_of
from tepat.store.schema import families


def within(column: sa.ColumnElement[str], area_code: str) -> sa.ColumnElement[bool]:
    """``column`` (a region code of any level) is ``area_code`` or lies inside it; ``""`` is everywhere.

    The SQL twin of ``tepat.domain.regions.contains``: a province, a kabupaten/kota, a kecamatan or a kelurahan
    bound the same way, whatever the column's level.
    """
    if area_code == "":
        return sa.true()
    if area_code.count(".") == 3:  # a kelurahan holds no region: equality, which an index answers
        inside = column == area_code
    else:
        inside = sa.or_(column == area_code, column.startswith(area_code + "."))
    return sa.and_(same_office(getattr(column, "table", None), area_code), inside)


def same_office(table: sa.FromClause | None, area_code: str) -> sa.ColumnElement[bool]:
    """Rows of ``table`` of the office ``area_code`` lies in, when ``table`` carries ``office_code`` (the large
    tables) and the area is inside one office; else true. Never changes which rows an area holds (a row's office
    is its region's), but names the partition key: PostgreSQL then reads that office's partition only, and Citus
    sends the query to that office's shard."""
    office = office_of(area_code)
    if not office or table is None or "office_code" not in table.c:
        return sa.true()
    return table.c.office_code == office


def join_on(foreign: sa.ColumnElement[Any], key: sa.ColumnElement[Any]) -> sa.ColumnElement[bool]:
    """``foreign = key`` (``members.family_id = families.id``), and the two rows of the same office when both
    sides carry ``office_code``: the join of an office key (a member names its family by id *and* office).

    Never changes which rows match (a row lives in the office of what it names), but lets PostgreSQL read only the
    matching office's partitions of the second table (the office of the first is known, or known per row), and
    keeps a join of two distributed tables on one Citus shard. Every join between office-owned tables goes through
    here (tests/test_office_partitions.py holds the plans to it).

    A subquery joined to an office-owned table must carry ``office_code`` too (select it, and group by it): one that
    forgot would silently join on the id alone and read every office's partitions, so it is refused
    (``ValueError``, a mistake in our code that any test running the query finds). A table without offices
    (a coordinator's, or a test's) joins on the id alone.
    """
    equal = foreign == key
    left, right = getattr(foreign, "table", None), getattr(key, "table", None)
    keyed = [side is not None and "office_code" in side.c for side in (left, right)]
    if all(keyed):
        return sa.and_(equal, left.c.office_code == right.c.office_code)  # type: ignore[union-attr]
    if any(keyed):
        bare = right if keyed[0] else left
        if bare is not None and not isinstance(bare, sa.Table):
            raise ValueError(
                f"join_on: {bare} carries no office_code; select it in the subquery ({foreign} = {key})"
            )
    return equal


def containing(column: sa.ColumnElement[str], area_code: str) -> sa.ColumnElement[bool]:
    """``column`` is ``area_code`` or a region containing it (``""``, everywhere, contains every region): the
    other way round from ``within``, as a city cycle covers a kecamatan's payments or a city-wide search a
    kelurahan."""
    return sa.or_(column == area_code, sa.literal(area_code).startswith(column + "."), column == "")


def office_of_family(family_id: object) -> sa.ScalarSelect[str]:
    """The office of family ``family_id`` (a value or a column), for a row that names the family: it lives in
    its family's office (its foreign key names the family by id and office)."""
    return sa.select(families.c.office_code).where(families.c.id == family_id).scalar_subquery()
