"""An XLSX whose parts expand far beyond its size is refused before any reader expands it (issue 13 point 6)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from tepat.errors import ImportRejected, ValidationError
from tepat.files import workbooks
from tepat.files.payment_files import read_result_file
from tepat.services.imports import import_file
from tepat.store.database import Database
from tests.registry_files import family, write_xlsx


def _bomb(path: Path, expanded: int = 40 << 20) -> Path:
    """A small workbook-shaped zip whose shared strings expand to ``expanded`` bytes."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        with z.open("xl/sharedStrings.xml", "w", force_zip64=True) as part:
            block = b"a" * (1 << 20)
            for _ in range(expanded >> 20):
                part.write(block)
    return path


def test_an_expanding_workbook_is_refused_before_it_is_read(db: Database, admin, tmp_path: Path) -> None:
    bomb = _bomb(tmp_path / "bom.xlsx")
    assert bomb.stat().st_size < 1 << 20
    with pytest.raises(ValidationError) as exc:
        import_file(db, admin, bomb)
    assert "mengembang menjadi 40 MB" in exc.value.message and "CSV" in exc.value.message


def test_a_real_workbook_passes(db: Database, admin, tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "dtks.xlsx", family())
    workbooks.check_expansion(path, path.name)
    assert import_file(db, admin, path).members_created == 3


def test_the_payment_result_reader_refuses_it_too(tmp_path: Path) -> None:
    data = _bomb(tmp_path / "hasil.xlsx").read_bytes()
    with pytest.raises((ImportRejected, ValidationError)) as exc:
        read_result_file(data, name="hasil.xlsx")
    assert "mengembang" in exc.value.message
