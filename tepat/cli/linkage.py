"""CLI commands ``tepat dedup`` and ``tepat link``: record linkage of person lists, file in, file out (issue 15).

``tepat dedup FILE --id COLUMN --out PAIRS.csv`` finds the same person twice in one list, ``tepat link LEFT
RIGHT --id-left A --id-right B --out PAIRS.csv`` the same person in two lists; both work on any person list, not
only tepat's own. ``tepat dedup registry`` runs the registry's duplicate search that fills the *Duplikat* review
queue (``tepat duplikat``).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Annotated

import polars as pl
import typer

from tepat.cli import common
from tepat.cli.common import DatabaseOption, JsonOption, open_database, print_json
from tepat.domain.access import system_actor
from tepat.domain.formatting import number
from tepat.errors import ValidationError
from tepat.files.person_lists import PersonList, load_link_mapping, read_person_list
from tepat.services import duplicates, record_linkage, registry_linkage
from tepat.services.office import requested_area
from tepat.services.record_linkage import LinkResult
from tepat.store.database import Database

REGISTRY = "registry"

MappingOption = Annotated[
    Path | None,
    typer.Option(
        "--mapping",
        help="Column-mapping file (.toml): [columns], [combine] and [formats], as for the import.",
        show_default=False,
    ),
]
OutOption = Annotated[
    Path | None, typer.Option("--out", help="Where to write the pairs (CSV).", show_default=False)
]
ThresholdOption = Annotated[
    float,
    typer.Option(
        "--threshold",
        help="Lowest match probability written (default 0.5: more likely one person than two).",
    ),
]
EngineOption = Annotated[
    str, typer.Option("--engine", help="duckdb (in this process) or spark (local mode, or --spark-master).")
]
MasterOption = Annotated[
    str | None,
    typer.Option(
        "--spark-master",
        help="Spark master URL, e.g. spark://host:7077 (default local[*]; implies --engine spark).",
        show_default=False,
    ),
]


def _write_csv(frame: pl.DataFrame, out: Path) -> None:
    """Write ``frame`` to ``out`` whole or not at all (a temporary file beside it, then renamed)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    os.close(handle)
    try:
        frame.write_csv(temporary, float_precision=6)
        os.replace(temporary, out)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def _report(result: LinkResult, out: Path, as_json: bool) -> None:
    common.tell(
        as_json,
        {**result.summary(), "out": str(out)},
        f"{number(result.records)} catatan; {number(result.compared)} pasangan dibandingkan; "
        f"{number(result.pairs.height)} pasangan dengan peluang ≥ {number(result.threshold, 2)} "
        f"({number(result.clusters)} kelompok) ditulis ke {out}, {result.seconds:.1f} detik.",
    )


AreaOption = Annotated[
    str | None,
    typer.Option(
        "--area",
        help=f"With '{REGISTRY}': the region of the registry (default the whole office).",
        show_default=False,
    ),
]


def _office_area(db: Database, area: str | None) -> str:
    """``--area`` checked against the office (default: the whole office)."""
    return requested_area(db, common.office_actor(db), area)


def _link_registry(
    people: PersonList,
    area: str | None,
    threshold: float,
    out: Path,
    per_row: Path | None,
    db_url: str | None,
    as_json: bool,
) -> None:
    db = open_database(db_url)
    code = _office_area(db, area)
    linked = registry_linkage.link_to_registry(db, system_actor(code), people, threshold=threshold, area=code)
    _write_csv(linked.pairs, out)
    if per_row is not None:
        _write_csv(linked.rows, per_row)
    if as_json:
        print_json({**linked.summary, **linked.counts(), "out": str(out)})
        return
    counts = linked.counts()
    typer.echo(
        f"{number(people.frame.height)} catatan {people.name}: {number(counts['cocok'])} cocok, "
        f"{number(counts['beberapa kandidat'])} beberapa kandidat, {number(counts['tidak ada'])} tidak ada di "
        f"registri {code}; ditulis ke {out}."
    )


def _engine(engine: str, master: str | None) -> str:
    return "spark" if master else engine


def dedup(
    source: Annotated[str, typer.Argument(help=f"A person list (CSV, XLSX, Parquet), or '{REGISTRY}'.")],
    id_column: Annotated[
        str | None, typer.Option("--id", help="The list's id column.", show_default=False)
    ] = None,
    mapping: MappingOption = None,
    out: OutOption = None,
    threshold: ThresholdOption = record_linkage.DEFAULT_THRESHOLD,
    engine: EngineOption = "duckdb",
    master: MasterOption = None,
    area: AreaOption = None,
    db_url: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Find the same person twice in one list; writes PAIRS.csv (id_a,id_b,probability; id_a < id_b).

    ``tepat dedup registry`` instead searches the registry's active members (of --area) and fills the review
    queue of the Duplikat page.
    """
    if source == REGISTRY and not Path(source).exists():
        _registry(area, db_url, as_json)
        return
    if not id_column or out is None:
        raise ValidationError(
            "Sebutkan kolom id dengan --id KOLOM dan berkas hasil dengan --out PASANGAN.csv."
        )
    people = read_person_list(source, id_column, load_link_mapping(mapping), minimum=2)
    result = record_linkage.deduplicate(
        people, threshold=threshold, engine=_engine(engine, master), master=master
    )
    _write_csv(result.pairs, out)
    _report(result, out, as_json)


def _registry(area: str | None, db_url: str | None, as_json: bool) -> None:
    db = open_database(db_url)
    code = _office_area(db, area)
    result = duplicates.search(db, system_actor(code), threshold=duplicates.DEFAULT_THRESHOLD)
    common.tell(
        as_json,
        result.as_dict(),
        f"{number(result.records)} anggota dibandingkan; {number(result.pairs)} pasangan di atas ambang "
        f"({result.counts['baru']} baru) masuk antrean Duplikat.",
    )


def link(
    left: Annotated[Path, typer.Argument(help="The first person list (CSV, XLSX, Parquet).")],
    right: Annotated[Path, typer.Argument(help=f"The second person list, or '{REGISTRY}'.")],
    id_left: Annotated[str, typer.Option("--id-left", help="The first list's id column.")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the pairs (CSV).")],
    id_right: Annotated[
        str | None,
        typer.Option(
            "--id-right", help=f"The second list's id column (not with '{REGISTRY}').", show_default=False
        ),
    ] = None,
    mapping: MappingOption = None,
    threshold: ThresholdOption = record_linkage.DEFAULT_THRESHOLD,
    per_row: Annotated[
        Path | None,
        typer.Option(
            "--per-row",
            help="Also write, for every record of LEFT: cocok / beberapa kandidat / tidak ada, with its best match.",
            show_default=False,
        ),
    ] = None,
    engine: EngineOption = "duckdb",
    master: MasterOption = None,
    area: AreaOption = None,
    db_url: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Find the same person in two lists; writes PAIRS.csv (id_a from LEFT, id_b from RIGHT, probability).

    ``tepat link LIST registry --id-left COLUMN`` links the list to the registry's active people (of --area):
    id_b is the person's NIK, and --per-row gives each record's match with its name, birth date, KK and kelurahan.
    """
    columns = load_link_mapping(mapping)
    first = read_person_list(left, id_left, columns)
    if str(right) == REGISTRY and not right.exists():
        _link_registry(first, area, threshold, out, per_row, db_url, as_json)
        return
    if not id_right:
        raise ValidationError("Sebutkan kolom id daftar kedua dengan --id-right KOLOM.")
    second = read_person_list(right, id_right, columns)
    result = record_linkage.link(
        first, second, threshold=threshold, engine=_engine(engine, master), master=master
    )
    _write_csv(result.pairs, out)
    if per_row is not None:
        _write_csv(record_linkage.per_row(first, result.pairs), per_row)
    _report(result, out, as_json)


def register(app: typer.Typer) -> None:
    app.command("dedup")(dedup)
    app.command("link")(link)
