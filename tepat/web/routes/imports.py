"""Importing a registry file from the web: the form (with a saved or uploaded column mapping), a preview of what
tepat will read, then the import as a background job with its progress page and error report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from starlette.datastructures import FormData, UploadFile

from tepat.domain.access import Actor
from tepat.domain.jobs import JobState
from tepat.errors import FieldError, ImportRejected, NotFound, ValidationError
from tepat.files import uploads
from tepat.files.canonical import ColumnMapping
from tepat.services import import_mappings, jobs
from tepat.services.import_preview import preview
from tepat.services.jobs import JobFailed, Progress, Work
from tepat.store.database import Database
from tepat.web import spreadsheets
from tepat.web.deps import DB, Editor, job_runner, upload_dir
from tepat.web.feedback import Feedback
from tepat.web.spreadsheets import save_spreadsheet
from tepat.web.templating import templates

router = APIRouter()
ERRORS_SHOWN = 200
PREVIEWS = "pratinjau"  # the upload directory's folder of files waiting after a preview
_SESSION_PREVIEWS = "pratinjau"  # the preview tokens this session made (only it may import them)


def _import_form(
    request: Request,
    db: Database,
    actor: Actor,
    *,
    mode: str = "valid-only",
    mapping_id: str = "",
    feedback: Feedback | None = None,
) -> Response:
    return templates.page(
        request,
        "import.html",
        {
            "title": "Impor data registri",
            "mode": mode,
            "max_mb": spreadsheets.MAX_UPLOAD_BYTES // (1024 * 1024),
            "recent": jobs.recent(db, actor, "impor", job_runner(request)),
            "mappings": import_mappings.listed(db, actor),
            "mapping_id": mapping_id,
        },
        feedback=feedback or Feedback(),
    )


@router.get("/impor")
def import_page(request: Request, db: DB, actor: Editor) -> Response:
    """The upload form, the saved column mappings, and one's latest imports."""
    return _import_form(request, db, actor)


async def _chosen_mapping(form: FormData, db: Database, actor: Actor) -> import_mappings.SavedMapping | None:
    """The mapping the form names: an uploaded mapping file wins over a saved one; ``None`` for the standard layout."""
    uploaded = form.get("pemetaan")
    if isinstance(uploaded, UploadFile) and uploaded.filename:
        return import_mappings.read(await uploaded.read(import_mappings.MAX_BYTES + 1), uploaded.filename)
    chosen = str(form.get("pemetaan_id", "")).strip()
    if chosen.isdigit():
        return import_mappings.get(db, actor, int(chosen))
    return None


def _import_work(
    db: Database,
    actor: Actor,
    path: Path,
    *,
    mode: str,
    errors_path: Path,
    filename: str,
    mapping: ColumnMapping | None,
) -> Work:
    """The import of an uploaded file, as a job: the result the job page shows (counts, the first bad rows)."""
    from tepat.services.imports import import_file

    def work(progress: Progress) -> dict[str, Any]:
        try:
            result = import_file(
                db,
                actor,
                path,
                mode=mode,
                errors_path=errors_path,
                filename=filename,
                mapping=mapping,
                progress=progress,
            )
        except ImportRejected as exc:
            raise JobFailed(
                exc.message,
                {
                    "rows": [e.as_dict() for e in exc.errors[:ERRORS_SHOWN]],
                    "error_file": errors_path.name if errors_path.exists() else "",
                },
            ) from exc
        shown = result.as_dict()
        shown["errors"] = shown["errors"][:ERRORS_SHOWN]
        shown["warnings"] = shown["warnings"][:ERRORS_SHOWN]
        shown["error_file"] = errors_path.name if result.rows_rejected and errors_path.exists() else ""
        return shown

    return work


def _start(
    request: Request,
    db: Database,
    actor: Actor,
    path: Path,
    *,
    mode: str,
    filename: str,
    mapping: ColumnMapping | None,
) -> Response:
    """Queue the import of a saved file; the upload is deleted once imported, whatever happens."""
    errors_path = upload_dir(request) / f"{uploads.new_token()}-galat.csv"
    work = _import_work(
        db, actor, path, mode=mode, errors_path=errors_path, filename=filename, mapping=mapping
    )
    job_id = job_runner(request).submit(
        actor, "impor", filename, work, cleanup=lambda: path.unlink(missing_ok=True)
    )
    return RedirectResponse(f"/impor/{job_id}", status_code=303)


async def _received(
    form: FormData, db: Database, actor: Actor, folder: Path
) -> tuple[Path, str, import_mappings.SavedMapping | None]:
    """The saved upload of ``form``, its name and the chosen mapping; ``ValidationError`` naming the field when the
    mode, the mapping or the file is wrong."""
    if str(form.get("mode", "valid-only")) not in ("valid-only", "strict"):
        raise ValidationError("Mode impor tidak dikenal", [FieldError("mode", "Pilih mode impor")])
    try:
        mapping = await _chosen_mapping(form, db, actor)
    except ValidationError as exc:
        if exc.errors:
            raise
        raise ValidationError(exc.message, [FieldError("pemetaan", exc.message)]) from exc
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise ValidationError(
            "Belum ada berkas yang dipilih", [FieldError("file", "Pilih berkas .csv atau .xlsx")]
        )
    path, _ = await save_spreadsheet(upload, folder)
    return path, Path(upload.filename).name, mapping


def _refused(request: Request, db: Database, actor: Actor, form: FormData, exc: ValidationError) -> Response:
    """The upload form again, with what was chosen and what is wrong."""
    mode = str(form.get("mode", "valid-only"))
    return _import_form(
        request,
        db,
        actor,
        mode=mode if mode in ("valid-only", "strict") else "valid-only",
        mapping_id=str(form.get("pemetaan_id", "")),
        feedback=Feedback.of(exc),
    )


@router.post("/impor")
async def import_upload(request: Request, db: DB, actor: Editor) -> Response:
    """Save the upload and start its import in the background; the job's page shows progress, then the result."""
    form = await request.form()
    try:
        path, filename, mapping = await _received(form, db, actor, upload_dir(request))
    except ValidationError as exc:
        return _refused(request, db, actor, form, exc)
    return _start(
        request,
        db,
        actor,
        path,
        mode=str(form.get("mode", "valid-only")),
        filename=filename,
        mapping=mapping.mapping if mapping else None,
    )


@router.post("/impor/pratinjau")
async def import_preview(request: Request, db: DB, actor: Editor) -> Response:
    """Show what tepat will read from the file with the chosen mapping; nothing is imported yet."""
    folder = upload_dir(request) / PREVIEWS
    folder.mkdir(exist_ok=True)
    form = await request.form()
    try:
        path, filename, mapping = await _received(form, db, actor, folder)
    except ValidationError as exc:
        return _refused(request, db, actor, form, exc)
    token = path.stem
    if mapping is not None:
        (folder / f"{token}.pemetaan").write_text(f"{mapping.file_name}\n{mapping.content}", encoding="utf-8")
    owned = [t for t in request.session.get(_SESSION_PREVIEWS, []) if isinstance(t, str)][-4:]
    request.session[_SESSION_PREVIEWS] = [*owned, f"{token}{path.suffix}|{filename}"]
    return _preview_page(request, token, path, filename, mapping, mode=str(form.get("mode", "valid-only")))


def _preview_page(
    request: Request,
    token: str,
    path: Path,
    filename: str,
    mapping: import_mappings.SavedMapping | None,
    *,
    mode: str,
    message: str = "",
    status_code: int = 200,
) -> Response:
    shown = preview(path, mapping.mapping if mapping else None, filename)
    return templates.page(
        request,
        "import_preview.html",
        {
            "title": f"Pratinjau {filename}",
            "p": shown,
            "token": token,
            "mode": mode,
            "mapping": mapping,
            "message": message,
        },
        status_code=status_code if shown.ready or status_code != 200 else 422,
    )


def _previewed(request: Request, token: str) -> tuple[Path, str, import_mappings.SavedMapping | None]:
    """A file this session previewed (and its mapping); 404 for any other token."""
    folder = upload_dir(request) / PREVIEWS
    for entry in request.session.get(_SESSION_PREVIEWS, []):
        stored, _, filename = str(entry).partition("|")
        if Path(stored).stem == token and "/" not in stored and (folder / stored).is_file():
            mapping_file = folder / f"{token}.pemetaan"
            mapping = None
            if mapping_file.is_file():
                name, _, content = mapping_file.read_text(encoding="utf-8").partition("\n")
                mapping = import_mappings.read(content.encode("utf-8"), name)
            return folder / stored, filename, mapping
    raise NotFound("Pratinjau tidak ditemukan atau sudah diimpor. Unggah berkasnya lagi.")


@router.post("/impor/pratinjau/{token}")
async def import_previewed(request: Request, token: str, db: DB, actor: Editor) -> Response:
    """Import the file shown in the preview, with the same mapping."""
    path, filename, mapping = _previewed(request, token)
    form = await request.form()
    mode = str(form.get("mode", "valid-only"))
    if mode not in ("valid-only", "strict"):
        mode = "valid-only"
    (path.parent / f"{token}.pemetaan").unlink(missing_ok=True)
    request.session[_SESSION_PREVIEWS] = [
        e for e in request.session.get(_SESSION_PREVIEWS, []) if Path(str(e).partition("|")[0]).stem != token
    ]
    return _start(
        request, db, actor, path, mode=mode, filename=filename, mapping=mapping.mapping if mapping else None
    )


@router.post("/impor/pratinjau/{token}/simpan-pemetaan")
async def save_previewed_mapping(request: Request, token: str, db: DB, actor: Editor) -> Response:
    """Keep the uploaded mapping under a name, to pick it next time."""
    path, filename, mapping = _previewed(request, token)
    form = await request.form()
    if mapping is None:
        raise NotFound("Pratinjau ini tidak memakai berkas pemetaan.")
    try:
        import_mappings.save(db, actor, str(form.get("nama_pemetaan", "")), mapping)
    except ValidationError as exc:
        return _preview_page(
            request, token, path, filename, mapping, mode="valid-only", message=exc.message, status_code=422
        )
    return _preview_page(
        request,
        token,
        path,
        filename,
        mapping,
        mode="valid-only",
        message=f'Pemetaan disimpan sebagai "{" ".join(str(form.get("nama_pemetaan", "")).split())}".',
    )


@router.get("/impor/{job_id}")
def import_job(request: Request, db: DB, job_id: int, actor: Editor) -> Response:
    """An import's progress (the page reloads itself while it runs), then its summary and bad rows."""
    job = jobs.show(db, actor, job_id, job_runner(request))
    result = job.result or {}
    rows = [FieldError(**e) for e in result.get("rows", result.get("errors", []))]
    return templates.page(
        request,
        "import_job.html",
        {
            "title": f"Impor {job.file_name}",
            "job": job,
            "result": result if job.state == JobState.SELESAI else None,
            "rows": rows,
            "error_file": result.get("error_file", ""),
            "message": job.message,
        },
        status_code=422 if JobState(job.state).failed else 200,
    )


@router.get("/impor/{job_id}/galat")
def import_errors(request: Request, db: DB, job_id: int, actor: Editor) -> Response:
    """Download the error report of one's own import (kept ``TEPAT_RETENTION_DAYS`` days)."""
    job = jobs.show(db, actor, job_id)
    name = (job.result or {}).get("error_file", "")
    path = upload_dir(request) / name
    if not name or "/" in name or not name.endswith("-galat.csv") or not path.exists():
        raise NotFound("Berkas galat tidak ditemukan atau sudah dihapus.")
    return FileResponse(path, media_type="text/csv", filename=f"galat-impor-{job_id}.csv")
