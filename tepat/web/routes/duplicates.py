"""The *Duplikat* page: the review queue of the duplicate search, each pair side by side with its evidence, and
the merges of pairs decided to be one person."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from tepat.domain.access import Actor, Permission
from tepat.domain.linkage import PairDecision
from tepat.errors import NotFound, ValidationError
from tepat.services import duplicates, jobs, merges
from tepat.store.database import Database
from tepat.web.deps import DB, job_runner, requires
from tepat.web.feedback import Feedback, act
from tepat.web.templating import templates

router = APIRouter()
Editor = Annotated[Actor, Depends(requires(Permission.EDIT_REGISTRY))]
_SHOWN = {
    d.value: d for d in (PairDecision.BELUM, PairDecision.KUNJUNGAN, PairDecision.SAMA, PairDecision.BERBEDA)
}


def _view(pair: dict[str, Any]) -> dict[str, Any]:
    evidence = duplicates.evidence_of(pair)
    widest = max((abs(e.weight) for e in evidence), default=1.0) or 1.0
    bars = [
        {"label": e.label, "weight": e.weight, "width": round(100 * abs(e.weight) / widest)} for e in evidence
    ]
    return {**pair, "bars": bars}


def _page(
    request: Request,
    db: Database,
    actor: Actor,
    chosen: PairDecision,
    feedback: Feedback | None = None,
) -> Response:
    pairs = [_view(p) for p in duplicates.queue(db, actor, decision=chosen, limit=50)]
    return templates.page(
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
            "merges": merges.listed(db, actor),
            "merge_states": merges.STATE_LABELS,
            "may_approve": actor.may(Permission.OVERSEE),
            "search": _search_job(request, db, actor),
            "search_steps": duplicates.SEARCH_STEPS,
        },
        feedback=feedback or Feedback(),
    )


def _search_job(request: Request, db: Database, actor: Actor) -> jobs.JobView | None:
    """The search the user started from this page (``?cari=JOB``), to show its progress and outcome."""
    wanted = request.query_params.get("cari", "")
    if not wanted.isdigit():
        return None
    job = jobs.show(db, actor, int(wanted), job_runner(request))
    if job.kind != "duplikat":
        raise NotFound("Pekerjaan tidak ditemukan.")
    return job


@router.post("/duplikat/cari")
def search(request: Request, db: DB, actor: Editor) -> Response:
    """Run the duplicate search over the user's area in the background (minutes at city scale)."""

    def work(progress: jobs.Progress) -> dict[str, Any]:
        return duplicates.search(db, actor, progress=progress).as_dict()

    job_id = job_runner(request).submit(actor, "duplikat", "Pencarian duplikat", work)
    return RedirectResponse(f"/duplikat?cari={job_id}", status_code=303)


@router.get("/duplikat")
def queue(request: Request, db: DB, actor: Editor) -> Response:
    """Pairs that may be one person, most probable first; the decided ones by their decision; the merges."""
    return _page(
        request, db, actor, _SHOWN.get(request.query_params.get("keputusan", ""), PairDecision.BELUM)
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


@router.post("/duplikat/{pair_id}/gabung")
async def merge(request: Request, pair_id: int, db: DB, actor: Editor) -> Response:
    """Merge a pair decided "sama orang" into the record chosen to stay."""
    form = await request.form()
    keep = str(form.get("simpan", ""))

    def attempt() -> str:
        if not keep.isdigit():
            raise ValidationError("Pilih data yang dipertahankan.")
        result = merges.propose(db, actor, pair_id, int(keep), str(form.get("catatan", "")))
        return f"/duplikat?keputusan=sama&pesan=gabung-{result.state}"

    return act(attempt, lambda feedback: _page(request, db, actor, PairDecision.SAMA, feedback))


@router.post("/duplikat/gabung/{merge_id}/setujui")
def approve(merge_id: int, db: DB, actor: Editor) -> Response:
    """A second person approves a merge that touches a paid entitlement."""
    merges.approve(db, actor, merge_id)
    return RedirectResponse("/duplikat?keputusan=sama&pesan=gabung-berlaku", status_code=303)


@router.post("/duplikat/gabung/{merge_id}/batal")
async def undo(request: Request, merge_id: int, db: DB, actor: Editor) -> Response:
    """Undo a merge: both records active again."""
    form = await request.form()

    def attempt() -> str:
        merges.undo(db, actor, merge_id, str(form.get("catatan", "")))
        return "/duplikat?pesan=gabung-dibatalkan"

    return act(attempt, lambda feedback: _page(request, db, actor, PairDecision.SAMA, feedback))
