"""CLI commands for targeting: ``tepat pmt fit`` (proxy-means model) and ``tepat rules check``.

Fitting here reads a survey file and prints the model; storing it as a model
version belongs to the targeting service and comes with it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from tepat.cli.common import JsonOption, fail, print_json
from tepat.domain.households import FAMILY_FIELDS
from tepat.domain.rules import RuleError, parse_rule
from tepat.domain.welfare import PmtModel, fit_pmt, fit_pmt_by_group
from tepat.files.survey_frames import read_survey_columns

CODED_COLUMNS = frozenset(f.column for f in FAMILY_FIELDS if f.kind == "enum")
"""Canonical registry columns holding codes: always categorical, even when the codes look like numbers."""

pmt_app = typer.Typer(help="Proxy-means test (PMT): fit a welfare model on survey data.", no_args_is_help=True)
rules_app = typer.Typer(help="Eligibility rules: check a rule.", no_args_is_help=True)


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
    typer.echo(f"{title}n = {model.n} rumah tangga ({model.dropped} dilewati), R² = {model.r2:.4f}")
    width = max(len(name) for name in model.coefficient_names)
    for name, value in model.coefficients.items():
        typer.echo(f"  {name:<{width}}  {value:>12.6f}")


@pmt_app.command("fit")
def fit_command(
    file: Annotated[Path, typer.Argument(help="Survey file (CSV, XLSX or Parquet), one row per household.")],
    target: Annotated[str, typer.Option("--target", help="Column of per-capita consumption (the log is taken).")],
    features: Annotated[str, typer.Option("--features", help="Comma-separated feature columns.")],
    weight: Annotated[str | None, typer.Option("--weight", help="Column of survey weights.")] = None,
    reference: Annotated[
        list[str] | None, typer.Option("--reference", help="Reference level of a categorical feature: feature=level.")
    ] = None,
    categorical: Annotated[
        str | None, typer.Option("--categorical", help="Comma-separated features to treat as categories.")
    ] = None,
    group: Annotated[str | None, typer.Option("--group", help="Column: fit one model per value of it.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Fit ln(per-capita consumption) on household indicators by weighted least squares."""
    names = _split(features)
    if not names:
        fail("--features tidak boleh kosong.")
    references = _references(reference)
    coded = {n for n in names if n in CODED_COLUMNS} | set(_split(categorical)) | set(references)
    wanted = [target, *names] + ([weight] if weight else []) + ([group] if group else [])
    columns = read_survey_columns(file, wanted, text_columns=sorted(coded | ({group} if group else set())))
    options: dict[str, Any] = {"target": target, "features": names, "weight": weight, "categorical": coded,
                               "reference": references}
    if group:
        grouped = fit_pmt_by_group(columns, group_column=group, **options)
        if as_json:
            print_json({"group_column": group, "groups": {m.group: model_summary(m) for m in grouped.models}})
        else:
            for model in grouped.models:
                _print_model(model)
        return
    model = fit_pmt(columns, **options)
    if as_json:
        print_json(model_summary(model))
    else:
        _print_model(model)


@rules_app.command("check")
def check_command(
    expression: Annotated[str, typer.Argument(help='The rule, e.g. \'desil <= 4 and status == "aktif"\'.')],
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
    if as_json:
        print_json({"valid": True, "fields": sorted(rule.fields())})
    else:
        typer.echo(f"Aturan valid. Data yang dipakai: {', '.join(sorted(rule.fields()))}.")


def register(app: typer.Typer) -> None:
    """Add the ``pmt`` and ``rules`` command groups to ``app``."""
    app.add_typer(pmt_app, name="pmt")
    app.add_typer(rules_app, name="rules")
