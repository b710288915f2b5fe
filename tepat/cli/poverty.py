"""``tepat poverty``: FGT estimates from survey files, BPS rankings and trends, charts and the PDF report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tepat.charts.svg import number
from tepat.cli.common import DatabaseOption, JsonOption, open_database, print_json, settings
from tepat.domain.access import SYSTEM
from tepat.domain.formatting import rupiah
from tepat.domain.poverty import LonelyPsu
from tepat.domain.poverty_line import KCAL_PER_DAY
from tepat.errors import ValidationError
from tepat.services import poverty_line, statistics, survey_estimates

poverty_app = typer.Typer(
    help="Poverty statistics (BPS method): FGT estimates, rankings, charts.", no_args_is_help=True
)


@poverty_app.command("estimate")
def estimate(
    file: Annotated[Path, typer.Argument(help="Survey microdata: CSV, XLSX or Parquet.")],
    consumption: Annotated[
        str, typer.Option("--consumption", help="Column of per-capita monthly consumption (rupiah).")
    ],
    weight: Annotated[str, typer.Option("--weight", help="Column of the household (or person) weight.")],
    line: Annotated[
        float | None, typer.Option("--line", help="Poverty line in rupiah per capita per month.")
    ] = None,
    line_col: Annotated[
        str | None, typer.Option("--line-col", help="Column holding each row's poverty line.")
    ] = None,
    line_from: Annotated[
        Path | None,
        typer.Option("--line-from", help="Food basket file: compute the line (see `poverty line`)."),
    ] = None,
    non_food_share: Annotated[
        float | None,
        typer.Option("--non-food-share", help="With --line-from: non-food share of the line (0-1)."),
    ] = None,
    non_food: Annotated[
        int | None, typer.Option("--non-food", help="With --line-from: non-food line in rupiah.")
    ] = None,
    strata: Annotated[str | None, typer.Option("--strata", help="Column of the stratum.")] = None,
    psu: Annotated[
        str | None, typer.Option("--psu", help="Column of the PSU (census block), nested in strata.")
    ] = None,
    size: Annotated[
        str | None, typer.Option("--size", help="Column of household size: weights persons (weight x size).")
    ] = None,
    by: Annotated[
        str | None, typer.Option("--by", help="Column of the domain (kecamatan, urban/rural, ...).")
    ] = None,
    household_total: Annotated[
        bool,
        typer.Option("--household-total", help="--consumption is the household total: divide by --size."),
    ] = False,
    lonely_psu: Annotated[
        LonelyPsu,
        typer.Option("--lonely-psu", help="Single-PSU strata, as R survey.lonely.psu.", case_sensitive=False),
    ] = LonelyPsu.ADJUST,
    as_json: JsonOption = False,
) -> None:
    """P0, P1, P2 (x100), number of poor, SE, design effect, 95 % CI: overall and by domain."""
    computed = None
    if line_from is not None:
        if line is not None:
            raise ValidationError("Isi salah satu: --line atau --line-from.")
        computed = poverty_line.poverty_line_from_basket(
            line_from, non_food_share=non_food_share, non_food=non_food
        )
        line = float(computed.line.total)
    request = survey_estimates.EstimateRequest(
        consumption=consumption,
        weight=weight,
        line=line,
        line_column=line_col,
        size=size,
        strata=strata,
        psu=psu,
        by=by,
        household_total=household_total,
        lonely_psu=lonely_psu,
    )
    estimates = survey_estimates.estimate_file(file, request)
    if as_json:
        print_json(
            {
                "estimates": [e.as_dict() for e in estimates],
                "lonely_psu": lonely_psu.value,
                **({"poverty_line": computed.as_dict()} if computed else {}),
            }
        )
        return
    if computed is not None:
        typer.echo(
            f"Garis kemiskinan dari {line_from.name if line_from else ''}: {rupiah(computed.line.total)} "
            f"(makanan {rupiah(computed.line.food)}, non-makanan {rupiah(computed.line.non_food)})."
        )
    typer.echo(
        f"{'Domain':<24} {'n':>7} {'P0':>7} {'SE':>6} {'P1':>6} {'SE':>6} {'P2':>6} {'SE':>6} {'Penduduk miskin':>16}"
    )
    for e in estimates:
        name = "Semua" if e.domain is None else e.domain
        typer.echo(
            f"{name[:24]:<24} {e.n:>7} {number(e.p0):>7} {number(e.se_p0):>6} {number(e.p1):>6} {number(e.se_p1):>6} "
            f"{number(e.p2):>6} {number(e.se_p2):>6} {number(e.poor, 0):>16}"
        )
    typer.echo("P0, P1, P2 dalam persen (x100); SE linearisasi Taylor, PSU dengan pengembalian dalam strata.")


@poverty_app.command("line")
def line_command(
    basket: Annotated[
        Path, typer.Argument(help="Food basket: komoditas, jumlah, kalori, harga (CSV, XLSX, Parquet).")
    ],
    non_food_share: Annotated[
        float | None,
        typer.Option("--non-food-share", help="Non-food share of the poverty line (0-1), e.g. 0.26."),
    ] = None,
    non_food: Annotated[
        int | None, typer.Option("--non-food", help="Non-food line in rupiah per capita.")
    ] = None,
    kcal: Annotated[float, typer.Option("--kcal", help="Calorie norm per capita per day.")] = KCAL_PER_DAY,
    as_json: JsonOption = False,
) -> None:
    """The poverty line (GK) the BPS way: the food basket scaled to 2,100 kcal, valued, plus the non-food line."""
    report = poverty_line.poverty_line_from_basket(
        basket, non_food_share=non_food_share, non_food=non_food, kcal_per_day=kcal
    )
    if as_json:
        print_json(report.as_dict())
        return
    food = report.food
    typer.echo(
        f"Paket {basket.name}: {number(food.kcal_before, 0)} kkal/kapita/hari, diskalakan x{number(food.scale, 3)} "
        f"ke {number(food.kcal_per_day, 0)} kkal."
    )
    typer.echo(f"{'Komoditas':<24} {'Jumlah/bln':>11} {'kkal/hari':>10} {'Harga':>12} {'Biaya/bln':>13}")
    for i in food.items:
        typer.echo(
            f"{i.item.name[:24]:<24} {number(i.quantity, 2):>11} {number(i.kcal_per_day, 0):>10} "
            f"{rupiah(round(i.item.price)):>12} {rupiah(round(i.cost)):>13}"
        )
    line = report.line
    typer.echo(f"Garis kemiskinan makanan (GKM):      {rupiah(line.food):>14}")
    typer.echo(f"Garis kemiskinan non-makanan (GKNM): {rupiah(line.non_food):>14}")
    typer.echo(
        f"Garis kemiskinan (GK):               {rupiah(line.total):>14}  "
        f"(porsi makanan {number(100 * line.food_share, 1)} %)"
    )


@poverty_app.command("ranking")
def ranking(
    year: Annotated[
        int | None, typer.Option("--year", help="Year of the BPS figures (default: the latest).")
    ] = None,
    db_url: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Rank the kabupaten/kota of the office's province by P0, lowest first, with the change on the year."""
    office = open_database(db_url).offices.primary
    result = statistics.ranking(settings(db_url), office, year)
    if as_json:
        print_json(result.as_dict())
        return
    typer.echo(f"P0 kabupaten/kota di {result.province_name}, {result.year} (peringkat 1 = terendah)")
    for p in result.places:
        change = "" if p.change is None else f"  ({'+' if p.change > 0 else ''}{number(p.change)})"
        typer.echo(f"{p.rank:>3}. {p.name:<22} {number(p.p0):>6} %{change}")
    typer.echo(statistics.city_place_sentence(result, office.code))


@poverty_app.command("trend")
def trend(db_url: DatabaseOption = None, as_json: JsonOption = False) -> None:
    """The office's kabupaten/kota P0 by year with the change on the year."""
    office = open_database(db_url).offices.primary
    points = statistics.city_trend(settings(db_url), office)
    if as_json:
        print_json({"code": office.code, "name": office.name, "points": [p.as_dict() for p in points]})
        return
    for p in points:
        change = "" if p.change is None else f"  ({'+' if p.change > 0 else ''}{number(p.change)})"
        typer.echo(f"{p.year}  {number(p.p0):>6} %{change}")


@poverty_app.command("import-bps")
def import_bps(
    file: Annotated[Path, typer.Argument(help="CSV of BPS figures (columns tahun or p0_persen_<year>).")],
    db_url: DatabaseOption = None,
) -> None:
    """Store newer BPS figures (any year, any kabupaten/kota) next to the shipped ones."""
    db = open_database(db_url)
    result = statistics.import_bps(db, SYSTEM, settings(db_url), file)
    years = ", ".join(map(str, result.years))
    typer.echo(f"{result.rows} angka BPS disimpan ({result.regions} wilayah, tahun {years}).")


@poverty_app.command("chart")
def chart(
    name: Annotated[
        str, typer.Argument(help="peringkat, tren, peta-provinsi, peta-kelurahan or peta-kecamatan.")
    ],
    out: Annotated[Path, typer.Option("--out", help="Output file: .svg or .png.")],
    year: Annotated[int | None, typer.Option("--year")] = None,
    db_url: DatabaseOption = None,
) -> None:
    """Write one dashboard chart as SVG or PNG."""
    if out.suffix.lower() not in (".svg", ".png"):
        raise ValidationError("Berkas keluaran harus .svg atau .png.")
    db = open_database(db_url)
    svg = statistics.chart_svg(name, db, SYSTEM, settings(db_url), year)
    if out.suffix.lower() == ".svg":
        out.write_text(svg, encoding="utf-8")
    else:
        from tepat.charts.export import to_png

        out.write_bytes(to_png(svg))
    typer.echo(f"Grafik {name} ditulis ke {out}.")


@poverty_app.command("report")
def report(
    out: Annotated[Path, typer.Option("--out", help="Output PDF file.")],
    year: Annotated[int | None, typer.Option("--year")] = None,
    db_url: DatabaseOption = None,
) -> None:
    """Write the PDF report: ranking, trend, maps, registry table (aggregates only)."""
    db = open_database(db_url)
    out.write_bytes(statistics.report(db, SYSTEM, settings(db_url), year))
    typer.echo(f"Laporan ditulis ke {out}.")


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.add_typer(poverty_app, name="poverty")
