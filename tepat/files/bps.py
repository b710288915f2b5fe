"""BPS published poverty figures: the shipped CSVs, user-imported newer years, and their store file.

Two layouts are read:

* **wide** (``bps_kemiskinan_jawa_barat_2024.csv``): ``kode_kemendagri``, ``kab_kota`` and
  per-year columns ``p0_persen_<tahun>``, ``penduduk_miskin_ribu_<tahun>``,
  ``garis_kemiskinan_rp_<tahun>``, ``p1_<tahun>``, ``p2_<tahun>``;
* **long**: a ``tahun`` column with ``p0_persen``, ``penduduk_miskin_ribu``,
  ``garis_kemiskinan_rp``, ``p1``, ``p2``, and ``kode_kemendagri``/``kab_kota``
  (a kabupaten/kota's series, such as the shipped 2020–2024 one).

Every ``bps_kemiskinan_*.csv`` in the data directory is shipped: province files first, then the series, so that a
series and a province file agreeing on a year give one figure.

Imported figures are kept in one long CSV (``IMPORT_FILE_NAME``) in a directory the
service chooses from the settings; later rows for the same region and year win.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from pathlib import Path

from tepat.domain.rankings import RegionFigure
from tepat.domain.regions import Level, is_region_code, level_of
from tepat.errors import FieldError, ValidationError
from tepat.files.reference import DATA_DIR

SHIPPED_PATTERN = "bps_kemiskinan_*.csv"
IMPORT_FILE_NAME = "bps_kemiskinan_impor.csv"
LONG_COLUMNS = [
    "kode_kemendagri",
    "kab_kota",
    "tahun",
    "p0_persen",
    "penduduk_miskin_ribu",
    "garis_kemiskinan_rp",
    "p1",
    "p2",
]
_WIDE = re.compile(r"^(p0_persen|penduduk_miskin_ribu|garis_kemiskinan_rp|p1|p2)_(\d{4})$")


def _number(text: str | None, field: str, row: int, errors: list[FieldError]) -> float | None:
    text = (text or "").strip().replace(",", ".")
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        errors.append(FieldError(field, "bukan angka", text, row))
        return None


def _figure(
    values: dict[str, str | None], year: int, code: str, name: str, row: int, errors: list[FieldError]
) -> RegionFigure | None:
    if not is_region_code(code) or level_of(code) not in (Level.PROVINSI, Level.KABKOTA):
        errors.append(FieldError("kode_kemendagri", "bukan kode provinsi atau kabupaten/kota", code, row))
        return None
    if not 1990 <= year <= 2100:
        errors.append(FieldError("tahun", "tahun tidak masuk akal", str(year), row))
        return None
    p0 = _number(values.get("p0_persen"), "p0_persen", row, errors)
    if p0 is None:
        if not (values.get("p0_persen") or "").strip():
            errors.append(FieldError("p0_persen", "wajib diisi", None, row))
        return None
    if not 0 <= p0 <= 100:
        errors.append(FieldError("p0_persen", "harus di antara 0 dan 100", str(p0), row))
        return None
    line = _number(values.get("garis_kemiskinan_rp"), "garis_kemiskinan_rp", row, errors)
    return RegionFigure(
        code=code,
        name=name or code,
        year=year,
        p0=p0,
        poor_thousands=_number(values.get("penduduk_miskin_ribu"), "penduduk_miskin_ribu", row, errors),
        line_rp=None if line is None else round(line),
        p1=_number(values.get("p1"), "p1", row, errors),
        p2=_number(values.get("p2"), "p2", row, errors),
    )


def parse_figures(
    text: str, *, default_code: str | None = None, default_name: str = ""
) -> list[RegionFigure]:
    """BPS figures from CSV text in the wide or long layout; raises ``ValidationError`` listing bad cells."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in reader.fieldnames or []]
    reader.fieldnames = header
    wide_years = sorted({int(m.group(2)) for h in header if (m := _WIDE.match(h))})
    if "tahun" not in header and not wide_years:
        raise ValidationError("Berkas BPS harus punya kolom tahun, atau kolom seperti p0_persen_2025.")
    if "kode_kemendagri" not in header and default_code is None:
        raise ValidationError("Berkas BPS harus punya kolom kode_kemendagri.")
    errors: list[FieldError] = []
    figures: list[RegionFigure] = []
    for row_number, row in enumerate(reader, start=2):
        code = (row.get("kode_kemendagri") or default_code or "").strip()
        name = (row.get("kab_kota") or default_name).strip()
        if "tahun" in header:
            year_text = (row.get("tahun") or "").strip()
            if not year_text.isdigit():
                errors.append(FieldError("tahun", "bukan tahun", year_text, row_number))
                continue
            figure = _figure(dict(row), int(year_text), code, name, row_number, errors)
            if figure is not None:
                figures.append(figure)
            continue
        for year in wide_years:
            values = {
                key: row.get(f"{key}_{year}")
                for key in ("p0_persen", "penduduk_miskin_ribu", "garis_kemiskinan_rp", "p1", "p2")
            }
            if not (values["p0_persen"] or "").strip():
                continue  # a year this region has no figure for
            figure = _figure(values, year, code, name, row_number, errors)
            if figure is not None:
                figures.append(figure)
    if errors:
        raise ValidationError(
            f"Berkas BPS punya {len(errors)} isian yang salah; tidak ada yang disimpan.", errors
        )
    if not figures:
        raise ValidationError("Berkas BPS tidak berisi angka kemiskinan.")
    return figures


def read_figures(
    path: Path, *, default_code: str | None = None, default_name: str = ""
) -> list[RegionFigure]:
    """BPS figures from a CSV file (wide or long layout)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        raise ValidationError(f"Berkas {path.name} tidak bisa dibaca sebagai CSV UTF-8.") from None
    return parse_figures(text, default_code=default_code, default_name=default_name)


def shipped_figures() -> list[RegionFigure]:
    """The figures shipped with tepat (``tepat/data/bps_kemiskinan_*.csv``): the series of single kabupaten/kota,
    then the files holding a province's kabupaten/kota (those win for a year both give)."""
    files = [read_figures(path) for path in sorted(DATA_DIR.glob(SHIPPED_PATTERN))]
    return [f for figures in sorted(files, key=lambda fs: len({f.code for f in fs})) for f in figures]


def read_imported(directory: Path) -> list[RegionFigure]:
    """Figures a user imported earlier (none when nothing was imported)."""
    path = directory / IMPORT_FILE_NAME
    return read_figures(path) if path.exists() else []


def write_imported(directory: Path, figures: Iterable[RegionFigure]) -> Path:
    """Rewrite the import store with ``figures`` (long layout), atomically."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / IMPORT_FILE_NAME
    temporary = path.with_suffix(".tmp")
    with temporary.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(LONG_COLUMNS)
        for g in figures:
            out.writerow(
                [
                    g.code,
                    g.name,
                    g.year,
                    g.p0,
                    _blank(g.poor_thousands),
                    _blank(g.line_rp),
                    _blank(g.p1),
                    _blank(g.p2),
                ]
            )
    temporary.replace(path)
    return path


def _blank(value: float | None) -> str:
    return "" if value is None else str(value)
