"""``tepat synth``: write the synthetic city (registry, truth, survey, messy files)."""

from __future__ import annotations

from dataclasses import replace
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from tepat.cli.common import JsonOption, print_json
from tepat.domain.formatting import number as _angka
from tepat.synth.geography import SYNTH_CITY_NAME


class FileFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"
    PARQUET = "parquet"


def synth(
    out: Annotated[Path, typer.Option("--out", help="Directory to write into (created if missing).")],
    families: Annotated[
        int, typer.Option("--families", help=f"Number of families ({SYNTH_CITY_NAME} has ~800,000).", min=1)
    ] = 20_000,
    seed: Annotated[
        int, typer.Option("--seed", help="Random seed: the same seed gives the same files.")
    ] = 2024,
    fmt: Annotated[
        FileFormat, typer.Option("--format", help="Registry file format.", case_sensitive=False)
    ] = (FileFormat.CSV),
    survey_households: Annotated[
        int,
        typer.Option(
            "--survey-households",
            help="Households in the Susenas-like sample (10 per PSU, at least 2 PSUs per kecamatan).",
            min=10,
        ),
    ] = 800,
    messy: Annotated[
        bool, typer.Option("--messy", help="Also write files with real-world problems to OUT/messy.")
    ] = False,
    duplicates: Annotated[
        float,
        typer.Option(
            "--duplicates",
            help="Plant this share of people a second time (e.g. 0.01), as registries have them: another spelling "
            "of the name, NIK digits swapped, day and month swapped, in two KK, moved kelurahan; the pairs go "
            "to duplicates.csv.",
            min=0.0,
        ),
    ] = 0.0,
    offices: Annotated[
        str,
        typer.Option(
            "--offices",
            help="Several kabupaten/kota for one province's database, e.g. 32.75,32.76: each gets OUT/<code>/ with "
            "its registry and truth (--families each, NIKs that never collide across them); survey.csv once.",
        ),
    ] = "",
    as_json: JsonOption = False,
) -> None:
    """Write the synthetic city: registry.<format>, truth.parquet, survey.csv (and messy/ files)."""
    from tepat.synth import generate_registry, generate_survey, write_messy_files, write_registry, write_truth

    out.mkdir(parents=True, exist_ok=True)
    if offices.strip():
        _synth_offices(
            out,
            [c.strip() for c in offices.split(",") if c.strip()],
            families,
            seed,
            fmt,
            survey_households,
            messy=messy,
            duplicates=duplicates,
            as_json=as_json,
        )
        return
    registry = generate_registry(families, seed=seed)
    planted = None
    if duplicates > 0:
        from tepat.synth.duplicates import plant_duplicates

        members, planted = plant_duplicates(registry.members, duplicates, seed)
        registry = replace(registry, members=members)
    written = [
        write_registry(registry, out / f"registry.{fmt.value}"),
        write_truth(registry, out / "truth.parquet"),
    ]
    survey = generate_survey(households=survey_households, seed=seed)
    survey_path = out / "survey.csv"
    survey.write_csv(survey_path)
    written.append(survey_path)
    if planted is not None:
        planted.write_csv(out / "duplicates.csv")
        written.append(out / "duplicates.csv")
    if messy:
        written.extend(write_messy_files(out / "messy", seed=seed))
    summary = registry.summary()
    if as_json:
        print_json(
            {
                **summary,
                "rumah_tangga_survei": survey.height,
                "duplikat_ditanam": 0 if planted is None else planted.height,
                "berkas": [str(p) for p in written],
            }
        )
        return
    typer.echo(f"{SYNTH_CITY_NAME} sintetis (seed {seed}):")
    typer.echo(f"  keluarga: {_angka(summary['keluarga'])}")
    typer.echo(f"  jiwa: {_angka(summary['jiwa'])}")
    typer.echo(f"  rata-rata anggota keluarga: {_angka(summary['rata_rata_anggota'], 2)}")
    typer.echo(f"  penduduk di bawah garis kemiskinan (Rp842.927): {_angka(summary['persen_miskin'], 2)} %")
    typer.echo(f"  rumah tangga survei: {_angka(survey.height)}")
    if planted is not None:
        typer.echo(f"  duplikat ditanam: {_angka(planted.height)} (kebenaran di duplicates.csv)")
    typer.echo("Berkas:")
    for path in written:
        typer.echo(f"  {path}")


def _synth_offices(
    out: Path,
    codes: list[str],
    families: int,
    seed: int,
    fmt: FileFormat,
    survey_households: int,
    *,
    messy: bool,
    duplicates: float,
    as_json: bool,
) -> None:
    """One synthetic registry per office, NIK serials in disjoint bands (``tepat synth --offices``)."""
    from tepat.cli.common import fail
    from tepat.synth import generate_registry, generate_survey, write_registry, write_truth
    from tepat.synth.geography import geography

    if messy or duplicates > 0:
        fail("--messy dan --duplicates berlaku untuk satu kota, bukan bersama --offices.")
    if len(set(codes)) != len(codes):
        fail("Kode kantor di --offices ada yang ganda.")
    for code in codes:
        geography(code)  # every code checked before anything is written
    step = 9_998 // len(codes)
    made = []
    for i, code in enumerate(codes):
        band = (1 + i * step, 1 + (i + 1) * step)
        registry = generate_registry(families, seed=seed + i, city=code, serial_band=band)
        folder = out / code
        folder.mkdir(parents=True, exist_ok=True)
        paths = [
            write_registry(registry, folder / f"registry.{fmt.value}"),
            write_truth(registry, folder / "truth.parquet"),
        ]
        made.append((code, registry.summary(), paths))
    survey = generate_survey(households=survey_households, seed=seed)
    survey.write_csv(out / "survey.csv")
    if as_json:
        print_json(
            {
                "kantor": [
                    {"kode": code, **summary, "berkas": [str(p) for p in paths]}
                    for code, summary, paths in made
                ],
                "survei": str(out / "survey.csv"),
            }
        )
        return
    for code, summary, paths in made:
        typer.echo(
            f"{code}: {_angka(summary['keluarga'])} keluarga, {_angka(summary['jiwa'])} jiwa → {paths[0]}"
        )
    typer.echo(f"Survei: {out / 'survey.csv'} ({_angka(survey.height)} rumah tangga)")


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command("synth")(synth)
