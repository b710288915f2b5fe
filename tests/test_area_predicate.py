"""One area predicate (issue 14 point 2): the SQL ``within`` answers as the domain's ``contains`` does, for every
level of area and of region, a province included (an older predicate let a province code mean "everywhere")."""

from __future__ import annotations

import itertools

import pytest
import sqlalchemy as sa

from tepat.domain.regions import contains
from tepat.store.areas import containing, within

CODES = [
    "",
    "32",
    "33",
    "32.75",
    "32.76",
    "32.75.01",
    "32.75.02",
    "32.75.01.1001",
    "32.75.01.1002",
    "32.76.01.1006",
    "33.01.01.2001",
]


@pytest.mark.parametrize(
    ("predicate", "contained"),
    [
        (within, lambda area, code: contains(area, code)),  # the column's region lies inside the area
        (containing, lambda area, code: contains(code, area)),  # the column's region covers the area
    ],
    ids=["within", "containing"],
)
def test_each_predicate_agrees_with_contains_on_every_pair(db, predicate, contained) -> None:  # type: ignore[no-untyped-def]
    with db.read() as conn:
        for area, code in itertools.product(CODES, CODES[1:]):
            found = conn.execute(sa.select(predicate(sa.literal(code, sa.String), area))).scalar_one()
            assert bool(found) == contained(area, code), (predicate.__name__, area, code)
