"""Import upload (CSV/XLSX) with its error report, and registry export download."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, Response
from starlette.background import BackgroundTask
from starlette.datastructures import UploadFile

from tepat.domain.access import Actor
from tepat.domain.regions import Level
from tepat.errors import FieldError, ImportRejected, NotFound, ValidationError
from tepat.store.database import Database
from tepat.web.deps import editor_actor, get_db, personal_data_actor
from tepat.web.templating import templates

router = APIRouter()
DB = Annotated[Database, Depends(get_db)]
MAX_UPLOAD_BYTES = 200 * 1024 * 1024
ALLOWED = {".csv": b"", ".xlsx": b"PK\x03\x04"}
ERRORS_SHOWN = 200
_SESSION_ERRORS = "error_files"


def _upload_dir(request: Request) -> Path:
    path = Path(request.app.state.settings.upload_dir)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _import_form(request: Request, *, mode: str = "valid-only", errors: dict[str, str] | None = None, message: str = "",
                 result: dict[str, Any] | None = None, rows: list[FieldError] | None = None, error_file: str = "",
                 status_code: int = 200) -> Response:
    return templates.TemplateResponse(request, "import.html", {
        "title": "Impor data registri", "mode": mode, "errors": errors or {}, "message": message, "result": result,
        "rows": rows or [], "error_file": error_file, "max_mb": MAX_UPLOAD_BYTES // (1024 * 1024),
    }, status_code=status_code)


@router.get("/impor")
def import_page(request: Request, actor: Annotated[Actor, Depends(editor_actor)]) -> Response:
    """The upload form."""
    return _import_form(request)


async def _save_upload(upload: UploadFile, target_dir: Path) -> tuple[Path, str]:
    """Store an upload under a random name outside the web root, checking its type and size."""
    original = Path(upload.filename or "").name
    suffix = Path(original).suffix.lower()
    if suffix not in ALLOWED:
        raise ValidationError("Berkas tidak dapat diimpor", [FieldError("file", "Pilih berkas .csv atau .xlsx")])
    token = secrets.token_hex(12)
    path = target_dir / f"{token}{suffix}"
    size = 0
    with path.open("wb") as out:
        while chunk := await upload.read(1024 * 1024):
            if size == 0:
                magic = ALLOWED[suffix]
                if (magic and not chunk.startswith(magic)) or (not magic and b"\x00" in chunk[:4096]):
                    out.close()
                    path.unlink(missing_ok=True)
                    raise ValidationError("Berkas tidak dapat diimpor",
                                          [FieldError("file", f"Isi berkas bukan {suffix[1:].upper()} yang sah")])
            size += len(chunk)
            if size > MAX_UPLOAD_BYTES:
                out.close()
                path.unlink(missing_ok=True)
                raise ValidationError("Berkas terlalu besar",
                                      [FieldError("file", f"Ukuran berkas paling besar {MAX_UPLOAD_BYTES // (1024 * 1024)} MB")])
            out.write(chunk)
    if size == 0:
        path.unlink(missing_ok=True)
        raise ValidationError("Berkas kosong", [FieldError("file", "Berkas kosong")])
    return path, token


@router.post("/impor")
async def import_upload(request: Request, db: DB, actor: Annotated[Actor, Depends(editor_actor)]) -> Response:
    """Import the uploaded file and show the summary and the bad rows."""
    from tepat.services.imports import import_file

    form = await request.form()
    mode = str(form.get("mode", "valid-only"))
    upload = form.get("file")
    if mode not in ("valid-only", "strict"):
        return _import_form(request, errors={"mode": "Pilih mode impor"}, message="Mode impor tidak dikenal", status_code=422)
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _import_form(request, mode=mode, errors={"file": "Pilih berkas .csv atau .xlsx"},
                            message="Belum ada berkas yang dipilih", status_code=422)
    folder = _upload_dir(request)
    try:
        path, token = await _save_upload(upload, folder)
    except ValidationError as exc:
        return _import_form(request, mode=mode, errors={e.field: e.message for e in exc.errors}, message=exc.message,
                            status_code=422)
    errors_path = folder / f"{token}-galat.csv"
    try:
        result = import_file(db, actor, path, mode=mode, errors_path=errors_path, filename=Path(upload.filename).name)
    except ImportRejected as exc:
        return _import_form(request, mode=mode, message=exc.message, rows=exc.errors[:ERRORS_SHOWN],
                            error_file=_allow_download(request, errors_path), status_code=422)
    except ValidationError as exc:
        return _import_form(request, mode=mode, errors={"file": exc.message}, message=exc.message, status_code=422)
    finally:
        path.unlink(missing_ok=True)  # the registry holds the data now; the upload is not kept
    return _import_form(request, mode=mode, result=result.as_dict(), rows=result.errors[:ERRORS_SHOWN],
                        error_file=_allow_download(request, errors_path) if result.rows_rejected else "")


def _allow_download(request: Request, path: Path) -> str:
    if not path.exists():
        return ""
    allowed = [n for n in request.session.get(_SESSION_ERRORS, []) if isinstance(n, str)][-4:]
    request.session[_SESSION_ERRORS] = [*allowed, path.name]
    return path.name


@router.get("/impor/galat/{name}")
def import_errors(request: Request, name: str, actor: Annotated[Actor, Depends(editor_actor)]) -> Response:
    """Download the error report of an import this session ran."""
    if name not in request.session.get(_SESSION_ERRORS, []) or "/" in name or not name.endswith("-galat.csv"):
        raise NotFound("Berkas tidak ditemukan")
    path = _upload_dir(request) / name
    if not path.exists():
        raise NotFound("Berkas tidak ditemukan")
    return FileResponse(path, media_type="text/csv", filename="galat-impor.csv")


def _export_areas(db: Database, actor: Actor) -> list[tuple[str, str]]:
    area = actor.area_code or "32.75"
    out = [(area, db.regions.name(area))]
    for level in (Level.KECAMATAN, Level.KELURAHAN):
        for r in sorted(db.regions.descendants(area, level), key=lambda r: r.code):
            if r.code != area:
                prefix = "Kec. " if level is Level.KECAMATAN else "— "
                out.append((r.code, prefix + r.name))
    return out


@router.get("/ekspor")
def export_page(request: Request, db: DB, actor: Annotated[Actor, Depends(personal_data_actor)]) -> Response:
    """Choose an area and a format to download."""
    return templates.TemplateResponse(request, "export.html", {
        "title": "Ekspor data registri", "areas": _export_areas(db, actor), "message": "", "area": actor.area_code,
        "fmt": "xlsx",
    })


@router.post("/ekspor")
async def export_download(request: Request, db: DB, actor: Annotated[Actor, Depends(personal_data_actor)]) -> Response:
    """Write the export file and send it."""
    from tepat.services.exports import export_registry

    form = await request.form()
    fmt = str(form.get("fmt", "xlsx"))
    area = str(form.get("area", actor.area_code))
    if fmt not in ("csv", "xlsx"):
        fmt = "xlsx"
    if area and not actor.in_area(area):
        raise NotFound("Wilayah tidak ditemukan")
    folder = _upload_dir(request) / "ekspor"
    folder.mkdir(exist_ok=True)
    path = folder / f"{secrets.token_hex(12)}.{fmt}"
    try:
        export_registry(db, actor, path, fmt=fmt, area_code=area or None)
    except ValidationError as exc:
        path.unlink(missing_ok=True)
        return templates.TemplateResponse(request, "export.html", {
            "title": "Ekspor data registri", "areas": _export_areas(db, actor), "message": exc.message, "area": area,
            "fmt": fmt,
        }, status_code=422)
    media = "text/csv" if fmt == "csv" else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    name = f"registri-{area.replace('.', '') or 'semua'}.{fmt}"
    return FileResponse(path, media_type=media, filename=name, background=BackgroundTask(path.unlink, missing_ok=True))
