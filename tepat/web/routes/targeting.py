"""Sasaran: PMT model versions and their accuracy, desil by kecamatan, the rule editor and the what-if simulation.

For Admin Dinsos and analysts only. Analysts see aggregates: counts, charts and
sample explanations without family ids or member names.
"""

from __future__ import annotations

import tempfile
from functools import partial
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from tepat.domain.access import Actor
from tepat.domain.programmes import rupiah_amount
from tepat.domain.rules import RuleError
from tepat.domain.welfare import GroupedPmtModel
from tepat.errors import ValidationError
from tepat.services import eligibility, simulation, targeting
from tepat.store.database import Database
from tepat.web.deps import DB, Staff
from tepat.web.forms import saved_table
from tepat.web.templating import templates

router = APIRouter(prefix="/sasaran")

EXAMPLE_RULE = 'desil <= 4 and status == "aktif" and any(anggota, umur >= 6 and umur <= 18 and sekolah)'
SAMPLES = 3


def targeting_actor(request: Request, found: Staff) -> Actor:
    """A logged-in Admin Dinsos or analyst."""
    targeting.require_targeting(found)
    request.state.actor = found
    return found


Who = Annotated[Actor, Depends(targeting_actor)]
ModelParam = Annotated[int | None, Query(alias="model", ge=1)]


def _page(request: Request, name: str, context: dict[str, Any]) -> Response:
    return templates.page(request, f"targeting/{name}.html", context)


@router.get("")
def overview(request: Request, db: DB, actor: Who) -> Response:
    """Model versions with their accuracy and their latest ranking."""
    versions = targeting.list_models(db, actor)
    return _page(request, "overview", {"title": "Sasaran", "versions": versions})


@router.get("/model/{model_id}")
def model_page(request: Request, db: DB, actor: Who, model_id: int) -> Response:
    """One model version: coefficients, statistics, accuracy chart."""
    version = targeting.get_model(db, actor, model_id)
    chart = ""
    if version.last_evaluation:
        evaluation = targeting.Evaluation(
            version.id,
            version.name,
            version.last_evaluation["households"],
            version.last_evaluation["results"],
        )
        chart = targeting.evaluation_chart([evaluation])
    return _page(
        request,
        "model",
        {
            "title": f"Model {version.name}",
            "version": version,
            "chart": chart,
            "sections": _coefficient_sections(version),
        },
    )


def _coefficient_sections(version: targeting.ModelVersion) -> list[dict[str, Any]]:
    """The coefficients with Indonesian labels: one table, or one per group of a grouped model."""
    from tepat.store.pmt_features import label_of

    model = version.model
    parts = model.models if isinstance(model, GroupedPmtModel) else (model,)
    sections = []
    for part in parts:
        rows = []
        for name, value in part.coefficients.items():
            feature, _, level = name.partition("=")
            label = (
                "Konstanta" if name == "intercept" else label_of(feature) + (f": {level}" if level else "")
            )
            rows.append((name, label, value))
        sections.append({"group": part.group, "r2": part.r2, "n": part.n, "rows": rows})
    return sections


@router.get("/desil")
def deciles(request: Request, db: DB, actor: Who, model_id: ModelParam = None) -> Response:
    """Families per desil in each kecamatan (table and bar chart)."""
    distribution = targeting.decile_distribution(db, actor, model_id)
    versions = [v for v in targeting.list_models(db, actor) if v.used]
    return _page(request, "deciles", {"title": "Sebaran desil", "d": distribution, "versions": versions})


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


def _rule_context(db: Database, actor: Actor, rule: str, model_id: int | None) -> dict[str, Any]:
    context: dict[str, Any] = {"rule": rule, "result": None, "error": None, "samples": []}
    try:
        result = eligibility.eligibility(db, actor, rule, model_id=model_id, limit=10)
    except RuleError as exc:
        context["error"] = {"position": exc.position, "reason": exc.reason}
        return context
    except ValidationError as exc:
        context["error"] = {"position": None, "reason": exc.message}
        return context
    context["result"] = result
    samples = []
    for eligible in (True, False):
        for family_id in eligibility.sample_family_ids(
            db,
            actor,
            rule,
            eligible=eligible,
            count=SAMPLES,
            model_id=result.model_id,
            reference_date=result.reference_date,
        ):
            explanation = eligibility.explain_family(
                db, actor, rule, family_id, model_id=result.model_id, reference_date=result.reference_date
            )
            samples.append(
                {"family_id": family_id if actor.sees_personal_data else None, "explanation": explanation}
            )
    context["samples"] = samples
    return context


@router.get("/aturan")
def rule_editor(request: Request, db: DB, actor: Who, model_id: ModelParam = None) -> Response:
    """The rule editor with the example rule."""
    return _page(
        request,
        "rules",
        {
            "title": "Aturan kelayakan",
            "model_id": model_id,
            **_rule_context(db, actor, EXAMPLE_RULE, model_id),
        },
    )


@router.post("/aturan")
async def rule_check(request: Request, db: DB, actor: Who) -> Response:
    """Count the families a rule selects and explain a few decisions."""
    form = await _form(request)
    model_id = int(form["model"]) if form.get("model", "").isdigit() else None
    rule = form.get("aturan", "")  # not stripped: error positions refer to what the user typed
    if not rule.strip():
        rule = EXAMPLE_RULE
    context = await run_in_threadpool(_rule_context, db, actor, rule, model_id)  # counts over the whole area
    return _page(request, "rules", {"title": "Aturan kelayakan", "model_id": model_id, **context})


def _int(form: dict[str, str], name: str, label: str, errors: list[str], *, required: bool) -> int | None:
    raw = form.get(name, "").strip()
    if not raw:
        if required:
            errors.append(f"{label} wajib diisi.")
        return None
    value = rupiah_amount(raw)  # "Rp 300.000", "RP300.000", "300000" …: the one parser of typed rupiah
    if value is None or value < 0:
        errors.append(f"{label} harus berupa bilangan bulat rupiah, mis. Rp 300.000.")
        return None
    return value


@router.get("/simulasi")
def simulation_form(request: Request, actor: Who) -> Response:
    """The what-if form."""
    return _page(
        request,
        "simulation",
        {
            "title": "Simulasi program",
            "form": {
                "aturan_1": 'desil <= 2 and status == "aktif"',
                "aturan_2": "",
                "besaran": "250000",
                "satuan": "keluarga",
                "anggaran": "",
            },
            "results": [],
            "errors": [],
        },
    )


MAX_SURVEY_BYTES = 20 * 1024 * 1024


async def _survey_upload(request: Request, folder: Path, errors: list[str]) -> Path | None:
    """The survey file sent with the simulation (optional), saved in ``folder``; ``None`` when none was sent."""
    try:
        return await saved_table(
            (await request.form()).get("survei"), folder, what="Berkas survei", max_bytes=MAX_SURVEY_BYTES
        )
    except ValidationError as exc:
        errors.append(exc.message)
        return None


@router.post("/simulasi")
async def simulation_run(request: Request, db: DB, actor: Who) -> Response:
    """Run one or two scenarios and show them side by side; with a survey file, also each scenario's inclusion and
    exclusion errors on the survey households (the share reached, applied to the survey)."""
    with tempfile.TemporaryDirectory() as folder:
        return await _simulation(request, db, actor, Path(folder))


async def _simulation(request: Request, db: Database, actor: Actor, folder: Path) -> Response:
    form = await _form(request)
    errors: list[str] = []
    survey = await _survey_upload(request, folder, errors)
    amount = _int(form, "besaran", "Besaran bantuan", errors, required=True)
    budget = _int(form, "anggaran", "Anggaran", errors, required=False)
    unit = form.get("satuan", "keluarga")
    if unit not in ("keluarga", "jiwa"):
        errors.append("Satuan harus keluarga atau jiwa.")
    rules = [form.get(k, "").strip() for k in ("aturan_1", "aturan_2")]
    results = []
    if not errors and amount is not None:
        for i, rule in enumerate(rules):
            if not rule:
                continue
            try:
                results.append(
                    await run_in_threadpool(
                        partial(simulation.simulate, survey=survey),
                        db,
                        actor,
                        simulation.Scenario(
                            rule, amount, simulation.Unit(unit), budget, label=f"Skenario {i + 1}"
                        ),
                    )
                )
            except RuleError as exc:
                errors.append(f"Skenario {i + 1}: posisi {exc.position}: {exc.reason}")
            except ValidationError as exc:
                errors.append(f"Skenario {i + 1}: {exc.message}")
        if not any(rules):
            errors.append("Tulis paling sedikit satu aturan.")
    return _page(
        request,
        "simulation",
        {
            "title": "Simulasi program",
            "form": form,
            "results": results,
            "errors": errors,
            "with_survey": survey is not None,
        },
    )
