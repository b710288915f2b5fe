"""One area predicate (issue 14 point 2): the SQL ``within`` answers as the domain's ``contains`` does, for every
level of area and of region, a province included (an older predicate let a province code mean "everywhere")."""

from __future__ import annotations

import itertools

import sqlalchemy as sa

from tepat.domain.regions import contains
from tepat.store.areas import within

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


def test_within_agrees_with_contains_on_every_pair(db) -> None:
    pairs = [(area, code) for area, code in itertools.product(CODES, CODES[1:])]
    with db.read() as conn:
        for area, code in pairs:
            found = conn.execute(sa.select(within(sa.literal(code, sa.String), area))).scalar_one()
            assert bool(found) == contains(area, code), (area, code)
