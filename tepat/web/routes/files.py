"""Import upload (CSV/XLSX) run as a background job with its progress page and error report, and registry export
download."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from tepat.domain.access import Actor
from tepat.domain.regions import Level
from tepat.errors import FieldError, ImportRejected, NotFound, ValidationError
from tepat.services import jobs
from tepat.services.jobs import JobFailed, JobRunner, Progress, Work
from tepat.store.database import Database
from tepat.web.deps import editor_actor, get_db, personal_data_actor
from tepat.web.templating import templates

router = APIRouter()
DB = Annotated[Database, Depends(get_db)]
MAX_UPLOAD_BYTES = 200 * 1024 * 1024
ALLOWED = {".csv": b"", ".xlsx": b"PK\x03\x04"}
ERRORS_SHOWN = 200


def _upload_dir(request: Request) -> Path:
    path = Path(request.app.state.settings.upload_dir)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _import_form(request: Request, *, mode: str = "valid-only", errors: dict[str, str] | None = None, message: str = "",
                 status_code: int = 200) -> Response:
    actor = request.state.actor
    return templates.TemplateResponse(request, "import.html", {
        "title": "Impor data registri", "mode": mode, "errors": errors or {}, "message": message,
        "max_mb": MAX_UPLOAD_BYTES // (1024 * 1024), "recent": jobs.recent(request.app.state.db, actor, "impor", job_runner(request)),
    }, status_code=status_code)


@router.get("/impor")
def import_page(request: Request, actor: Annotated[Actor, Depends(editor_actor)]) -> Response:
    """The upload form, and one's latest imports."""
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


def job_runner(request: Request) -> JobRunner:
    """This process's background job runner (made on first use)."""
    runner = getattr(request.app.state, "jobs", None)
    if runner is None:
        settings = request.app.state.settings
        runner = request.app.state.jobs = JobRunner(request.app.state.db, files_dir=_upload_dir(request),
                                                    retention_days=settings.retention_days)
    return runner  # type: ignore[no-any-return]


def _import_work(db: Database, actor: Actor, path: Path, *, mode: str, errors_path: Path, filename: str) -> Work:
    """The import of an uploaded file, as a job: the result the job page shows (counts, the first bad rows)."""
    from tepat.services.imports import import_file

    def work(progress: Progress) -> dict[str, Any]:
        try:
            result = import_file(db, actor, path, mode=mode, errors_path=errors_path, filename=filename,
                                 progress=progress)
        except ImportRejected as exc:
            raise JobFailed(exc.message, {"rows": [e.as_dict() for e in exc.errors[:ERRORS_SHOWN]],
                                          "error_file": errors_path.name if errors_path.exists() else ""}) from exc
        shown = result.as_dict()
        shown["errors"] = shown["errors"][:ERRORS_SHOWN]
        shown["warnings"] = shown["warnings"][:ERRORS_SHOWN]
        shown["error_file"] = errors_path.name if result.rows_rejected and errors_path.exists() else ""
        return shown
    return work


@router.post("/impor")
async def import_upload(request: Request, db: DB, actor: Annotated[Actor, Depends(editor_actor)]) -> Response:
    """Save the upload and start its import in the background; the job's page shows progress, then the result."""
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
    filename = Path(upload.filename).name
    work = _import_work(db, actor, path, mode=mode, errors_path=folder / f"{token}-galat.csv", filename=filename)
    # The registry holds the data once imported; the upload is not kept, whatever happens.
    job_id = job_runner(request).submit(actor, "impor", filename, work, cleanup=lambda: path.unlink(missing_ok=True))
    return RedirectResponse(f"/impor/{job_id}", status_code=303)


@router.get("/impor/{job_id}")
def import_job(request: Request, db: DB, job_id: int, actor: Annotated[Actor, Depends(editor_actor)]) -> Response:
    """An import's progress (the page reloads itself while it runs), then its summary and bad rows."""
    job = jobs.show(db, actor, job_id, job_runner(request))
    result = job.result or {}
    rows = [FieldError(**e) for e in result.get("rows", result.get("errors", []))]
    return templates.TemplateResponse(request, "import_job.html", {
        "title": f"Impor {job.file_name}", "job": job, "result": result if job.state == "selesai" else None,
        "rows": rows, "error_file": result.get("error_file", ""), "message": job.message,
    }, status_code=422 if job.state in ("gagal", "terhenti") else 200)


@router.get("/impor/{job_id}/galat")
def import_errors(request: Request, db: DB, job_id: int, actor: Annotated[Actor, Depends(editor_actor)]) -> Response:
    """Download the error report of one's own import (kept ``TEPAT_RETENTION_DAYS`` days)."""
    job = jobs.show(db, actor, job_id)
    name = (job.result or {}).get("error_file", "")
    path = _upload_dir(request) / name
    if not name or "/" in name or not name.endswith("-galat.csv") or not path.exists():
        raise NotFound("Berkas galat tidak ditemukan atau sudah dihapus.")
    return FileResponse(path, media_type="text/csv", filename=f"galat-impor-{job_id}.csv")


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


_MEDIA = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


@router.post("/ekspor")
async def export_start(request: Request, db: DB, actor: Annotated[Actor, Depends(personal_data_actor)]) -> Response:
    """Start writing the export file in the background; its page offers the download when it is ready."""
    from tepat.services.exports import export_registry

    form = await request.form()
    fmt = str(form.get("fmt", "xlsx"))
    area = str(form.get("area", actor.area_code))
    if fmt not in _MEDIA:
        fmt = "xlsx"
    if area and not actor.in_area(area):
        raise NotFound("Wilayah tidak ditemukan")
    folder = _upload_dir(request) / "ekspor"
    folder.mkdir(exist_ok=True)
    path = folder / f"{secrets.token_hex(12)}.{fmt}"
    name = f"registri-{area.replace('.', '') or 'semua'}.{fmt}"

    def work(progress: Progress) -> dict[str, Any]:
        try:
            written = export_registry(db, actor, path, fmt=fmt, area_code=area or None, progress=progress)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return {"file": path.name, "name": name, "fmt": fmt, "rows": written.rows, "families": written.families}

    job_id = job_runner(request).submit(actor, "ekspor", name, work)
    return RedirectResponse(f"/ekspor/{job_id}", status_code=303)


@router.get("/ekspor/{job_id}")
def export_job(request: Request, db: DB, job_id: int, actor: Annotated[Actor, Depends(personal_data_actor)]) -> Response:
    """An export's progress, then its download link."""
    job = jobs.show(db, actor, job_id, job_runner(request))
    return templates.TemplateResponse(request, "export_job.html", {"title": f"Ekspor {job.file_name}", "job": job},
                                      status_code=422 if job.state in ("gagal", "terhenti") else 200)


@router.get("/ekspor/{job_id}/unduh")
def export_file(request: Request, db: DB, job_id: int, actor: Annotated[Actor, Depends(personal_data_actor)]) -> Response:
    """The export file (kept ``TEPAT_RETENTION_DAYS`` days; every download is audited)."""
    job = jobs.show(db, actor, job_id)
    result = job.result or {}
    path = _upload_dir(request) / "ekspor" / str(result.get("file", ""))
    if job.state != "selesai" or "/" in str(result.get("file", "/")) or not path.is_file():
        raise NotFound("Berkas ekspor tidak ditemukan atau sudah dihapus.")
    jobs.record_download(db, actor, job_id, str(result.get("name", "")))
    return FileResponse(path, media_type=_MEDIA.get(str(result.get("fmt")), "application/octet-stream"),
                        filename=str(result.get("name", path.name)))
