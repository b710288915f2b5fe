"""CLI commands for the national ranking (``tepat nasional …``): an office's snapshot, the ranking of every
office's snapshot together. An office imports its result with ``tepat pmt import-ranks``.

The work is in ``tepat.services.national_ranking``; see docs/scaling.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tepat.cli import common
from tepat.cli.common import DatabaseOption, JsonOption, open_database, print_json
from tepat.domain.access import SYSTEM
from tepat.domain.formatting import number

national_app = typer.Typer(
    help="National ranking: desil among every family of every office (snapshot, rank).", no_args_is_help=True
)


@national_app.command("snapshot")
def snapshot_command(
    out_dir: Annotated[Path, typer.Argument(help="Folder of the snapshots (shared with the centre).")],
    version: Annotated[int, typer.Option("--model", help="Model version id (tepat pmt list).")],
    day: Annotated[
        str | None, typer.Option("--date", help="Reference date for ages, YYYY-MM-DD (default today).")
    ] = None,
    db_url: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Write each office's active families with the model's features: OUT_DIR/<office>.parquet and its manifest
    <office>.json (model fingerprint, reference date, count); a province's database writes one per office."""
    from tepat.services import national_snapshots

    snapshots = national_snapshots.write_snapshots(
        open_database(db_url),
        SYSTEM,
        version,
        out_dir,
        reference_date=None if day is None else common.parse_day(day, "--date"),
    )
    if as_json:
        print_json(snapshots[0].as_dict() if len(snapshots) == 1 else [s.as_dict() for s in snapshots])
        return
    for written in snapshots:
        typer.echo(
            f"Snapshot {written.office} ({written.office_name}): {number(written.families)} keluarga, "
            f"tanggal acuan {written.reference_date.isoformat()}, model {written.model_sha256[:12]}, di {out_dir}."
        )


@national_app.command("rank")
def rank_command(
    snapshot_dir: Annotated[Path, typer.Argument(help="Folder holding every office's snapshot.")],
    out_dir: Annotated[
        Path, typer.Option("--out", help="New folder for the results (one folder per office).")
    ],
    engine: Annotated[str, typer.Option("--engine", help="polars (one machine) or spark.")] = "polars",
    offices: Annotated[
        str,
        typer.Option(
            "--offices",
            help="Comma-separated kab/kota codes that must all be present (default: those found).",
        ),
    ] = "",
    approximate: Annotated[
        bool,
        typer.Option(
            "--approximate",
            help="Spark only: desil from approxQuantile cut points (rank error ≤ 0.1 % of the families).",
        ),
    ] = False,
    master: Annotated[
        str | None,
        typer.Option(
            "--master", help="Spark master URL (default local[*]; spark://host:7077 for a cluster)."
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Rank every family of every snapshot nationally into desil 1–10 (lowest predicted welfare first)."""
    from tepat.services import national_ranking

    wanted = [code.strip() for code in offices.split(",") if code.strip()]
    result = national_ranking.rank_nationally(
        snapshot_dir, out_dir, engine=engine, offices=wanted, approximate=approximate, master=master
    )
    if as_json:
        print_json(result.as_dict())
        return
    typer.echo(
        f"{number(result.families)} keluarga dari {len(result.offices)} kantor diperingkat secara nasional "
        f"({result.engine}, {'perkiraan' if result.method == 'approximate' else 'tepat'}) "
        f"dalam {number(result.seconds, 1)} detik; hasil di {out_dir}."
    )
    typer.echo("Keluarga per desil: " + ", ".join(number(n) for n in result.decile_sizes))


def register(app: typer.Typer) -> None:
    """Add the ``nasional`` command group to ``app``."""
    app.add_typer(national_app, name="nasional")
