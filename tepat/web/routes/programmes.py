"""Pages for programmes and benefit cycles: the catalogue, candidates, explanations, overrides, cycles.

Every staff role reads the catalogue and the cycle totals; names appear only to
roles that read personal data, inside their area (the candidate page is refused
to analysts). Admin Dinsos edits the catalogue and moves cycles; operators and
admins request overrides; another admin decides them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from tepat.domain.access import Actor, Permission
from tepat.domain.cycles import CycleAction, CycleState
from tepat.domain.formatting import local_today
from tepat.domain.programmes import (
    SCHOOL_LEVELS,
    BenefitType,
    Frequency,
    FundingSource,
    Programme,
    Unit,
    rupiah_amount,
)
from tepat.errors import FieldError, ValidationError
from tepat.services import cycles, enrolment, programmes
from tepat.store.database import Database
from tepat.web.choices import cycle_area_options
from tepat.web.deps import (
    DB,
    Editor,
    PersonalReader,
    Staff,
    verify_csrf,
)
from tepat.web.feedback import Feedback, act
from tepat.web.forms import as_int, parse_form_date
from tepat.web.templating import templates

router = APIRouter(dependencies=[Depends(verify_csrf)])
PAGE = 50
LABELS = {"unit": Unit, "benefit_type": BenefitType, "funding_source": FundingSource, "frequency": Frequency}


def _page(request: Request, name: str, context: dict[str, Any], feedback: Feedback | None = None) -> Response:
    return templates.page(
        request,
        f"programmes/{name}.html",
        {**context, "labels": LABELS, "CycleState": CycleState},
        feedback=feedback or Feedback(),
    )


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}


# ----------------------------------------------------------------- catalogue


@router.get("/program")
def catalogue(request: Request, db: DB, actor: Staff) -> Response:
    """Every programme with its unit, amount, budget and rule."""
    return _catalogue(request, db, actor)


_NEW_FIELDS = (
    "code",
    "name",
    "unit",
    "benefit_type",
    "funding_source",
    "frequency",
    "amount",
    "budget_year",
    "annual_budget",
    "quota",
    "coverage_months",
    "rule",
    "description",
)


def _catalogue(
    request: Request,
    db: Database,
    actor: Actor,
    *,
    values: dict[str, str] | None = None,
    feedback: Feedback | None = None,
) -> Response:
    rows = programmes.list_programmes(db, actor)
    return _page(
        request,
        "list",
        {
            "title": "Program bantuan",
            "rows": rows,
            "several_offices": len({r["office_code"] for r in rows}) > 1,
            "may_edit_catalogue": programmes.may_edit_catalogue(db, actor),
            "new": values
            or {
                "budget_year": str(date.today().year),
                "rule": 'status == "aktif"',
                "unit": "keluarga",
                "benefit_type": "tunai",
                "funding_source": "APBD",
                "frequency": "sekali",
            },
        },
        feedback,
    )


@router.post("/program/baru")
async def create(request: Request, db: DB, actor: Staff) -> Response:
    """Add a programme (admin): code, unit, type, funding, frequency, amount, the budget of a named year, rule."""
    programmes.require_catalogue(db, actor)
    form = await _form(request)
    values = {k: form.get(k, "") for k in _NEW_FIELDS}

    def attempt() -> str:
        programmes.create_programme(db, actor, values)
        return f"/program/{values['code'].strip().upper()}"

    return act(attempt, lambda feedback: _catalogue(request, db, actor, values=values, feedback=feedback))


@router.post("/program/muat-katalog")
def seed(request: Request, db: DB, actor: Staff) -> Response:
    """Load the seed catalogue (admin; only adds what is missing)."""
    programmes.require_catalogue(db, actor)
    programmes.seed_catalogue(db, actor)
    return RedirectResponse("/program", status_code=303)


def _detail(
    request: Request,
    db: Database,
    actor: Actor,
    code: str,
    *,
    values: dict[str, str] | None = None,
    feedback: Feedback | None = None,
    notice: str = "",
    office: str | None = None,
) -> Response:
    prog = programmes.get_programme(db, actor, code, office=office)
    try:
        result: enrolment.CandidateList | None = enrolment.candidates(db, actor, code, limit=0, office=office)
        no_candidates = ""
    except ValidationError as exc:  # e.g. a rule on desil before the registry was ranked
        result, no_candidates = None, exc.message
    overrides = enrolment.list_overrides(db, actor, code, office=office)
    form = values if values is not None else _form_values(prog)
    return _page(
        request,
        "detail",
        {
            "title": prog["name"],
            "p": prog,
            "kantor": office or "",  # named in the page's links when the account is above the offices
            "may_edit_catalogue": programmes.may_edit_catalogue(db, actor, office),
            "result": result,
            "no_candidates": no_candidates,
            "overrides": overrides,
            "form": form,
            "notice": notice,
            "levels": SCHOOL_LEVELS,
        },
        feedback,
    )


_EDITABLE = (
    "name",
    "amount",
    "budget_year",
    "annual_budget",
    "quota",
    "rule",
    "member_rule",
    "exclusions",
    "coverage_months",
)
"""The programme form's plain fields (the amounts by school level and the active switch have their own)."""


def _form_values(prog: Programme) -> dict[str, str]:
    stored: Mapping[str, object] = prog
    out = {k: "" if stored[k] is None else str(stored[k]) for k in (*_EDITABLE, "version")}
    out["exclusions"] = ", ".join(prog["exclusions"] or [])
    for level in SCHOOL_LEVELS:
        out[f"level_{level}"] = str((prog["amounts_by_level"] or {}).get(level, ""))
    out["active"] = "ya" if prog["active"] else "tidak"
    return out


@router.get("/program/{program}")
def detail(
    request: Request, db: DB, actor: Staff, program: str, ok: str = "", kantor: str | None = None
) -> Response:
    """A programme of the account's office (``kantor``: another office's, for an account above the offices): its
    settings, candidates by desil and kelurahan, and its overrides."""
    return _detail(request, db, actor, program, notice="Perubahan tersimpan." if ok else "", office=kantor)


@router.post("/program/{program}")
async def edit(request: Request, db: DB, actor: Staff, program: str, kantor: str | None = None) -> Response:
    """Save the admin's edit of amounts, budget, quota, rules and exclusions (the rule is checked first)."""
    programmes.require_catalogue(db, actor, kantor)
    form = await _form(request)
    changes: dict[str, Any] = {k: form.get(k, "") for k in _EDITABLE}
    if not changes["budget_year"].strip():
        del changes["budget_year"]  # a form without it (an older page) keeps the year
    if any(form.get(f"level_{k}") for k in SCHOOL_LEVELS):
        changes["amounts_by_level"] = {k: form.get(f"level_{k}", "") for k in SCHOOL_LEVELS}
    else:
        changes["amounts_by_level"] = None
    changes["active"] = form.get("active", "ya") == "ya"

    def attempt() -> str:
        programmes.update_programme(db, actor, program, as_int(form.get("version")), changes, office=kantor)
        return f"/program/{program}?ok=1" + (f"&kantor={kantor}" if kantor else "")

    return act(
        attempt,
        lambda feedback: _detail(request, db, actor, program, values=form, feedback=feedback, office=kantor),
    )


@router.get("/program/{program}/kandidat")
def candidate_page(
    request: Request, db: DB, actor: PersonalReader, program: str, mulai: int = 0, kantor: str | None = None
) -> Response:
    """A page of candidates poorest first, with names (roles that read personal data, in their area; ``kantor``:
    whose programme, for an account above the offices)."""
    result = enrolment.candidates(db, actor, program, offset=max(mulai, 0), limit=PAGE, office=kantor)
    return _page(
        request,
        "candidates",
        {
            "title": f"Kandidat {result.programme['code']}",
            "result": result,
            "start": max(mulai, 0),
            "size": PAGE,
            "kantor": kantor or "",
        },
    )


@router.get("/program/{program}/keluarga")
def explanation_lookup(program: str, actor: Staff, id: str = "") -> Response:
    """The explanation form's target (works without JavaScript): on to the family's explanation."""
    if not id.strip().isdigit():
        raise ValidationError("Nomor keluarga harus angka.", [FieldError("id", "Isi nomor keluarga (ID)")])
    return RedirectResponse(f"/program/{program}/keluarga/{int(id)}", status_code=303)


@router.get("/program/{program}/keluarga/{family_id}")
def explanation(request: Request, db: DB, actor: Staff, program: str, family_id: int) -> Response:
    """Why one family (or each member) is in or out: rule, member rule, exclusions, overrides, the cut."""
    decision = enrolment.explain(db, actor, program, family_id)
    return _page(request, "explain", {"title": f"Penjelasan {decision.programme['code']}", "d": decision})


@router.post("/program/{program}/usulan")
async def request_override(request: Request, db: DB, actor: Editor, program: str) -> Response:
    """An operator's or admin's request to add or remove a family (or person) by hand."""
    form = await _form(request)
    member = form.get("member_id", "").strip()

    def attempt() -> str:
        enrolment.request_override(
            db,
            actor,
            program,
            as_int(form.get("family_id")),
            form.get("action", ""),
            form.get("reason", ""),
            form.get("evidence", ""),
            member_id=int(member) if member.isdigit() else None,
        )
        return f"/program/{program}?ok=1#usulan"

    return act(attempt, lambda feedback: _detail(request, db, actor, program, feedback=feedback))


@router.post("/program/{program}/usulan/{override_id}")
async def decide_override(request: Request, db: DB, actor: Staff, program: str, override_id: int) -> Response:
    """Approve or reject a pending override (an admin other than the requester)."""
    form = await _form(request)

    def attempt() -> str:
        enrolment.decide_override(
            db, actor, override_id, form.get("keputusan") == "setujui", form.get("catatan", "")
        )
        return f"/program/{program}?ok=1#usulan"

    return act(attempt, lambda feedback: _detail(request, db, actor, program, feedback=feedback))


# ----------------------------------------------------------------- cycles


def _cycle_list(
    request: Request,
    db: Database,
    actor: Actor,
    *,
    values: dict[str, str] | None = None,
    feedback: Feedback | None = None,
) -> Response:
    return _page(
        request,
        "cycles",
        {
            "title": "Siklus bantuan",
            "rows": cycles.list_cycles(db, actor),
            "programmes": programmes.list_programmes(db, actor, active_only=True),
            "form": values or {},
            "areas": cycle_area_options(db, actor) if actor.may(Permission.MANAGE_PROGRAMMES) else [],
        },
        feedback,
    )


@router.get("/siklus")
def cycle_list(request: Request, db: DB, actor: Staff) -> Response:
    """Cycles, newest first, and (for an admin) the form to create one."""
    return _cycle_list(request, db, actor)


def _budget(raw: str) -> int | None:
    """The cycle's cap as typed ("500.000.000", "Rp 500.000.000"); empty means the default. Anything else is refused
    rather than silently dropped (which would leave the cycle without the cap the admin meant)."""
    if not raw.strip():
        return None
    value = rupiah_amount(raw)
    if value is None:
        raise ValidationError(
            "Data siklus belum benar.",
            [FieldError("budget_cap", "Pagu harus bilangan bulat rupiah, mis. 500.000.000")],
        )
    return value  # negative or too large: the service refuses it with its own message


@router.post("/siklus")
async def cycle_create(request: Request, db: DB, actor: Staff) -> Response:
    """Create a cycle in draf."""
    form = await _form(request)

    def attempt() -> str:
        cycle_id = cycles.create_cycle(
            db,
            actor,
            form.get("program", ""),
            name=form.get("name", ""),
            period_start=parse_form_date(form.get("period_start", ""), "period_start"),
            period_end=parse_form_date(form.get("period_end", ""), "period_end"),
            budget_cap=_budget(form.get("budget_cap", "")),
            area_code=form.get("area_code") or None,
        )
        return f"/siklus/{cycle_id}"

    return act(attempt, lambda feedback: _cycle_list(request, db, actor, values=form, feedback=feedback))


def _cycle(
    request: Request,
    db: Database,
    actor: Actor,
    cycle_id: int,
    *,
    feedback: Feedback | None = None,
    notice: str = "",
) -> Response:
    view = cycles.show(db, actor, cycle_id)
    review = cycles.approval_review(db, actor, cycle_id) if CycleAction.APPROVE in view.actions else None
    return _page(
        request,
        "cycle",
        {
            "title": view.cycle.name,
            "v": view,
            "c": view.cycle,
            "notice": notice,
            "Action": CycleAction,
            "review": review,
            "today": local_today(),
        },
        feedback,
    )


def _approve(db: Database, actor: Actor, cycle_id: int, form: dict[str, str]) -> None:
    """Approval needs the approver's confirmation of the count and total they were shown."""
    cycles.approval_review(db, actor, cycle_id)  # who may approve (maker-checker) is answered first
    if form.get("konfirmasi") != "1":
        raise ValidationError(
            "Centang konfirmasi jumlah penerima dan total sebelum menyetujui.",
            [FieldError("konfirmasi", "Centang konfirmasi")],
        )
    shown = (as_int(form.get("jumlah")), as_int(form.get("total")))
    if shown[0] is None or shown[1] is None:
        raise ValidationError("Muat ulang halaman siklus lalu setujui lagi.")
    cycles.approve(db, actor, cycle_id, confirm=(shown[0], shown[1]))


@router.get("/siklus/{cycle_id}")
def cycle_page(request: Request, db: DB, actor: Staff, cycle_id: int, ok: str = "") -> Response:
    """A cycle: state, totals, the table by kelurahan and the steps this user may take."""
    return _cycle(request, db, actor, cycle_id, notice="Langkah tersimpan." if ok else "")


@router.post("/siklus/{cycle_id}/langkah")
async def cycle_step(request: Request, db: DB, actor: Staff, cycle_id: int) -> Response:
    """One step of the cycle (generate, submit, approve, return, cancel, close)."""
    form = await _form(request)
    step = form.get("langkah", "")
    note = form.get("catatan", "")
    actions: dict[str, Callable[[], object]] = {
        CycleAction.GENERATE.value: lambda: cycles.generate(db, actor, cycle_id),
        CycleAction.SUBMIT.value: lambda: cycles.submit(db, actor, cycle_id),
        CycleAction.APPROVE.value: lambda: _approve(db, actor, cycle_id, form),
        CycleAction.RETURN.value: lambda: cycles.return_to_draft(db, actor, cycle_id, note),
        CycleAction.CANCEL.value: lambda: cycles.cancel(db, actor, cycle_id, note),
        CycleAction.CLOSE.value: lambda: cycles.close(db, actor, cycle_id),
    }
    if step not in actions:
        unknown = Feedback(message="Langkah tidak dikenal.", status_code=422)
        return _cycle(request, db, actor, cycle_id, feedback=unknown)

    def attempt() -> str:
        actions[step]()
        return f"/siklus/{cycle_id}?ok=1"

    # Generating or freezing a city's list takes seconds: off the loop.
    return await run_in_threadpool(
        act, attempt, lambda feedback: _cycle(request, db, actor, cycle_id, feedback=feedback)
    )
