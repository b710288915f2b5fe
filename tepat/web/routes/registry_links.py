"""Linking an outside list to the registry from the *Duplikat* page: a KIP list, a kelurahan's usul list, a bank's
account holders is uploaded (with a column mapping when its columns have other names), matched to the registry's
people of the user's area in the background, and the answer per record shown and offered as CSV."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import polars as pl
from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from tepat.domain.access import Actor, Permission
from tepat.domain.audit_actions import AuditAction
from tepat.domain.jobs import JobState
from tepat.errors import FieldError, NotFound, ValidationError
from tepat.files import uploads
from tepat.files.canonical import parse_mapping
from tepat.files.person_lists import LINK_FIELD_SET, load_link_mapping, read_person_list
from tepat.services import jobs, registry_linkage
from tepat.services.jobs import Progress
from tepat.store.database import Database
from tepat.web.deps import DB, job_runner, requires, upload_dir
from tepat.web.spreadsheets import save_spreadsheet
from tepat.web.templating import templates

router = APIRouter()
Reader = Annotated[Actor, Depends(requires(Permission.READ_PERSONAL))]
FOLDER = "tautan"  # the upload directory's folder of linked lists and their answers
KIND = "tautan"
ROWS_SHOWN = 200
MAX_MAPPING_BYTES = 64 * 1024


@router.post("/duplikat/tautkan")
async def link_start(request: Request, db: DB, actor: Reader) -> Response:
    """Receive the list (and its mapping) and link it to the registry in the background."""
    form = await request.form()
    upload, id_column = form.get("berkas"), str(form.get("kolom_id", "")).strip()
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise ValidationError(
            "Daftar tidak dapat ditautkan", [FieldError("berkas", "Pilih berkas .csv atau .xlsx")]
        )
    if not id_column:
        raise ValidationError(
            "Daftar tidak dapat ditautkan", [FieldError("kolom_id", "Sebutkan kolom id daftar")]
        )
    mapping = load_link_mapping(None)
    given = form.get("pemetaan")
    if isinstance(given, UploadFile) and given.filename:
        text = (await given.read(MAX_MAPPING_BYTES + 1)).decode("utf-8-sig", errors="replace")
        if len(text) > MAX_MAPPING_BYTES:
            raise ValidationError(
                "Berkas pemetaan terlalu besar", [FieldError("pemetaan", "Paling besar 64 KB")]
            )
        mapping = parse_mapping(text, Path(given.filename).name, LINK_FIELD_SET)
    folder = upload_dir(request) / FOLDER
    folder.mkdir(exist_ok=True)
    path, _ = await save_spreadsheet(upload, folder)
    name = Path(upload.filename).name
    answer = folder / f"{uploads.new_token()}.csv"

    def work(progress: Progress) -> dict[str, Any]:
        progress(1, len(registry_linkage.LINK_STEPS))
        outside = read_person_list(path, id_column, mapping, name=name)
        linked = registry_linkage.link_to_registry(db, actor, outside, progress=progress)
        progress(4, len(registry_linkage.LINK_STEPS))
        linked.rows.write_csv(answer, float_precision=4)
        return {
            "file": answer.name,
            "name": f"tautan-{Path(name).stem}.csv",
            **linked.counts(),
            **linked.summary,
        }

    job_id = job_runner(request).submit(actor, KIND, name, work, cleanup=lambda: path.unlink(missing_ok=True))
    return RedirectResponse(f"/duplikat/tautkan/{job_id}", status_code=303)


def _job(request: Request, db: Database, actor: Actor, job_id: int) -> jobs.JobView:
    job = jobs.show(db, actor, job_id, job_runner(request))
    if job.kind != KIND:
        raise NotFound("Pekerjaan tidak ditemukan.")
    return job


def _answer(request: Request, job: jobs.JobView) -> Path:
    name = str((job.result or {}).get("file", "/"))
    path = upload_dir(request) / FOLDER / name
    if job.state != JobState.SELESAI or "/" in name or not path.is_file():
        raise NotFound("Hasil penautan tidak ditemukan atau sudah dihapus.")
    return path


@router.get("/duplikat/tautkan/{job_id}")
def link_job(request: Request, db: DB, job_id: int, actor: Reader) -> Response:
    """A linking's progress, then its answer per record (the first rows) and the download."""
    job = _job(request, db, actor, job_id)
    rows: list[dict[str, Any]] = []
    if job.state == JobState.SELESAI:
        rows = pl.read_csv(_answer(request, job), infer_schema=False, n_rows=ROWS_SHOWN).to_dicts()
        jobs.record_download(db, actor, job_id, job.file_name, action=AuditAction.LINKAGE_RESULT_READ)
    return templates.page(
        request,
        "registry_link.html",
        {
            "title": f"Penautan {job.file_name}",
            "job": job,
            "rows": rows,
            "shown": ROWS_SHOWN,
            "steps": registry_linkage.LINK_STEPS,
        },
        status_code=422 if JobState(job.state).failed else 200,
    )


@router.get("/duplikat/tautkan/{job_id}/unduh")
def link_file(request: Request, db: DB, job_id: int, actor: Reader) -> Response:
    """The answer as CSV (kept ``TEPAT_RETENTION_DAYS`` days; every download is audited)."""
    job = _job(request, db, actor, job_id)
    path = _answer(request, job)
    name = str((job.result or {}).get("name", path.name))
    jobs.record_download(db, actor, job_id, name, action=AuditAction.LINKAGE_RESULT_DOWNLOAD)
    return FileResponse(path, media_type="text/csv", filename=name)
