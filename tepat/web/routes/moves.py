"""The move-request page: records of this area that another area asked to register, and this area's own requests."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from tepat.domain.access import Actor
from tepat.domain.moves import MoveState
from tepat.errors import ValidationError
from tepat.services import moves
from tepat.store.database import Database
from tepat.web.deps import DB, Editor
from tepat.web.feedback import error_map
from tepat.web.templating import templates

router = APIRouter()


def _page(
    request: Request,
    db: Database,
    actor: Actor,
    *,
    errors: dict[int, str] | None = None,
    notes: dict[int, str] | None = None,
    message: str = "",
    status_code: int = 200,
) -> Response:
    return templates.page(
        request,
        "moves.html",
        {
            "title": "Permintaan perpindahan",
            "incoming": moves.incoming(db, actor),
            "outgoing": moves.outgoing(db, actor),
            "errors": errors or {},
            "notes": notes or {},
            "message": message,
            "done": request.query_params.get("pesan", ""),
            "MoveState": MoveState,
        },
        status_code=status_code,
    )


@router.get("/perpindahan")
def move_requests(request: Request, db: DB, actor: Editor) -> Response:
    """Requests waiting for this area's answer, and the answers to this area's requests."""
    return _page(request, db, actor)


@router.post("/perpindahan/{request_id}")
async def decide(request: Request, request_id: int, db: DB, actor: Editor) -> Response:
    """Accept (the record is marked *pindah* here) or refuse a request, with a reason."""
    form = await request.form()
    note = str(form.get("catatan", ""))
    accept = form.get("keputusan") == "terima"
    try:
        moves.decide(db, actor, request_id, accept=accept, note=note)
    except ValidationError as exc:
        return _page(
            request,
            db,
            actor,
            errors={request_id: error_map(exc.errors).get("catatan", exc.message)},
            notes={request_id: note},
            message=exc.message,
            status_code=422,
        )
    return RedirectResponse(f"/perpindahan?pesan={'diterima' if accept else 'ditolak'}", status_code=303)
