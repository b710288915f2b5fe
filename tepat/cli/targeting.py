"""CLI commands for targeting: PMT model versions (``tepat pmt …``), rules (``tepat rules …``), ``tepat simulate``.

Commands run as the system actor (an Admin Dinsos for the whole city); the
work itself is in ``tepat.services.targeting`` and ``tepat.services.simulation``.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from tepat.cli import common
from tepat.cli.common import DatabaseOption, JsonOption, fail, open_database, print_json
from tepat.domain.access import SYSTEM
from tepat.domain.formatting import number, rupiah
from tepat.domain.households import FAMILY_FIELDS
from tepat.domain.rules import RuleError, parse_rule
from tepat.domain.welfare import AnyPmtModel, GroupedPmtModel, PmtModel, fit_pmt, fit_pmt_by_group
from tepat.files.survey_frames import read_survey_columns

CODED_COLUMNS = frozenset(f.column for f in FAMILY_FIELDS if f.kind == "enum")
"""Canonical registry columns holding codes: always categorical, even when the codes look like numbers."""

pmt_app = typer.Typer(
    help="Proxy-means test (PMT): fit, store, evaluate and rank with model versions.", no_args_is_help=True
)
rules_app = typer.Typer(
    help="Eligibility rules: check, run over the registry, explain.", no_args_is_help=True
)


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def _references(values: list[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in values or []:
        feature, sep, level = item.partition("=")
        if not sep or not feature.strip() or not level.strip():
            fail(f"--reference harus berbentuk fitur=level, bukan '{item}'.")
        out[feature.strip()] = level.strip()
    return out


def model_summary(model: PmtModel) -> dict[str, Any]:
    """The fitted model as the JSON the command prints."""
    return {
        "coefficients": model.coefficients,
        "r2": model.r2,
        "n": model.n,
        "dropped": model.dropped,
        "weight_sum": model.weight_sum,
        "residual_variance": model.residual_variance,
        "references": {f.name: f.reference for f in model.features if f.kind == "categorical"},
    }


def _print_model(model: PmtModel) -> None:
    title = f"Kelompok {model.group}: " if model.group else ""
    typer.echo(
        f"{title}n = {number(model.n)} rumah tangga ({number(model.dropped)} dilewati), R² = {number(model.r2, 4)}"
    )
    width = max(len(name) for name in model.coefficient_names)
    for name, value in model.coefficients.items():
        typer.echo(f"  {name:<{width}}  {number(value, 6):>14}")


@pmt_app.command("fit")
def fit_command(
    file: Annotated[Path, typer.Argument(help="Survey file (CSV, XLSX or Parquet), one row per household.")],
    target: Annotated[
        str, typer.Option("--target", help="Column of per-capita consumption (the log is taken).")
    ],
    features: Annotated[str, typer.Option("--features", help="Comma-separated feature columns.")],
    weight: Annotated[str | None, typer.Option("--weight", help="Column of survey weights.")] = None,
    reference: Annotated[
        list[str] | None,
        typer.Option("--reference", help="Reference level of a categorical feature: feature=level."),
    ] = None,
    categorical: Annotated[
        str | None, typer.Option("--categorical", help="Comma-separated features to treat as categories.")
    ] = None,
    group: Annotated[
        str | None, typer.Option("--group", help="Column: fit one model per value of it.")
    ] = None,
    save: Annotated[
        bool, typer.Option("--save", help="Store the model as a new version in the database.")
    ] = False,
    name: Annotated[str | None, typer.Option("--name", help="Name of the stored version.")] = None,
    acting: Annotated[
        str,
        typer.Option(
            "--as",
            help="Username of the analyst or admin fitting (required with --save: "
            "the version records who made it).",
        ),
    ] = "",
    db_url: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Fit ln(per-capita consumption) on household indicators by weighted least squares (one model, or one per
    value of --group; with --save, stored as a new version under the account given with --as)."""
    names = _split(features)
    if not names:
        fail("--features tidak boleh kosong.")
    references = _references(reference)
    coded = {n for n in names if n in CODED_COLUMNS} | set(_split(categorical)) | set(references)
    wanted = [target, *names] + ([weight] if weight else []) + ([group] if group else [])
    columns = read_survey_columns(file, wanted, text_columns=sorted(coded | ({group} if group else set())))
    options: dict[str, Any] = {
        "target": target,
        "features": names,
        "weight": weight,
        "categorical": coded,
        "reference": references,
    }
    db = open_database(db_url) if save else None
    actor = (
        common.acting(db, acting) if db is not None else None
    )  # before fitting: a wrong --as fails at once
    model: AnyPmtModel = (
        fit_pmt_by_group(columns, group_column=group, **options) if group else fit_pmt(columns, **options)
    )
    version = None
    if db is not None and actor is not None:
        from tepat.services import targeting

        version = targeting.save_model(db, actor, model, source=file, name=name)
    extra = {"version": version} if version is not None else {}
    if isinstance(model, GroupedPmtModel):
        if as_json:
            print_json(
                {"group_column": group, "groups": {m.group: model_summary(m) for m in model.models}, **extra}
            )
            return
        for part in model.models:
            _print_model(part)
    elif as_json:
        print_json(model_summary(model) | extra)
        return
    else:
        _print_model(model)
    if version is not None:
        typer.echo(f"Disimpan sebagai versi model {version}.")


@rules_app.command("check")
def check_command(
    expression: Annotated[str, typer.Argument(help="The rule, e.g. 'desil <= 4 and status == \"aktif\"'.")],
    as_json: JsonOption = False,
) -> None:
    """Parse a rule and report the first error with its position."""
    try:
        rule = parse_rule(expression)
    except RuleError as exc:
        if as_json:
            print_json({"valid": False, "errors": [{"position": exc.position, "message": exc.reason}]})
        else:
            typer.echo(f"Galat: {exc.message}", err=True)
            typer.echo(f"  {expression}", err=True)
            typer.echo("  " + " " * (exc.position - 1) + "^", err=True)
        raise typer.Exit(1) from None
    common.tell(
        as_json,
        {"valid": True, "fields": sorted(rule.fields())},
        f"Aturan valid. Data yang dipakai: {', '.join(sorted(rule.fields()))}.",
    )


def _coverages(value: str) -> list[float]:
    try:
        out = [float(v) / 100 for v in _split(value)]
    except ValueError:
        fail(f"--coverage harus berupa persen dipisah koma, mis. 10,20,40, bukan '{value}'.")
    if not out or not all(0 < c <= 1 for c in out):
        fail("--coverage harus berisi persen antara 0 dan 100.")
    return out


def _day(value: str | None) -> date | None:
    return None if value is None else common.parse_day(value, "--date")


@pmt_app.command("list")
def list_command(db_url: DatabaseOption = None, as_json: JsonOption = False) -> None:
    """List the stored model versions, newest first."""
    from tepat.services import targeting

    versions = targeting.list_models(open_database(db_url), SYSTEM)
    if as_json:
        print_json(
            [
                {
                    "id": v.id,
                    "name": v.name,
                    "r2": v.model.r2,
                    "n": v.model.n,
                    "source_file": v.source_file,
                    "created_by": v.created_by,
                    "created_at": v.created_at.isoformat(),
                    "used": v.used,
                }
                for v in versions
            ]
        )
        return
    if not versions:
        typer.echo("Belum ada versi model. Simpan dengan: tepat pmt fit … --save")
    for v in versions:
        used = "dipakai" if v.used else "belum dipakai"
        typer.echo(
            f"{v.id:>4}  {v.name}  R² {number(v.model.r2, 3)}  n {number(v.model.n)}  {v.source_file}  {used}"
        )


@pmt_app.command("show")
def show_command(
    version: Annotated[int, typer.Argument(help="Model version id.")],
    db_url: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show one model version: coefficients, references, statistics and provenance."""
    from tepat.services import targeting

    found = targeting.get_model(open_database(db_url), SYSTEM, version)
    if as_json:
        print_json(found.as_dict())
        return
    typer.echo(f"Versi {found.id}: {found.name} (dari {found.source_file}, oleh {found.created_by})")
    if isinstance(found.model, GroupedPmtModel):
        typer.echo(f"Satu model per kelompok '{found.model.group_column}':")
        for part in found.model.models:
            _print_model(part)
    else:
        _print_model(found.model)


@pmt_app.command("evaluate")
def evaluate_command(
    version: Annotated[int, typer.Argument(help="Model version id.")],
    file: Annotated[
        Path, typer.Argument(help="Held-out survey file with the model's target, weight and features.")
    ],
    coverage: Annotated[
        str, typer.Option("--coverage", help="Coverages in percent, e.g. 10,20,40.")
    ] = "10,20,40",
    compare: Annotated[
        int | None, typer.Option("--compare", help="A second version to compare with.")
    ] = None,
    chart: Annotated[
        Path | None, typer.Option("--chart", help="Write an SVG chart of the errors here.")
    ] = None,
    db_url: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Inclusion and exclusion errors (Alatas et al. 2012) of a version on survey households."""
    from tepat.services import targeting

    db = open_database(db_url)
    ids = [version] + ([compare] if compare is not None else [])
    results, svg = targeting.compare_models(db, SYSTEM, ids, file, _coverages(coverage))
    if chart is not None:
        chart.write_text(svg, encoding="utf-8")
    if as_json:
        print_json(
            {"evaluations": [r.as_dict() for r in results]} if compare is not None else results[0].as_dict()
        )
        return
    for r in results:
        typer.echo(f"Versi {r.model_id} ({r.model_name}), {number(r.households)} rumah tangga:")
        for row in r.rows:
            typer.echo(
                f"  cakupan {number(100 * float(row['coverage']), 1):>5} %  "
                f"galat inklusi {number(float(row['inclusion_error']), 3)}  "
                f"galat eksklusi {number(float(row['exclusion_error']), 3)}"
            )


@pmt_app.command("rank")
def rank_command(
    version: Annotated[int, typer.Argument(help="Model version id.")],
    day: Annotated[
        str | None, typer.Option("--date", help="Reference date for ages (default today).")
    ] = None,
    db_url: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Score every active family with a version and assign desil 1–10 city-wide."""
    from tepat.services import registry_ranking

    result = registry_ranking.rank_registry(open_database(db_url), SYSTEM, version, reference_date=_day(day))
    if as_json:
        print_json(result.as_dict())
        return
    typer.echo(
        f"{number(result.families)} keluarga diperingkat (baru {number(result.inserted)}, "
        f"berubah {number(result.updated)}, "
        f"dihapus {number(result.deleted)}, tetap {number(result.unchanged)})."
    )
    typer.echo("Keluarga per desil: " + ", ".join(number(n) for n in result.decile_sizes))


@pmt_app.command("import-ranks")
def import_ranks_command(
    results_dir: Annotated[
        Path, typer.Argument(help="The folder tepat nasional rank wrote (with peringkat.json).")
    ],
    db_url: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Import this office's national desil as a ranking run of the same model version (stored here)."""
    from tepat.services import national_import

    imported = national_import.import_ranks(open_database(db_url), SYSTEM, results_dir)
    if as_json:
        print_json(imported.as_dict())
        return
    result = imported.ranking
    typer.echo(
        f"{number(result.families)} keluarga mendapat desil nasional (versi model {result.model_id}; baru "
        f"{number(result.inserted)}, berubah {number(result.updated)}, dihapus {number(result.deleted)}, "
        f"tetap {number(result.unchanged)})."
    )
    typer.echo("Keluarga per desil: " + ", ".join(number(n) for n in result.decile_sizes))
    typer.echo(
        f"Diubah sejak snapshot: {number(imported.changed_since_snapshot)}; tidak aktif lagi: "
        f"{number(imported.no_longer_active)}; belum diperingkat (terdaftar setelah snapshot): "
        f"{number(imported.not_ranked)}."
    )


@rules_app.command("run")
def run_command(
    expression: Annotated[str, typer.Argument(help="The rule.")],
    model: Annotated[
        int | None, typer.Option("--model", help="Model version for desil/skor (default: latest ranked).")
    ] = None,
    area: Annotated[str | None, typer.Option("--area", help="Region code, e.g. 32.76.01.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="Families to list.")] = 20,
    day: Annotated[
        str | None, typer.Option("--date", help="Reference date for ages (default today).")
    ] = None,
    db_url: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Count and list the families that satisfy a rule (set-based over the registry)."""
    from tepat.services import eligibility

    result = eligibility.eligibility(
        open_database(db_url),
        SYSTEM,
        expression,
        model_id=model,
        area_code=area,
        reference_date=_day(day),
        limit=limit,
    )
    if as_json:
        print_json(
            {
                "rule": result.rule,
                "model": result.model_id,
                "families": result.families,
                "people": result.people,
                "by_desil": result.by_desil,
                "page": result.page,
            }
        )
        return
    typer.echo(f"{number(result.families)} keluarga ({number(result.people)} jiwa) memenuhi syarat.")
    for r in result.page:
        typer.echo(
            f"  keluarga {r['id']}  {r['kelurahan_name']}  desil {r['desil'] or '–'}  {number(r['jiwa'])} jiwa"
        )


@rules_app.command("explain")
def explain_command(
    expression: Annotated[str, typer.Argument(help="The rule.")],
    family: Annotated[int, typer.Argument(help="Family id.")],
    model: Annotated[int | None, typer.Option("--model", help="Model version for desil/skor.")] = None,
    day: Annotated[
        str | None, typer.Option("--date", help="Reference date for ages (default today).")
    ] = None,
    db_url: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Explain, clause by clause, whether one family satisfies a rule."""
    from tepat.services import eligibility

    explanation = eligibility.explain_family(
        open_database(db_url), SYSTEM, expression, family, model_id=model, reference_date=_day(day)
    )
    common.tell(as_json, explanation.as_dict(), explanation.text())


def simulate_command(
    rule: Annotated[list[str], typer.Option("--rule", help="Eligibility rule; repeat to compare scenarios.")],
    amount: Annotated[int, typer.Option("--amount", help="Benefit in rupiah per unit.")],
    unit: Annotated[
        str, typer.Option("--unit", help="keluarga (per family) or jiwa (per person).")
    ] = "keluarga",
    budget: Annotated[
        int | None, typer.Option("--budget", help="Budget in rupiah; poorest first when short.")
    ] = None,
    model: Annotated[
        int | None, typer.Option("--model", help="Model version (default: latest ranked).")
    ] = None,
    survey: Annotated[
        Path | None, typer.Option("--survey", help="Survey file: report inclusion/exclusion errors.")
    ] = None,
    day: Annotated[
        str | None, typer.Option("--date", help="Reference date for ages (default today).")
    ] = None,
    beneficiaries: Annotated[
        bool, typer.Option("--list", help="Include every beneficiary in the JSON.")
    ] = False,
    db_url: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """What-if: families or people reached, total cost and coverage by kecamatan and kelurahan."""
    from tepat.services import simulation

    if unit not in ("keluarga", "jiwa"):
        fail("--unit harus keluarga atau jiwa.")
    scenarios = [
        simulation.Scenario(r, amount, simulation.Unit(unit), budget, label=f"Skenario {i + 1}")
        for i, r in enumerate(rule)
    ]
    results = simulation.compare(
        open_database(db_url), SYSTEM, scenarios, model_id=model, reference_date=_day(day), survey=survey
    )
    if as_json:
        dicts = [r.as_dict(with_beneficiaries=beneficiaries) for r in results]
        print_json(dicts[0] if len(dicts) == 1 else {"scenarios": dicts})
        return
    for r in results:
        typer.echo(f"{r.scenario.label}: {r.scenario.rule}")
        typer.echo(f"  {number(r.families)} keluarga, {number(r.people)} jiwa, total {rupiah(r.total_cost)}")
        if r.budget_short:
            typer.echo(
                f"  anggaran kurang: {number(r.eligible_families)} keluarga memenuhi syarat, "
                "dipotong mulai desil terendah"
            )
        if r.survey_errors:
            typer.echo(
                f"  survei: galat inklusi {number(100 * r.survey_errors['inclusion_error'], 1)} %, "
                f"galat eksklusi {number(100 * r.survey_errors['exclusion_error'], 1)} %"
            )
        for k in r.by_kecamatan:
            typer.echo(
                f"    {k['name']:<20} {number(k['families']):>8} keluarga  {number(100 * k['coverage'], 1):>5} %"
            )


def register(app: typer.Typer) -> None:
    """Add the ``pmt`` and ``rules`` command groups and ``simulate`` to ``app``."""
    app.command("simulate")(simulate_command)
    app.add_typer(pmt_app, name="pmt")
    app.add_typer(rules_app, name="rules")
