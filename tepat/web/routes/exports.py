"""Registry export: written in the background as a job, downloaded from its page by whoever made it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from tepat.domain.access import Actor
from tepat.domain.jobs import JobState
from tepat.domain.regions import Level
from tepat.errors import NotFound
from tepat.files import uploads
from tepat.services import jobs
from tepat.services.jobs import Progress
from tepat.services.office import working_area
from tepat.store.database import Database
from tepat.web.deps import DB, PersonalReader, job_runner, upload_dir
from tepat.web.templating import templates

router = APIRouter()


def _export_areas(db: Database, actor: Actor) -> list[tuple[str, str]]:
    area = working_area(db, actor)
    out = [(area, db.regions.name(area))]
    for level in (Level.KECAMATAN, Level.KELURAHAN):
        for r in sorted(db.regions.descendants(area, level), key=lambda r: r.code):
            if r.code != area:
                prefix = "Kec. " if level is Level.KECAMATAN else "— "
                out.append((r.code, prefix + r.name))
    return out


@router.get("/ekspor")
def export_page(request: Request, db: DB, actor: PersonalReader) -> Response:
    """Choose an area and a format to download."""
    return templates.page(
        request,
        "export.html",
        {
            "title": "Ekspor data registri",
            "areas": _export_areas(db, actor),
            "message": "",
            "area": actor.area_code,
            "fmt": "xlsx",
        },
    )


_MEDIA = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


@router.post("/ekspor")
async def export_start(request: Request, db: DB, actor: PersonalReader) -> Response:
    """Start writing the export file in the background; its page offers the download when it is ready."""
    from tepat.services.exports import export_registry

    form = await request.form()
    fmt = str(form.get("fmt", "xlsx"))
    area = str(form.get("area", actor.area_code))
    if fmt not in _MEDIA:
        fmt = "xlsx"
    if area and not actor.in_area(area):
        raise NotFound("Wilayah tidak ditemukan")
    folder = upload_dir(request) / "ekspor"
    folder.mkdir(exist_ok=True)
    path = folder / f"{uploads.new_token()}.{fmt}"
    name = f"registri-{area.replace('.', '') or 'semua'}.{fmt}"

    def work(progress: Progress) -> dict[str, Any]:
        try:
            written = export_registry(db, actor, path, fmt=fmt, area_code=area or None, progress=progress)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return {
            "file": path.name,
            "name": name,
            "fmt": fmt,
            "rows": written.rows,
            "families": written.families,
        }

    job_id = job_runner(request).submit(actor, "ekspor", name, work)
    return RedirectResponse(f"/ekspor/{job_id}", status_code=303)


@router.get("/ekspor/{job_id}")
def export_job(request: Request, db: DB, job_id: int, actor: PersonalReader) -> Response:
    """An export's progress, then its download link."""
    job = jobs.show(db, actor, job_id, job_runner(request))
    return templates.page(
        request,
        "export_job.html",
        {"title": f"Ekspor {job.file_name}", "job": job},
        status_code=422 if JobState(job.state).failed else 200,
    )


@router.get("/ekspor/{job_id}/unduh")
def export_file(request: Request, db: DB, job_id: int, actor: PersonalReader) -> Response:
    """The export file (kept ``TEPAT_RETENTION_DAYS`` days; every download is audited)."""
    job = jobs.show(db, actor, job_id)
    result = job.result or {}
    path = upload_dir(request) / "ekspor" / str(result.get("file", ""))
    if job.state != JobState.SELESAI or "/" in str(result.get("file", "/")) or not path.is_file():
        raise NotFound("Berkas ekspor tidak ditemukan atau sudah dihapus.")
    jobs.record_download(db, actor, job_id, str(result.get("name", "")))
    return FileResponse(
        path,
        media_type=_MEDIA.get(str(result.get("fmt")), "application/octet-stream"),
        filename=str(result.get("name", path.name)),
    )
