"""CLI commands: ``tepat duplikat cari|daftar|putus`` (the duplicate search and its review queue, issue 15)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from tepat.cli import common
from tepat.cli.common import AsOption, DatabaseOption, JsonOption, open_database, print_json
from tepat.domain.formatting import number
from tepat.domain.linkage import PairDecision
from tepat.services import duplicates, merges

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
    common.tell(
        as_json,
        result.as_dict(),
        f"{number(result.records)} anggota dibandingkan; {number(result.pairs)} pasangan di atas ambang "
        f"({result.counts['baru']} baru, {result.counts['diperbarui']} ditanya lagi karena data berubah, "
        f"{result.counts['tetap']} sudah diputuskan).",
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
            f"#{p['id']}  peluang {number(100 * p['peluang'], 1)}%  {p['kiri']['name']} ({p['kiri']['nik']})  ~  "
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


NoteOption = Annotated[
    str, typer.Option("--catatan", help="Why (at least 5 letters; recorded with the change).")
]


@duplicates_app.command("gabung")
def merge(
    pair_id: Annotated[int, typer.Argument(help="A pair decided `sama`.")],
    keep: Annotated[
        int, typer.Option("--simpan", help="Member id of the record that stays (one of the pair).")
    ],
    user: AsOption,
    note: NoteOption = "",
    db_url: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Merge a pair decided `sama`: the other record becomes nonaktif / duplikat (its family too when it was
    alone), its unpaid entitlements blocked; a record ever paid waits for `tepat duplikat setujui`."""
    db = open_database(db_url)
    result = merges.propose(db, common.acting(db, user), pair_id, keep, note)
    if as_json:
        print_json(result.as_dict())
        return
    if result.state == merges.PROPOSED:
        typer.echo(
            f"Penggabungan #{result.merge_id} diajukan: data pernah dibayar, perlu persetujuan orang lain."
        )
    else:
        typer.echo(f"Penggabungan #{result.merge_id} berlaku; {result.blocked} hak belum dibayar diblokir.")


@duplicates_app.command("setujui")
def approve(
    merge_id: Annotated[int, typer.Argument(help="A merge waiting for approval.")],
    user: AsOption,
    db_url: DatabaseOption = None,
) -> None:
    """Approve a merge that touches a paid entitlement (someone other than who asked, who oversees the area)."""
    db = open_database(db_url)
    result = merges.approve(db, common.acting(db, user), merge_id)
    typer.echo(f"Penggabungan #{merge_id} berlaku; {result.blocked} hak belum dibayar diblokir.")


@duplicates_app.command("batal-gabung")
def undo(
    merge_id: Annotated[int, typer.Argument(help="A merge in force.")],
    user: AsOption,
    note: NoteOption = "",
    db_url: DatabaseOption = None,
) -> None:
    """Undo a merge: both records active again, the pair back in the queue (blocked entitlements stay blocked)."""
    db = open_database(db_url)
    merges.undo(db, common.acting(db, user), merge_id, note)
    typer.echo(f"Penggabungan #{merge_id} dibatalkan; kedua data aktif kembali.")


def register(app: typer.Typer) -> None:
    app.add_typer(duplicates_app, name="duplikat")
