"""Operator pages for citizen cases: lists (overdue sanggah flagged), one case and its steps, evidence files,
and the verifier's work list and visit form (built for a phone-sized screen)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from tepat.domain.access import Actor, Permission
from tepat.domain.cases import PENGADUAN_CATEGORIES, CaseKind, CaseState, SanggahOutcome
from tepat.domain.formatting import local_time
from tepat.domain.households import FAMILY_FIELDS, Relationship
from tepat.domain.verification import OBSERVABLE, VisitDecision, parse_gps
from tepat.errors import TepatError
from tepat.files import uploads as upload_files
from tepat.files.writers import table_csv
from tepat.portal.usul_form import household
from tepat.services import case_submissions, cases, registry_reads, verification
from tepat.store.database import Database
from tepat.web.choices import kelurahan_options
from tepat.web.deps import DB, Editor, PersonalReader, verify_csrf
from tepat.web.feedback import Feedback, act
from tepat.web.templating import tanggal, templates

router = APIRouter(dependencies=[Depends(verify_csrf)])
PRINT_ROWS = 500  # the printable list and the CSV: more than a verifier visits in a week
_SPECS = {f.name: f for f in FAMILY_FIELDS}
_STATIC = Path(__file__).resolve().parent.parent / "static"
MEMBER_ROWS = 8


def _upload_dir(request: Request) -> Path:
    path = Path(request.app.state.settings.upload_dir)
    upload_files.check_outside(path, _STATIC)
    return path


@router.get("/kasus")
def case_list(
    request: Request,
    db: DB,
    actor: PersonalReader,
    jenis: str = "",
    status: str = "",
    terlambat: str = "",
    nomor: str = "",
) -> Response:
    """Cases in the user's area; the admin sees overdue sanggah flagged at the top."""
    if nomor.strip():
        return RedirectResponse(f"/kasus/{cases.find_case(db, actor, nomor)}", status_code=303)
    kind = jenis if jenis in {k.value for k in CaseKind} else ""
    rows = cases.list_cases(db, actor, kind=kind or None, state=status or None, overdue=bool(terlambat))
    overdue = cases.overdue_sanggah(db, actor) if actor.may(Permission.OVERSEE) else []
    return templates.page(
        request,
        "cases/list.html",
        {
            "title": "Kasus warga",
            "rows": rows,
            "jenis": kind,
            "status": status,
            "terlambat": bool(terlambat),
            "overdue": overdue,
            "kinds": list(CaseKind),
            "states": list(CaseState),
        },
    )


def _detail(
    request: Request,
    db: Database,
    actor: Actor,
    case_id: int,
    *,
    feedback: Feedback | None = None,
    notice: str = "",
) -> Response:
    detail = cases.get_case(db, actor, case_id)
    return templates.page(
        request,
        "cases/detail.html",
        {
            "title": f"{detail.case.kind.label} {detail.case.tracking_number}",
            "d": detail,
            "c": detail.case,
            "state_label": detail.case.state.label,
            "notice": notice,
            "outcomes": list(SanggahOutcome),
            "categories": PENGADUAN_CATEGORIES,
            "CaseState": CaseState,
        },
        feedback=feedback or Feedback(),
    )


def _usul_form(
    request: Request,
    db: Database,
    actor: Actor,
    values: dict[str, Any],
    feedback: Feedback | None = None,
) -> Response:
    options = kelurahan_options(db, actor)
    return templates.page(
        request,
        "cases/usul_form.html",
        {
            "title": "Usul keluarga",
            "values": values,
            "kelurahan_options": options,
            "member_rows": MEMBER_ROWS,
            "relationships": [(r.value, r.label) for r in Relationship],
        },
        feedback=feedback or Feedback(),
    )


@router.get("/kasus/usul/baru")
def new_usul_page(request: Request, db: DB, actor: Editor) -> Response:
    """The operator's form to enter a proposal (from RT/RW or a resident at the office)."""
    return _usul_form(request, db, actor, {})


@router.post("/kasus/usul/baru")
async def new_usul(request: Request, db: DB, actor: Editor) -> Response:
    """Save an operator's proposal; it starts at 'diajukan' like a resident's."""
    form = await request.form(max_files=1)
    values = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
    family, members = household(values, MEMBER_ROWS)
    photo = form.get("foto")
    evidence = (
        [case_submissions.Evidence(photo.file, "foto_rumah")]
        if isinstance(photo, UploadFile) and photo.filename
        else []
    )

    def attempt() -> str:
        number = case_submissions.submit_usul(
            db,
            _upload_dir(request),
            family=family,
            members=members,
            proposer_name=values.get("nama", ""),
            proposer_contact=values.get("kontak", ""),
            reason=values.get("alasan", ""),
            evidence=evidence,
            actor=actor,
        )
        return f"/kasus/{cases.find_case(db, actor, number)}?ok=1"

    return await run_in_threadpool(
        act, attempt, lambda feedback: _usul_form(request, db, actor, values, feedback)
    )


@router.get("/kasus/{case_id}")
def case_page(request: Request, db: DB, actor: PersonalReader, case_id: int, ok: str = "") -> Response:
    """One case: its data, history, files and the next steps allowed to this user."""
    return _detail(request, db, actor, case_id, notice="Langkah tersimpan." if ok else "")


@router.post("/kasus/{case_id}/langkah")
async def case_step(request: Request, db: DB, actor: PersonalReader, case_id: int) -> Response:
    """Move a case one step (with a note, an outcome for a sanggah, an optional file such as the BA)."""
    form = await request.form(max_files=1)
    to = str(form.get("ke", ""))
    upload = form.get("berkas")
    purpose = (
        "berita_acara" if to == CaseState.VERIFIKASI.value and str(form.get("jenis")) == "usul" else "bukti"
    )
    evidence = (
        [case_submissions.Evidence(upload.file, purpose)]
        if isinstance(upload, UploadFile) and upload.filename
        else []
    )

    def attempt() -> str:
        cases.advance(
            db,
            actor,
            case_id,
            to,
            note=str(form.get("catatan", "")),
            outcome=str(form.get("hasil", "")) or None,
            evidence=evidence,
            upload_dir=_upload_dir(request),
        )
        return f"/kasus/{case_id}?ok=1"

    return await run_in_threadpool(
        act, attempt, lambda feedback: _detail(request, db, actor, case_id, feedback=feedback)
    )


@router.get("/kasus/berkas/{upload_id}")
def case_file(request: Request, db: DB, actor: PersonalReader, upload_id: int) -> Response:
    """An evidence file, only for staff of its area; never rendered as HTML."""
    row = cases.upload_for(db, actor, upload_id)
    path = upload_files.path_for(_upload_dir(request), row["token"])
    if not path.is_file():
        raise TepatError("Berkas tidak tersedia lagi")
    ext = upload_files.TYPES.get(row["content_type"], "")
    disposition = "inline" if row["content_type"].startswith("image/") else "attachment"
    return FileResponse(
        path,
        media_type=row["content_type"],
        filename=f"berkas-{upload_id}{ext}",
        content_disposition_type=disposition,
        headers={"cache-control": "no-store", "content-security-policy": "default-src 'none'; sandbox"},
    )


# ----------------------------------------------------------------- field verification


_SINCE_YEARS = {
    2: "lebih dari 2 tahun atau belum pernah",
    3: "lebih dari 3 tahun atau belum pernah",
    5: "lebih dari 5 tahun atau belum pernah",
}
_DUE_COLUMNS = ("kelurahan", "rw", "rt", "alamat", "kepala_keluarga", "terakhir_diverifikasi")


def _work(
    db: Database, actor: Actor, request: Request, page: int, per_page: int
) -> tuple[verification.WorkList, dict[str, Any]]:
    q = request.query_params
    rw = q.get("rw", "")
    filters: dict[str, Any] = {
        "kelurahan": q.get("kelurahan", ""),
        "rw": int(rw) if rw.isdigit() and 0 < int(rw) < 1000 else None,
        "since_years": int(q["sejak"])
        if q.get("sejak", "").isdigit() and int(q["sejak"]) in _SINCE_YEARS
        else 2,
        "by_place": q.get("urut") == "wilayah",
    }
    work = verification.work_list(
        db,
        actor,
        page=page,
        per_page=per_page,
        kelurahan=filters["kelurahan"] or None,
        rw=filters["rw"],
        since_years=filters["since_years"],
        by_place=filters["by_place"],
    )
    return work, filters


@router.get("/verifikasi")
def work_list(
    request: Request,
    db: DB,
    actor: PersonalReader,
    hal: Annotated[int, Query(ge=1, le=100_000)] = 1,
    cetak: bool = False,
) -> Response:
    """The verifier's work list for their area: filters, true counts, pages; ``cetak=1`` gives the printable list."""
    work, filters = _work(db, actor, request, hal, PRINT_ROWS if cetak else 50)
    params = {k: v for k, v in request.query_params.items() if k not in ("hal", "cetak")}
    return templates.page(
        request,
        "cases/worklist_print.html" if cetak else "cases/worklist.html",
        {
            "title": "Verifikasi lapangan",
            "w": work,
            "filters": filters,
            "since_choices": _SINCE_YEARS,
            "kelurahan_options": kelurahan_options(db, actor),
            "query": urlencode(params),
            "today": local_time(datetime.now(UTC)).date(),
        },
    )


@router.get("/verifikasi/daftar.csv")
def work_list_csv(request: Request, db: DB, actor: PersonalReader) -> Response:
    """The filtered list of families due (up to ``PRINT_ROWS``) as CSV for the day's round."""
    work, _ = _work(db, actor, request, 1, PRINT_ROWS)
    rows = [
        {
            "kelurahan": f["kelurahan_name"],
            "rw": f"{f['rw']:03d}",
            "rt": f"{f['rt']:03d}",
            "alamat": f["address"] or "",
            "kepala_keluarga": f["head_name"] or "",
            "terakhir_diverifikasi": tanggal(f["verified_on"]) if f["verified_on"] else "belum pernah",
        }
        for f in work.families_due
    ]
    return Response(
        table_csv(_DUE_COLUMNS, rows),
        media_type="text/csv; charset=utf-8",
        headers={
            "content-disposition": 'attachment; filename="daftar-verifikasi.csv"',
            "cache-control": "no-store",
        },
    )


def _visit_form(
    request: Request,
    db: Database,
    actor: Actor,
    family_id: int,
    *,
    values: dict[str, Any] | None = None,
    feedback: Feedback | None = None,
) -> Response:
    view = registry_reads.get_family(db, actor, family_id)
    fields = [_SPECS[name] for name in OBSERVABLE]
    return templates.page(
        request,
        "cases/visit.html",
        {
            "title": "Kunjungan verifikasi",
            "view": view,
            "f": view.family,
            "fields": fields,
            "values": values or {},
            "decisions": list(VisitDecision),
            "case_id": request.query_params.get("kasus", ""),
        },
        feedback=feedback or Feedback(),
    )


@router.get("/verifikasi/keluarga/{family_id}")
def visit_page(request: Request, db: DB, actor: PersonalReader, family_id: int) -> Response:
    """The visit form: indicators prefilled from the registry, decision, GPS, photo."""
    return _visit_form(request, db, actor, family_id)


@router.post("/verifikasi/keluarga/{family_id}")
async def visit(request: Request, db: DB, actor: PersonalReader, family_id: int) -> Response:
    """Record a visit; its findings update the registry with history."""
    form = await request.form(max_files=1)
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    observed: dict[str, Any] = {}
    for name in OBSERVABLE:
        if _SPECS[name].kind == "bool":
            observed[name] = name in form
        elif values.get(name):
            observed[name] = values[name]
    photo = form.get("foto")
    photos = (
        [case_submissions.Evidence(photo.file, "foto_kunjungan")]
        if isinstance(photo, UploadFile) and photo.filename
        else []
    )
    case_id = int(values["kasus"]) if values.get("kasus", "").isdigit() else None

    def attempt() -> str:
        verification.record_visit(
            db,
            actor,
            family_id,
            observed=observed,
            decision=values.get("keputusan", ""),
            expected_version=int(values.get("versi", "0") or 0),
            note=values.get("catatan", ""),
            gps=parse_gps(values.get("lintang"), values.get("bujur")),
            case_id=case_id,
            photos=photos,
            upload_dir=_upload_dir(request),
        )
        return "/verifikasi?ok=1"

    return await run_in_threadpool(
        act,
        attempt,
        lambda feedback: _visit_form(request, db, actor, family_id, values=values, feedback=feedback),
    )
