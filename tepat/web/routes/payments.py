"""Payment pages: batches, the payment file, result upload with its outcome, retry and cancel, reconciliation.

Keuangan and Admin Dinsos work here inside their area. Analysts may open the
batch list and the reconciliation tables, which are aggregates (counts and sums
per kelurahan, mismatches counted by kind); batch details, files and anything
with names or NIKs answer 403 for them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, Response
from starlette.background import BackgroundTask
from starlette.datastructures import UploadFile

from tepat.domain.access import Actor, Permission
from tepat.domain.payments import BatchState, Channel, Outcome, PaymentState
from tepat.errors import FieldError, ValidationError
from tepat.files import uploads
from tepat.services import payments, reconciliation
from tepat.store.database import Database
from tepat.web.choices import kelurahan_options
from tepat.web.deps import DB, requires, verify_csrf
from tepat.web.feedback import Feedback, act
from tepat.web.templating import templates

router = APIRouter(dependencies=[Depends(verify_csrf)])
MAX_RESULT_BYTES = 100 * 1024 * 1024
RESULT_SUFFIXES = {".csv", ".xlsx"}


money_actor = requires(Permission.MANAGE_MONEY, "Halaman ini hanya untuk Keuangan dan Admin Dinsos.")
reader_actor = requires(
    Permission.READ_PAYMENTS, "Halaman ini hanya untuk Keuangan, Admin Dinsos dan Analis."
)


Money = Annotated[Actor, Depends(money_actor)]
Reader = Annotated[Actor, Depends(reader_actor)]


def _work_dir(request: Request) -> Path:
    path = Path(request.app.state.settings.upload_dir) / "pembayaran"
    path.mkdir(parents=True, exist_ok=True)
    return path


@router.get("/pembayaran")
def batch_list(request: Request, db: DB, actor: Reader, siklus: str = "") -> Response:
    """Batches in the user's area, newest first (optionally of one cycle)."""
    cycle_id = int(siklus) if siklus.isdigit() else None
    return templates.page(
        request,
        "payments/list.html",
        {
            "title": "Pembayaran",
            "rows": payments.list_batches(db, actor, cycle_id),
            "siklus": cycle_id,
            "cycles": payments.payable_cycles(db, actor),
            "money": actor.may(Permission.MANAGE_MONEY),
            "BatchState": BatchState,
            "Channel": Channel,
        },
    )


def _new_form(
    request: Request,
    db: Database,
    actor: Actor,
    values: dict[str, Any],
    feedback: Feedback | None = None,
) -> Response:
    return templates.page(
        request,
        "payments/new.html",
        {
            "title": "Batch pembayaran baru",
            "values": values,
            "cycles": payments.payable_cycles(db, actor),
            "channels": list(Channel),
            "kelurahan_options": kelurahan_options(db, actor),
        },
        feedback=feedback or Feedback(),
    )


@router.get("/pembayaran/baru")
def new_batch_page(request: Request, db: DB, actor: Money, siklus: str = "") -> Response:
    return _new_form(request, db, actor, {"siklus": siklus, "kanal": "bank"})


@router.post("/pembayaran/baru")
async def new_batch(request: Request, db: DB, actor: Money) -> Response:
    """Create a batch from the form; a retry batch takes the failed entitlements again."""
    form = await request.form()
    values = {k: str(v) for k, v in form.items() if k != "csrf_token"}

    def attempt() -> str:
        cycle = values.get("siklus", "")
        if not cycle.isdigit():
            raise ValidationError("Pilih siklus.", [FieldError("siklus", "Pilih siklus yang disetujui")])
        batch = payments.create_batch(
            db,
            actor,
            int(cycle),
            values.get("kanal", ""),
            kelurahan_code=values.get("kelurahan") or None,
            retry=bool(values.get("ulang")),
        )
        return f"/pembayaran/{batch.id}?ok=dibuat"

    return await run_in_threadpool(
        act, attempt, lambda feedback: _new_form(request, db, actor, values, feedback)
    )


NOTICES = {
    "dibuat": "Batch dibuat.",
    "batal": "Batch dibatalkan; hak yang belum dibayar dapat dibayar ulang.",
    "hak": "Hak dibatalkan.",
}


def _detail(
    request: Request,
    db: Database,
    actor: Actor,
    batch_id: int,
    *,
    feedback: Feedback | None = None,
    summary: payments.ImportSummary | None = None,
    mismatches: list[dict[str, Any]] | None = None,
    notice: str = "",
) -> Response:
    detail = payments.get_batch(db, actor, batch_id)
    return templates.page(
        request,
        "payments/detail.html",
        {
            "title": f"Batch {detail.batch.number}",
            "d": detail,
            "b": detail.batch,
            "summary": summary,
            "mismatches": mismatches or [],
            "notice": notice,
            "BatchState": BatchState,
            "Channel": Channel,
            "Outcome": Outcome,
            "PaymentState": PaymentState,
        },
        feedback=feedback or Feedback(),
    )


def _refused(request: Request, db: Database, actor: Actor, batch_id: int) -> Callable[[Feedback], Response]:
    """The batch page again, saying why an action was refused (``feedback.act``: a batch that is not there stays a
    404)."""
    return lambda feedback: _detail(request, db, actor, batch_id, feedback=feedback)


@router.get("/pembayaran/{batch_id}")
def batch_page(request: Request, db: DB, actor: Money, batch_id: int, ok: str = "") -> Response:
    return _detail(request, db, actor, batch_id, notice=NOTICES.get(ok, ""))


@router.post("/pembayaran/{batch_id}/ekspor")
def export_file(request: Request, db: DB, actor: Money, batch_id: int) -> Response:
    """Write the payment file and send it as a download (the same bytes every time)."""
    path = _work_dir(request) / f"{uploads.new_token()}.csv"
    number = payments.get_batch(db, actor, batch_id).batch.number

    def attempt() -> Response:
        try:
            payments.export_batch(db, actor, batch_id, path, file_name=f"{number}.csv")
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return FileResponse(
            path,
            media_type="text/csv; charset=utf-8",
            filename=f"{number}.csv",
            background=BackgroundTask(path.unlink, missing_ok=True),
        )

    return act(attempt, _refused(request, db, actor, batch_id))


async def _save_result(upload: UploadFile, target: Path) -> Path:
    suffix = Path(upload.filename or "").suffix.lower()
    if suffix not in RESULT_SUFFIXES:
        raise ValidationError(
            "Berkas tidak dapat diimpor", [FieldError("berkas", "Pilih berkas hasil .csv atau .xlsx")]
        )
    path = target / f"{uploads.new_token()}{suffix}"
    size = 0
    with path.open("wb") as out:
        while chunk := await upload.read(1024 * 1024):
            size += len(chunk)
            if size > MAX_RESULT_BYTES:
                out.close()
                path.unlink(missing_ok=True)
                raise ValidationError(
                    "Berkas terlalu besar", [FieldError("berkas", "Ukuran berkas paling besar 100 MB")]
                )
            out.write(chunk)
    return path


@router.post("/pembayaran/{batch_id}/hasil")
async def upload_result(request: Request, db: DB, actor: Money, batch_id: int) -> Response:
    """Import the bank's result file; the page shows what happened to every row and the mismatches."""
    form = await request.form(max_files=1)
    upload = form.get("berkas")
    payments.get_batch(db, actor, batch_id)  # 404 / 403 before touching the upload
    refused = _refused(request, db, actor, batch_id)
    if not isinstance(upload, UploadFile) or not upload.filename:
        return refused(Feedback(message="Pilih berkas hasil dari bank atau PT Pos.", status_code=422))
    try:
        path = await _save_result(upload, _work_dir(request))
    except ValidationError as exc:  # not a result file, or too large
        return refused(Feedback.of(exc))
    file_name = Path(upload.filename).name

    def attempt() -> Response:
        summary = payments.import_results(db, actor, batch_id, path, file_name=file_name)
        rows = payments.import_mismatches(db, actor, batch_id, summary.import_id)
        return _detail(request, db, actor, batch_id, summary=summary, mismatches=rows)

    try:
        return await run_in_threadpool(act, attempt, refused)
    finally:
        path.unlink(missing_ok=True)


@router.post("/pembayaran/{batch_id}/batal")
async def cancel_batch(request: Request, db: DB, actor: Money, batch_id: int) -> Response:
    form = await request.form()

    def attempt() -> str:
        payments.cancel_batch(db, actor, batch_id, str(form.get("alasan", "")))
        return f"/pembayaran/{batch_id}?ok=batal"

    return await run_in_threadpool(act, attempt, _refused(request, db, actor, batch_id))


@router.post("/pembayaran/{batch_id}/hak/{entitlement_id}/batal")
async def cancel_entitlement(
    request: Request, db: DB, actor: Money, batch_id: int, entitlement_id: int
) -> Response:
    """End one failed entitlement with a reason (it will not be retried)."""
    form = await request.form()
    await run_in_threadpool(payments.get_batch, db, actor, batch_id)  # 404 outside the area

    def attempt() -> str:
        payments.cancel_entitlement(db, actor, entitlement_id, str(form.get("alasan", "")))
        return f"/pembayaran/{batch_id}?ok=hak"

    return await run_in_threadpool(act, attempt, _refused(request, db, actor, batch_id))


@router.post("/pembayaran/{batch_id}/ulang")
async def retry_batch(request: Request, db: DB, actor: Money, batch_id: int) -> Response:
    """A new batch for the same cycle, channel and kelurahan with the failed entitlements (attempt + 1)."""
    form = await request.form()
    batch = (await run_in_threadpool(payments.get_batch, db, actor, batch_id)).batch
    channel = str(form.get("kanal") or batch.channel)

    def attempt() -> str:
        made = payments.create_batch(
            db, actor, batch.cycle_id, channel, kelurahan_code=batch.kelurahan_code, retry=True
        )
        return f"/pembayaran/{made.id}?ok=dibuat"

    return await run_in_threadpool(act, attempt, _refused(request, db, actor, batch_id))


def _reconciliation_page(request: Request, report: reconciliation.Reconciliation, back: str) -> Response:
    return templates.page(
        request,
        "payments/reconciliation.html",
        {
            "title": f"Rekonsiliasi {report.title}",
            "r": report,
            "back": back,
            "Outcome": Outcome,
        },
    )


@router.get("/pembayaran/{batch_id}/rekonsiliasi")
def batch_reconciliation(request: Request, db: DB, actor: Reader, batch_id: int) -> Response:
    report = reconciliation.reconcile(db, actor, batch_id=batch_id)
    return _reconciliation_page(
        request, report, f"/pembayaran/{batch_id}" if actor.may(Permission.MANAGE_MONEY) else "/pembayaran"
    )


@router.get("/pembayaran/siklus/{cycle_id}/rekonsiliasi")
def cycle_reconciliation(request: Request, db: DB, actor: Reader, cycle_id: int) -> Response:
    report = reconciliation.reconcile(db, actor, cycle_id=cycle_id)
    return _reconciliation_page(request, report, f"/pembayaran?siklus={cycle_id}")
