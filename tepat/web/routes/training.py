"""Pages for a training batch (/siklus/{id}/pelatihan): its seats, enrolment, attendance per day and completion.

Names appear only to roles that read personal data, inside their area; the changes are made by Admin Dinsos and
operators for the seats of their area (``tepat.services.training``). The attendance sheet is printed from here
as a document job (``tepat.web.routes.documents``).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from tepat.domain.access import Actor
from tepat.domain.entitlements import EntitlementState
from tepat.errors import ValidationError
from tepat.services import training
from tepat.store.database import Database
from tepat.web.deps import DB, PersonalReader, verify_csrf
from tepat.web.feedback import Feedback, act
from tepat.web.forms import as_int, parse_form_date, parse_optional_date
from tepat.web.templating import templates

router = APIRouter(dependencies=[Depends(verify_csrf)])

SEAT_ACTIONS = {
    "daftar": "Daftarkan",
    "tolak": "Batalkan kursi (tidak diambil)",
    "lulus": "Lulus (selesai)",
    "tidak_lulus": "Tidak lulus / berhenti",
}


def _page(
    request: Request,
    db: Database,
    actor: Actor,
    cycle_id: int,
    *,
    day: date | None = None,
    feedback: Feedback | None = None,
    notice: str = "",
) -> Response:
    found = training.roster(db, actor, cycle_id, day)
    return templates.page(
        request,
        "programmes/training.html",
        {
            "title": f"Peserta {found.cycle.name}",
            "r": found,
            "notice": notice,
            "State": EntitlementState,
            "seat_actions": SEAT_ACTIONS,
            "day": (day or (found.days[-1] if found.days else found.cycle.period_start)).isoformat(),
        },
        headers={"Cache-Control": "no-store"},
        feedback=feedback or Feedback(),
    )


@router.get("/siklus/{cycle_id}/pelatihan")
def seats(
    request: Request, db: DB, actor: PersonalReader, cycle_id: int, tanggal: str = "", ok: str = ""
) -> Response:
    """The batch's seats in the user's area; with ``tanggal``, the attendance form shows that day's record."""
    day = parse_optional_date(tanggal, "tanggal")
    return _page(request, db, actor, cycle_id, day=day, notice="Tersimpan." if ok else "")


def _ids(values: list[Any]) -> list[int]:
    ids = [as_int(v) for v in values]
    if any(i <= 0 for i in ids):
        raise ValidationError("Pilihan peserta tidak sah; muat ulang halaman.")
    return ids


@router.post("/siklus/{cycle_id}/pelatihan/kursi")
async def act_on_seats(request: Request, db: DB, actor: PersonalReader, cycle_id: int) -> Response:
    """Enrol, turn down, pass or fail the seats ticked."""
    form = await request.form()
    action, note = str(form.get("aksi", "")), str(form.get("alasan", ""))

    def attempt() -> str:
        chosen = _ids(form.getlist("kursi"))
        if action == "daftar":
            training.enrol(db, actor, cycle_id, chosen)
        elif action == "tolak":
            training.decline(db, actor, cycle_id, chosen, note)
        elif action in ("lulus", "tidak_lulus"):
            training.finish(db, actor, cycle_id, chosen, completed=action == "lulus", note=note)
        else:
            raise ValidationError("Tindakan tidak dikenal.")
        return f"/siklus/{cycle_id}/pelatihan?ok=1"

    return act(attempt, lambda feedback: _page(request, db, actor, cycle_id, feedback=feedback))


@router.post("/siklus/{cycle_id}/pelatihan/hadir")
async def attendance(request: Request, db: DB, actor: PersonalReader, cycle_id: int) -> Response:
    """Attendance on one day: the ticked participants present, the others of the user's area absent."""
    form = await request.form()
    try:
        day = parse_form_date(str(form.get("tanggal", "")), "tanggal")
    except ValidationError as exc:  # the page shows the last day's record, and what was wrong with the date
        return _page(request, db, actor, cycle_id, feedback=Feedback.of(exc))

    def attempt() -> str:
        training.record_attendance(db, actor, cycle_id, day, _ids(form.getlist("hadir")))
        return f"/siklus/{cycle_id}/pelatihan?tanggal={day.isoformat()}&ok=1"

    return act(attempt, lambda feedback: _page(request, db, actor, cycle_id, day=day, feedback=feedback))
