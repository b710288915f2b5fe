"""CLI commands: ``tepat duplikat cari|daftar|putus`` (the duplicate search and its review queue, issue 15)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from tepat.cli import common
from tepat.cli.common import AsOption, DatabaseOption, JsonOption, open_database, print_json
from tepat.domain.formatting import number
from tepat.domain.linkage import PairDecision
from tepat.services import duplicates

duplicates_app = typer.Typer(
    help="Duplicate search: the same person registered twice, found by probabilistic record linkage.",
    no_args_is_help=True,
)
_DECISIONS = ", ".join(d.value for d in PairDecision if d is not PairDecision.BELUM)


@duplicates_app.command("cari")
def search(
    user: AsOption,
    threshold: Annotated[
        float, typer.Option("--threshold", help="Lowest match probability put in the queue (0.5 to below 1).")
    ] = duplicates.DEFAULT_THRESHOLD,
    db_url: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Fit the linkage model on the account's area and put the likely duplicates in the review queue."""
    db = open_database(db_url)
    result = duplicates.search(db, common.acting(db, user), threshold=threshold)
    if as_json:
        print_json(result.as_dict())
        return
    typer.echo(
        f"{number(result.records)} anggota dibandingkan; {number(result.pairs)} pasangan di atas ambang "
        f"({result.counts['baru']} baru, {result.counts['diperbarui']} ditanya lagi karena data berubah, "
        f"{result.counts['tetap']} sudah diputuskan)."
    )


def _row(pair: dict[str, Any]) -> dict[str, Any]:
    sides = {
        side: {
            k: pair[f"{k}_{side}"] for k in ("member", "nik", "name", "birth_date", "sex", "kk", "kelurahan")
        }
        for side in ("l", "r")
    }
    return {
        "id": pair["id"],
        "peluang": round(pair["match_probability"], 6),
        "bobot": round(pair["match_weight"], 3),
        "keputusan": pair["decision"],
        "kiri": sides["l"],
        "kanan": sides["r"],
        "bukti": {e.field: e.weight for e in duplicates.evidence_of(pair)},
    }


@duplicates_app.command("daftar")
def list_(
    user: AsOption,
    decision: Annotated[
        str, typer.Option("--keputusan", help="belum (default), sama, berbeda, kunjungan or semua.")
    ] = "belum",
    limit: Annotated[int, typer.Option("--limit", help="At most this many pairs.")] = 50,
    db_url: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """The review queue: pairs in the account's area, most probable first, with each field's evidence."""
    db = open_database(db_url)
    chosen = None if decision == "semua" else _decision(decision)
    found = [_row(p) for p in duplicates.queue(db, common.acting(db, user), decision=chosen, limit=limit)]
    if as_json:
        print_json(found)
        return
    for p in found:
        evidence = ", ".join(f"{field} {weight:+.1f}" for field, weight in p["bukti"].items())
        typer.echo(
            f"#{p['id']}  {p['peluang']:.4f}  {p['kiri']['name']} ({p['kiri']['nik']})  ~  "
            f"{p['kanan']['name']} ({p['kanan']['nik']})  [{evidence}]"
        )


def _decision(text: str) -> PairDecision:
    try:
        return PairDecision(text.strip().lower())
    except ValueError:
        common.fail(f"Keputusan harus salah satu dari: belum, {_DECISIONS}.")
        raise


@duplicates_app.command("putus")
def decide(
    pair_id: Annotated[int, typer.Argument(help="Pair id (from `tepat duplikat daftar`).")],
    decision: Annotated[str, typer.Argument(help=f"One of: {_DECISIONS}.")],
    user: AsOption,
    note: Annotated[str, typer.Option("--catatan", help="Why (shown with the decision).")] = "",
    db_url: DatabaseOption = None,
) -> None:
    """Decide a pair: the same person, two people (not asked again while both records stay as they are), or a
    field visit needed."""
    db = open_database(db_url)
    duplicates.decide(db, common.acting(db, user), pair_id, _decision(decision), note)
    typer.echo(f"Pasangan #{pair_id}: {_decision(decision).label}.")


def register(app: typer.Typer) -> None:
    app.add_typer(duplicates_app, name="duplikat")
