"""The CSV reader in linear time, and bounded (issue 13 point 5, and the 50 MB line and huge header of point 14):
a stray quote, a line of megabytes or a header of thousands of columns get a clear error and store nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from tepat.errors import ValidationError
from tepat.files import readers
from tepat.services.imports import import_file
from tepat.store.database import Database
from tepat.store.schema import families, members
from tests.registry_files import CANONICAL_COLUMNS, family, write_csv


def _reference_record_end(data: bytes) -> int | None:
    # The definition: the last newline with an even number of quotes before it.
    for pos in range(len(data) - 1, -1, -1):
        if data[pos : pos + 1] == b"\n" and data.count(b'"', 0, pos) % 2 == 0:
            return pos + 1
    return None


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from([b'"', b"\n", b"a", b",", b";"]), max_size=60).map(b"".join))
def test_record_end_is_the_last_newline_outside_quotes(data: bytes) -> None:
    assert readers._record_end(data) == _reference_record_end(data)


def _count(db: Database, table: sa.Table) -> int:
    with db.read() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def test_a_stray_quote_is_refused_with_its_line_and_nothing_is_stored(
    db: Database, admin, tmp_path: Path
) -> None:
    rows = family() + family() + family()
    rows[4]["alamat"] = 'Jl. "Melati no. 4'  # the closing quote forgotten: row 5, spreadsheet line 6
    path = write_csv(tmp_path / "dtks.csv", rows)
    text = path.read_text().replace('"Jl. ""Melati no. 4"', 'Jl. "Melati no. 4')
    path.write_text(text)
    with pytest.raises(ValidationError) as exc:
        import_file(db, admin, path)
    assert "sekitar baris 6" in exc.value.message and "tanda kutip" in exc.value.message
    assert _count(db, families) == 0 and _count(db, members) == 0


def test_quoted_newlines_inside_a_field_still_import(db: Database, admin, tmp_path: Path) -> None:
    rows = family(alamat="Jl. Melati\nGang 3")  # one family: the same address on every member's row
    result = import_file(db, admin, write_csv(tmp_path / "dtks.csv", rows))
    assert (result.rows_read, result.rows_rejected, result.members_created) == (3, 0, 3)


def test_a_line_of_megabytes_is_refused_without_reading_the_rest(db: Database, admin, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "dtks.csv", family())
    with path.open("a") as f:
        f.write('3275010101800001,"' + "x" * (readers.MAX_RECORD_BYTES + 10) + "\n")
        f.write("3275010101800002,baris,berikut\n")
    with pytest.raises(ValidationError) as exc:
        import_file(db, admin, path)
    assert "sekitar baris 5" in exc.value.message and "lebih dari 1 MB" in exc.value.message
    assert _count(db, members) == 0


def test_a_header_of_thousands_of_columns_is_refused(db: Database, admin, tmp_path: Path) -> None:
    columns = list(CANONICAL_COLUMNS) + [f"kolom{i}" for i in range(5000)]
    path = write_csv(tmp_path / "lebar.csv", family(), columns=columns)
    with pytest.raises(ValidationError) as exc:
        import_file(db, admin, path)
    assert "kolom di baris judul; paling banyak 1.000" in exc.value.message
