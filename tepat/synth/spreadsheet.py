"""A fast XLSX writer for all-text frames (every cell an inline string).

xlsxwriter writes one Python call per cell, which takes tens of seconds for a
20,000-family registry. An XLSX is a zip of XML parts, so the sheet XML is
built here column-wise with Polars string expressions and streamed into the
zip in batches. Text cells keep NIK and KK numbers exact.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import polars as pl

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/></Relationships>'
)
_SHEET_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
)
_SHEET_TAIL = "</sheetData></worksheet>"
_BATCH = 20_000


def _column_letters(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _escape(expr: pl.Expr) -> pl.Expr:
    return (
        expr.str.replace_all("&", "&amp;", literal=True)
        .str.replace_all("<", "&lt;", literal=True)
        .str.replace_all(">", "&gt;", literal=True)
    )


def _rows_xml(frame: pl.DataFrame, first_row: int) -> str:
    number = (pl.int_range(pl.len()) + first_row).cast(pl.String)
    cells = [
        pl.when(pl.col(name).is_null() | (pl.col(name) == ""))
        .then(pl.lit(""))
        .otherwise(
            pl.concat_str(
                [
                    pl.lit(f'<c r="{_column_letters(i)}'),
                    number,
                    pl.lit('" t="inlineStr"><is><t xml:space="preserve">'),
                    _escape(pl.col(name)),
                    pl.lit("</t></is></c>"),
                ]
            )
        )
        for i, name in enumerate(frame.columns)
    ]
    xml = frame.select(
        pl.concat_str([pl.lit('<row r="'), number, pl.lit('">'), *cells, pl.lit("</row>")]).alias("xml")
    )
    return "".join(xml["xml"].to_list())


FIXED_TIME = (1980, 1, 1, 0, 0, 0)
"""Every part's time stamp in the zip (the earliest a zip can hold): the same seed gives the same bytes."""


def _entry(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    setattr(
        info, "compress_level" if hasattr(info, "compress_level") else "_compresslevel", 1
    )  # 3.13 renamed it
    return info


def write_text_xlsx(frame: pl.DataFrame, path: Path, sheet: str = "anggota") -> None:
    """Write ``frame`` (all text columns) as one sheet with a header row."""
    text = frame.select(pl.all().cast(pl.String))
    header = pl.DataFrame({name: [name] for name in text.columns})
    workbook = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        f'<sheets><sheet name="{sheet}" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.writestr(_entry("[Content_Types].xml"), _CONTENT_TYPES)
        zf.writestr(_entry("_rels/.rels"), _ROOT_RELS)
        zf.writestr(_entry("xl/workbook.xml"), workbook)
        zf.writestr(_entry("xl/_rels/workbook.xml.rels"), _WORKBOOK_RELS)
        with zf.open(_entry("xl/worksheets/sheet1.xml"), "w", force_zip64=True) as out:
            last = f"{_column_letters(max(text.width - 1, 0))}{text.height + 1}"
            out.write(f'{_SHEET_HEAD}<dimension ref="A1:{last}"/><sheetData>'.encode())
            out.write(_rows_xml(header, 1).encode())
            for start in range(0, text.height, _BATCH):
                out.write(_rows_xml(text.slice(start, _BATCH), start + 2).encode())
            out.write(_SHEET_TAIL.encode())
