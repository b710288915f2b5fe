"""Names hold letters, spaces and ' . , - only (issue 13 point 11): the form and API check and the bulk import's
vectorised check give the same answer, and a refused name is reported with a clear message."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tepat.domain import names
from tepat.domain.validation import validate_member
from tepat.services.imports import import_file
from tepat.store.database import Database
from tests.registry_files import family, write_csv

ACCEPTED = [
    "Budi Santoso",
    "Hj. Siti Aminah",
    "Drs. H. Budi Hartono, S.Pd.",
    "Ma'ruf",
    "Ma’ruf Amin",
    "Ni Luh Putu Ayu",
    "Nur-Aini",
    "José",
    "Nguyễn Văn An",
    "A",
]
REFUSED = [
    '=HYPERLINK("http://x","klik")',
    "+62812",
    "@SUM(A1)",
    "-Budi",
    "Budi2",
    "Budi_Santoso",
    "Budi <b>",
    "'Budi",
    "Budi; DROP",
    "１２３",
    "Budi²",
]


@pytest.mark.parametrize("name", ACCEPTED)
def test_indonesian_names_with_titles_are_accepted(name: str) -> None:
    assert names.is_valid_name(names.tidy(name))


@pytest.mark.parametrize("name", REFUSED)
def test_digits_symbols_and_formulas_are_refused(name: str) -> None:
    assert not names.is_valid_name(names.tidy(name))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("aZéß ñ'’.,-=+@_1²Ⅻ\u0301\t")), min_size=1, max_size=12))
def test_the_import_and_the_form_agree(text: str) -> None:
    tidy = names.tidy(text)
    vectorised = pl.Series([tidy]).str.normalize(names.NORMAL_FORM).str.contains(names.POLARS_PATTERN)[0]
    assert bool(vectorised) == names.is_valid_name(tidy)


def test_a_form_refuses_a_formula_as_a_name_with_a_clear_message() -> None:
    values = {
        "nik": "3275015705800001",
        "name": "=1+1",
        "sex": "L",
        "birth_date": "1980-05-17",
        "relationship": "kepala_keluarga",
    }
    _, errors = validate_member(values)
    messages = {e.field: e.message for e in errors}
    assert "hanya boleh huruf" in messages["name"]


def test_the_import_reports_a_bad_name_and_keeps_the_rest(db: Database, admin, tmp_path: Path) -> None:
    rows = family() + family()
    rows[3]["nama"] = '=HYPERLINK("http://contoh")'
    rows[1]["nama"] = "Hj. Siti Aminah, S.Pd."
    result = import_file(db, admin, write_csv(tmp_path / "dtks.csv", rows))
    assert any(e.field == "nama" and "hanya boleh huruf" in e.message and e.row == 5 for e in result.errors)
    assert result.members_created >= 3
