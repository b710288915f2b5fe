"""The *Duplikat* page: the review queue of the duplicate search, each pair side by side with its evidence."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from tepat.domain.access import Actor, Permission
from tepat.domain.linkage import PairDecision
from tepat.errors import ValidationError
from tepat.services import duplicates
from tepat.store.database import Database
from tepat.web.deps import get_db, requires
from tepat.web.templating import templates

router = APIRouter()
DB = Annotated[Database, Depends(get_db)]
Editor = Annotated[Actor, Depends(requires(Permission.EDIT_REGISTRY))]
_SHOWN = {
    "belum": PairDecision.BELUM,
    "kunjungan": PairDecision.KUNJUNGAN,
    "sama": PairDecision.SAMA,
    "berbeda": PairDecision.BERBEDA,
}


def _view(pair: dict[str, Any]) -> dict[str, Any]:
    evidence = duplicates.evidence_of(pair)
    widest = max((abs(e.weight) for e in evidence), default=1.0) or 1.0
    return {
        **pair,
        "bars": [
            {"label": e.label, "weight": e.weight, "width": round(100 * abs(e.weight) / widest)}
            for e in evidence
        ],
    }


@router.get("/duplikat")
def queue(request: Request, db: DB, actor: Editor) -> Response:
    """Pairs that may be one person, most probable first; the decided ones by their decision."""
    chosen = _SHOWN.get(request.query_params.get("keputusan", "belum"), PairDecision.BELUM)
    pairs = [_view(p) for p in duplicates.queue(db, actor, decision=chosen, limit=50)]
    return templates.TemplateResponse(
        request,
        "duplicates.html",
        {
            "title": "Duplikat",
            "pairs": pairs,
            "chosen": chosen,
            "choices": list(_SHOWN.values()),
            "decisions": [d for d in PairDecision if d is not PairDecision.BELUM],
            "last": duplicates.last_search(db, actor),
            "done": request.query_params.get("pesan", ""),
        },
    )


@router.post("/duplikat/{pair_id}")
async def decide(request: Request, pair_id: int, db: DB, actor: Editor) -> Response:
    """Record a decision on one pair."""
    form = await request.form()
    try:
        decision = PairDecision(str(form.get("keputusan", "")))
    except ValueError:
        raise ValidationError("Pilih keputusan: sama orang, berbeda orang, atau perlu kunjungan.") from None
    duplicates.decide(db, actor, pair_id, decision, str(form.get("catatan", "")))
    return RedirectResponse(f"/duplikat?pesan={decision.value}", status_code=303)
