"""Pages for documents and facilities: a cycle's Daftar Nominatif and BAST per kelurahan, the realisation
report (/laporan) with its PDF and XLSX, and the health facilities with their API keys (/fasilitas)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from tepat.domain.access import Actor, Role
from tepat.domain.formatting import TIMEZONE
from tepat.errors import NotFound, PermissionDenied, TepatError
from tepat.services import coverage, documents
from tepat.store.database import Database
from tepat.web.deps import current_actor, get_db, personal_data_actor, verify_csrf
from tepat.web.forms import parse_optional_date
from tepat.web.templating import templates

router = APIRouter(dependencies=[Depends(verify_csrf)])
DB = Annotated[Database, Depends(get_db)]
Staff = Annotated[Actor, Depends(personal_data_actor)]
Who = Annotated[Actor, Depends(current_actor)]
Year = Annotated[int | None, Query(ge=2000, le=2100)]


def admin_actor(request: Request) -> Actor:
    """A logged-in Admin Dinsos (facilities and their keys)."""
    found = current_actor(request)
    if found.role is not Role.ADMIN:
        raise PermissionDenied("Hanya Admin Dinsos yang mengelola fasilitas kesehatan.")
    return found


Admin = Annotated[Actor, Depends(admin_actor)]


def _download(doc: documents.Document) -> Response:
    return Response(doc.content, media_type=doc.media_type,
                    headers={"Content-Disposition": f'attachment; filename="{doc.filename}"',
                             "Cache-Control": "no-store"})


def _signed_on(tanggal: str) -> date | None:
    return parse_optional_date(tanggal, "tanggal")


@router.get("/siklus/{cycle_id}/dokumen")
def cycle_documents(request: Request, db: DB, actor: Staff, cycle_id: int) -> Response:
    """The kelurahan of a frozen cycle, each with its Daftar Nominatif and BAST to download."""
    found = documents.cycle_documents(db, actor, cycle_id)
    return templates.TemplateResponse(request, "documents/cycle.html", {
        "title": f"Dokumen {found.cycle['name']}", "d": found, "today": date.today().isoformat()})


@router.get("/siklus/{cycle_id}/dokumen/{code}/nominatif.pdf")
def nominatif_pdf(db: DB, actor: Staff, cycle_id: int, code: str, tanggal: str = "") -> Response:
    """Daftar Nominatif of one kelurahan (full NIK; audited)."""
    return _download(documents.nominatif(db, actor, cycle_id, code, signed_on=_signed_on(tanggal)))


@router.get("/siklus/{cycle_id}/dokumen/{code}/bast.pdf")
def bast_pdf(db: DB, actor: Staff, cycle_id: int, code: str, tanggal: str = "") -> Response:
    """BAST of one kelurahan (audited)."""
    return _download(documents.bast(db, actor, cycle_id, code, signed_on=_signed_on(tanggal)))


def _year(tahun: int | None) -> int:
    return tahun or datetime.now(TIMEZONE).year


@router.get("/laporan")
def report(request: Request, db: DB, actor: Who, tahun: Year = None) -> Response:
    """The realisation report: budget vs planned vs paid by programme, kecamatan and month (aggregates)."""
    year = _year(tahun)
    found = documents.realisation(db, actor, year)
    return templates.TemplateResponse(request, "documents/report.html", {
        "title": f"Laporan realisasi {year}", "r": found, "year": year,
        "years": list(range(_year(None) + 1, _year(None) - 6, -1))})


@router.get("/laporan/realisasi-{year}.{fmt}")
def report_download(db: DB, actor: Who, year: int, fmt: str) -> Response:
    """The realisation report as PDF or XLSX."""
    if fmt not in ("pdf", "xlsx"):
        raise NotFound("Format tidak dikenal.")
    make = documents.realisation_pdf if fmt == "pdf" else documents.realisation_xlsx
    return _download(make(db, actor, year))


def _facilities_page(request: Request, db: Database, actor: Actor, *, issued: coverage.IssuedKey | None = None,
                     message: str = "", errors: list[object] | None = None, values: dict[str, str] | None = None,
                     status_code: int = 200) -> Response:
    return templates.TemplateResponse(request, "documents/facilities.html", {
        "title": "Fasilitas kesehatan", "rows": coverage.list_facilities(db, actor), "issued": issued,
        "message": message, "errors": errors or [], "values": values or {}, "kinds": coverage.KINDS,
        "notice": request.query_params.get("dicabut", "")}, status_code=status_code,
        headers={"Cache-Control": "no-store"})


@router.get("/fasilitas")
def facilities(request: Request, db: DB, actor: Admin) -> Response:
    """Registered facilities, their key prefix, state and checks; the form to add one."""
    return _facilities_page(request, db, actor)


@router.post("/fasilitas")
def add_facility(request: Request, db: DB, actor: Admin, kode: Annotated[str, Form()] = "",
                 nama: Annotated[str, Form()] = "", jenis: Annotated[str, Form()] = "") -> Response:
    """Register a facility; the key is shown on this answer only (not in a URL, not stored)."""
    try:
        issued = coverage.register_facility(db, actor, code=kode, name=nama, kind=jenis)
    except TepatError as exc:
        return _facilities_page(request, db, actor, message=exc.message, errors=list(getattr(exc, "errors", [])),
                                values={"kode": kode, "nama": nama, "jenis": jenis}, status_code=exc.status_code)
    return _facilities_page(request, db, actor, issued=issued)


@router.post("/fasilitas/cabut")
def revoke_facility(db: DB, actor: Admin, kode: Annotated[str, Form()] = "") -> Response:
    """Revoke a facility's key."""
    done = coverage.revoke_facility(db, actor, kode)
    return RedirectResponse(f"/fasilitas?dicabut={done['kode']}", status_code=303)
