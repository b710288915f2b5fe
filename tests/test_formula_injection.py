"""Spreadsheet formula injection: every CSV/XLSX tepat writes neutralises cells a spreadsheet would run
(issue 13 point 11)."""

from __future__ import annotations

import csv
from pathlib import Path

import polars as pl
import pytest

from tepat.domain.payments import Channel
from tepat.files.payment_files import payment_file_bytes
from tepat.files.writers import neutralised_text, open_writer, table_csv, write_errors

ATTACKS = ['=HYPERLINK("http://x","klik")', "+1+1", "@SUM(A1)", "\tcmd", "\r=1", "-2+3", "-"]


@pytest.mark.parametrize("cell", ATTACKS)
def test_formula_starts_get_an_apostrophe(cell: str) -> None:
    assert neutralised_text(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["-5", "-1.500", "Budi", "3275011705800001", "", "Jl. Mawar-Melati"])
def test_numbers_and_text_are_unchanged(cell: str) -> None:
    assert neutralised_text(cell) == cell


def test_exports_error_reports_page_lists_and_payment_files(tmp_path: Path) -> None:
    for suffix in ("csv", "xlsx"):
        path = tmp_path / f"ekspor.{suffix}"
        writer = open_writer(path, ["nama", "rw"])
        writer.write(pl.DataFrame({"nama": ["=1+1", "Budi"], "rw": ["-3", "3"]}))
        writer.close()
        frame = (
            pl.read_csv(path, infer_schema=False)
            if suffix == "csv"
            else pl.read_excel(path, read_options={"dtypes": "string"})
        )
        assert frame["nama"].to_list() == ["'=1+1", "Budi"] and frame["rw"].to_list() == ["-3", "3"]
    errors = tmp_path / "galat.csv"
    write_errors(errors, pl.DataFrame({"row": [2], "column": ["nama"], "value": ["@cmd"], "message": ["x"]}))
    assert "'@cmd" in errors.read_text()
    assert b"'=2*3" in table_csv(["a"], [{"a": "=2*3"}])
    data, _ = payment_file_bytes(
        Channel.BANK, "BYR-1", [("P1", "3275011705800001", "=cmd|' /C calc'!A0", "", 250000)]
    )
    rows = list(csv.reader(data.decode().splitlines()))
    assert rows[1][2].startswith("'=") and rows[1][-1] == "250000"
