"""The typed read models of stored rows (``Family``, ``Member``, ``Programme``, ``User``) are the schema's columns,
name for name and type for type: a column added to a table without its field (or a field the table lacks) fails
here, so mypy's checks of every ``family["…"]`` read stay true."""

from __future__ import annotations

import types
import typing
from datetime import datetime

import pytest
import sqlalchemy as sa

from tepat.domain import registry_records
from tepat.domain.accounts import User
from tepat.domain.programmes import Programme
from tepat.store import families as family_store
from tepat.store.compiled import read_rows
from tepat.store.database import Database
from tepat.store.schema import families, members, programmes, users
from tests.conftest import actor
from tests.factories import make_family


def _expected(table: sa.Table) -> dict[str, object]:
    """Each column's Python type (``| None`` when nullable); a JSON column's is ``None``: its model says which JSON
    (``list[str]``, ``dict[str, int]``), and only whether it may be null is checked."""
    expected: dict[str, object] = {}
    for column in table.c:
        optional = column.nullable and not column.primary_key
        if isinstance(column.type, sa.JSON):
            expected[column.name] = types.NoneType if optional else None
            continue
        python_type = column.type.python_type
        expected[column.name] = python_type | None if optional else python_type
    return expected


@pytest.mark.parametrize(
    ("model", "table"),
    [
        (registry_records.Family, families),
        (registry_records.Member, members),
        (Programme, programmes),
        (User, users),
    ],
    ids=lambda v: getattr(v, "__name__", getattr(v, "name", "")),
)
def test_model_fields_are_the_tables_columns(model: type, table: sa.Table) -> None:
    hints = typing.get_type_hints(model)
    expected = _expected(table)
    assert set(hints) == set(expected), (
        f"{model.__name__}: missing {sorted(set(expected) - set(hints))}, extra {sorted(set(hints) - set(expected))}"
    )
    for name, wanted in expected.items():
        got = hints[name]
        if wanted is None or wanted is types.NoneType:  # JSON: may it be null?
            nullable = types.NoneType in typing.get_args(got)
            assert nullable == (wanted is types.NoneType), f"{model.__name__}.{name}: nullable is {nullable}"
            continue
        assert got == wanted, f"{model.__name__}.{name}: {got} in the model, {wanted} in the table"


def test_a_stored_family_reads_as_its_model(db: Database) -> None:
    """What the store returns has exactly the model's keys (no column renamed or left out by a query), by id and by
    NIK."""
    family_id = make_family(db, actor())
    with db.read() as conn:
        family = family_store.get(conn, family_id)
        people = family_store.members_of(conn, family_id)
    assert family is not None and len(people) == 3
    assert set(family) == set(typing.get_type_hints(registry_records.Family))
    assert all(set(person) == set(typing.get_type_hints(registry_records.Member)) for person in people)
    found = family_store.family_by_active_nik(db, people[0]["nik"])
    assert found is not None
    assert found[0] == family and found[1] == people


def test_the_nik_lookup_reads_every_row_as_core_does(db: Database) -> None:
    """The lookup converts the family's columns (repeated beside each member) once; every row still reads as Core
    reads it: dates as dates, flags as booleans, on every row."""
    family_id = make_family(db, actor())
    with db.read() as conn:
        nik = family_store.members_of(conn, family_id)[0]["nik"]
        core = [list(row) for row in conn.execute(family_store.FAMILY_BY_NIK, {"nik": nik})]
    compiled = [list(row) for row in read_rows(db, family_store._FAMILY_BY_NIK_QUERY, {"nik": nik})]
    assert len(core) == 3 and compiled == core
    assert all(isinstance(row[family_store._FAMILY_KEYS.index("valid_from")], datetime) for row in compiled)
