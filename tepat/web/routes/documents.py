"""Pages for documents and facilities: a cycle's Daftar Nominatif and BAST per kelurahan, the realisation
report (/laporan) with its PDF and XLSX, and the health facilities with their API keys (/fasilitas).

A document is laid out as a background job (``tepat.web.printing``): ``/dokumen/{job}`` shows its pages so far,
then the download."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi import Path as Path_
from fastapi.responses import FileResponse, RedirectResponse, Response

from tepat.domain.access import Actor, Permission
from tepat.domain.audit_actions import AuditAction
from tepat.domain.formatting import TIMEZONE
from tepat.domain.jobs import JobState
from tepat.errors import NotFound
from tepat.services import coverage, documents, jobs, realisation, training
from tepat.store.database import Database
from tepat.web.deps import (
    DB,
    PersonalReader,
    Staff,
    job_runner,
    requires,
    upload_dir,
    verify_csrf,
)
from tepat.web.feedback import Feedback, act
from tepat.web.forms import parse_optional_date
from tepat.web.printing import print_in_background
from tepat.web.templating import templates

router = APIRouter(dependencies=[Depends(verify_csrf)])
Year = Annotated[int | None, Query(ge=2000, le=2100)]


Admin = Annotated[Actor, Depends(requires(Permission.MANAGE_FACILITIES))]


def _signed_on(tanggal: str) -> date | None:
    return parse_optional_date(tanggal, "tanggal")


@router.get("/siklus/{cycle_id}/dokumen")
def cycle_documents(request: Request, db: DB, actor: PersonalReader, cycle_id: int) -> Response:
    """The kelurahan of a frozen cycle, each with its Daftar Nominatif and BAST to print."""
    found = documents.cycle_documents(db, actor, cycle_id)
    return templates.page(
        request,
        "documents/cycle.html",
        {"title": f"Dokumen {found.cycle['name']}", "d": found, "today": date.today().isoformat()},
    )


@router.post("/siklus/{cycle_id}/dokumen/{code}/{kind}")
def print_cycle_document(
    request: Request,
    db: DB,
    actor: PersonalReader,
    cycle_id: int,
    code: str,
    kind: str,
    tanggal: Annotated[str, Form()] = "",
) -> Response:
    """Print the Daftar Nominatif (full NIK) or the BAST of one kelurahan (audited when laid out)."""
    if kind not in ("nominatif", "bast"):
        raise NotFound("Dokumen tidak dikenal.")
    documents.check_printable(db, actor, cycle_id, code)  # refusals answer now, not later in the job
    signed_on = _signed_on(tanggal)
    make = documents.nominatif if kind == "nominatif" else documents.bast
    label = f"{'Daftar Nominatif' if kind == 'nominatif' else 'BAST'} {db.regions.name(code)}"
    return print_in_background(
        request,
        actor,
        label,
        lambda on_page: make(db, actor, cycle_id, code, signed_on=signed_on, on_page=on_page),
    )


@router.post("/siklus/{cycle_id}/pelatihan/daftar-hadir")
async def print_attendance_sheet(request: Request, db: DB, actor: PersonalReader, cycle_id: int) -> Response:
    """Print a training batch's attendance sheet, a column for each day given (blank dated columns without)."""
    form = await request.form()
    days = sorted({d for raw in form.getlist("hari") if (d := _signed_on(str(raw)))})
    documents.check_attendance_days(days)
    training.check_readable(db, actor, cycle_id)  # refusals answer now, not later in the job
    return print_in_background(
        request,
        actor,
        "Daftar hadir pelatihan",
        lambda on_page: documents.attendance_sheet(db, actor, cycle_id, days, on_page=on_page),
    )


@router.get("/dokumen/{job_id}")
def document_job(request: Request, db: DB, actor: Staff, job_id: int) -> Response:
    """A document being laid out (pages so far), then its download."""
    job = jobs.show(db, actor, job_id, job_runner(request))
    if job.kind != "dokumen":
        raise NotFound("Pekerjaan tidak ditemukan.")
    return templates.page(
        request,
        "documents/job.html",
        {"title": job.file_name, "job": job},
        status_code=422 if JobState(job.state).failed else 200,
        headers={"Cache-Control": "no-store"},
    )


@router.get("/dokumen/{job_id}/unduh")
def document_file(request: Request, db: DB, actor: Staff, job_id: int) -> Response:
    """The printed document (kept ``TEPAT_RETENTION_DAYS`` days; every download is audited)."""
    job = jobs.show(db, actor, job_id)
    result = job.result or {}
    file = str(result.get("file", "/"))
    path = upload_dir(request) / "dokumen" / file
    if job.kind != "dokumen" or job.state != JobState.SELESAI or "/" in file or not path.is_file():
        raise NotFound("Dokumen tidak ditemukan atau sudah dihapus.")
    jobs.record_download(db, actor, job_id, str(result.get("name", "")), action=AuditAction.DOCUMENT_DOWNLOAD)
    return FileResponse(
        path,
        media_type=str(result.get("media_type", "application/octet-stream")),
        filename=str(result.get("name", path.name)),
        headers={"Cache-Control": "no-store"},
    )


def _year(tahun: int | None) -> int:
    return tahun or datetime.now(TIMEZONE).year


@router.get("/laporan")
def report(request: Request, db: DB, actor: Staff, tahun: Year = None) -> Response:
    """The realisation report: budget vs planned vs paid by programme, kecamatan and month (aggregates)."""
    year = _year(tahun)
    found = realisation.realisation(db, actor, year)
    return templates.page(
        request,
        "documents/report.html",
        {
            "title": f"Laporan realisasi {year}",
            "r": found,
            "year": year,
            "years": list(range(_year(None) + 1, _year(None) - 6, -1)),
        },
    )


@router.post("/laporan/realisasi-{year}.{fmt}")
def print_report(
    request: Request, db: DB, actor: Staff, year: Annotated[int, Path_(ge=2000, le=2100)], fmt: str
) -> Response:
    """Print the realisation report as PDF or XLSX."""
    if fmt not in ("pdf", "xlsx"):
        raise NotFound("Format tidak dikenal.")
    label = f"Laporan realisasi {year} ({fmt.upper()})"
    if fmt == "xlsx":
        return print_in_background(
            request, actor, label, lambda on_page: realisation.realisation_xlsx(db, actor, year)
        )
    return print_in_background(
        request, actor, label, lambda on_page: realisation.realisation_pdf(db, actor, year, on_page=on_page)
    )


def _facilities_page(
    request: Request,
    db: Database,
    actor: Actor,
    *,
    issued: coverage.IssuedKey | None = None,
    values: dict[str, str] | None = None,
    feedback: Feedback | None = None,
) -> Response:
    return templates.page(
        request,
        "documents/facilities.html",
        {
            "title": "Fasilitas kesehatan",
            "rows": coverage.list_facilities(db, actor),
            "issued": issued,
            "values": values or {},
            "kinds": coverage.KINDS,
            "notice": request.query_params.get("dicabut", ""),
        },
        headers={"Cache-Control": "no-store"},
        feedback=feedback or Feedback(),
    )


@router.get("/fasilitas")
def facilities(request: Request, db: DB, actor: Admin) -> Response:
    """Registered facilities, their key prefix, state and checks; the form to add one."""
    return _facilities_page(request, db, actor)


@router.post("/fasilitas")
def add_facility(
    request: Request,
    db: DB,
    actor: Admin,
    kode: Annotated[str, Form()] = "",
    nama: Annotated[str, Form()] = "",
    jenis: Annotated[str, Form()] = "",
) -> Response:
    """Register a facility; the key is shown on this answer only (not in a URL, not stored)."""

    def attempt() -> Response:
        issued = coverage.register_facility(db, actor, code=kode, name=nama, kind=jenis)
        return _facilities_page(request, db, actor, issued=issued)

    values = {"kode": kode, "nama": nama, "jenis": jenis}
    return act(
        attempt, lambda feedback: _facilities_page(request, db, actor, values=values, feedback=feedback)
    )


@router.post("/fasilitas/cabut")
def revoke_facility(db: DB, actor: Admin, kode: Annotated[str, Form()] = "") -> Response:
    """Revoke a facility's key."""
    done = coverage.revoke_facility(db, actor, kode)
    return RedirectResponse(f"/fasilitas?dicabut={done['kode']}", status_code=303)
