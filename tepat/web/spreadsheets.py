"""Receiving a spreadsheet (CSV or XLSX) from a form: the registry import and the linking of an outside list
both take one."""

from __future__ import annotations

from pathlib import Path

from starlette.datastructures import UploadFile

from tepat.errors import FieldError, ValidationError
from tepat.files import uploads

MAX_UPLOAD_BYTES = 200 * 1024 * 1024
ALLOWED = {".csv": b"", ".xlsx": b"PK\x03\x04"}


async def save_spreadsheet(upload: UploadFile, target_dir: Path) -> tuple[Path, str]:
    """Store an upload under a random name outside the web root, checking its type and size."""
    original = Path(upload.filename or "").name
    suffix = Path(original).suffix.lower()
    if suffix not in ALLOWED:
        raise ValidationError(
            "Berkas tidak dapat diimpor", [FieldError("file", "Pilih berkas .csv atau .xlsx")]
        )
    token = uploads.new_token()
    path = target_dir / f"{token}{suffix}"
    size = 0
    with path.open("wb") as out:
        while chunk := await upload.read(1024 * 1024):
            if size == 0:
                magic = ALLOWED[suffix]
                if (magic and not chunk.startswith(magic)) or (not magic and b"\x00" in chunk[:4096]):
                    out.close()
                    path.unlink(missing_ok=True)
                    raise ValidationError(
                        "Berkas tidak dapat diimpor",
                        [FieldError("file", f"Isi berkas bukan {suffix[1:].upper()} yang sah")],
                    )
            size += len(chunk)
            if size > MAX_UPLOAD_BYTES:
                out.close()
                path.unlink(missing_ok=True)
                raise ValidationError(
                    "Berkas terlalu besar",
                    [
                        FieldError(
                            "file", f"Ukuran berkas paling besar {MAX_UPLOAD_BYTES // (1024 * 1024)} MB"
                        )
                    ],
                )
            out.write(chunk)
    if size == 0:
        path.unlink(missing_ok=True)
        raise ValidationError("Berkas kosong", [FieldError("file", "Berkas kosong")])
    return path, token
