"""An XLSX file is a zip: how far it may expand before anything parses it (issue 13 point 6).

A workbook's parts are compressed XML. A crafted file of 153 KB held a
``sharedStrings.xml`` that expands to 2.8 GB, and the spreadsheet reader
(calamine) loaded it all into memory. Before any reader opens a workbook,
its zip directory (a few bytes per part, read without expanding anything) is
checked: the parts together may not expand past ``MAX_EXPANDED_BYTES``, nor
to more than ``MAX_RATIO`` times the file's size. Real registry workbooks
expand 5 to 15 times.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from tepat.errors import ValidationError

MAX_EXPANDED_BYTES = 3 << 30  # 3 GiB: a full sheet of 1,048,576 registry rows is well under it
MAX_RATIO = 100
MAX_PARTS = 10_000


def check_expansion(source: Path | bytes, name: str) -> None:
    """Refuse a workbook whose parts would expand past the bounds (a file that is not a zip is left to the reader,
    which says it is not an XLSX)."""
    size = len(source) if isinstance(source, bytes) else source.stat().st_size
    try:
        with zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source) as workbook:
            parts = workbook.infolist()
    except (zipfile.BadZipFile, OSError):
        return
    expanded = sum(p.file_size for p in parts)
    if len(parts) > MAX_PARTS or expanded > MAX_EXPANDED_BYTES or expanded > MAX_RATIO * max(size, 1):
        raise ValidationError(
            f"Berkas {name} tidak dapat dibaca dengan aman: isinya mengembang menjadi {expanded / (1 << 20):.0f} MB "
            f"dari {size / (1 << 20):.1f} MB (paling banyak {MAX_RATIO} kali dan {MAX_EXPANDED_BYTES >> 30} GB). "
            "Simpan ulang dari Excel sebagai .xlsx biasa, atau sebagai CSV."
        )
